"""services.version_files: what of an upload is kept and served, and the drawn-diagram cache."""
from __future__ import annotations

from bpmn import lint
from services import version_files
from services.version_files import _DiagramCache
from tests import hostile_uploads as hostile


def test_only_a_readable_upload_is_kept():
    clean = hostile.lint_clean_with_script("x")
    failing = hostile.policy_failing_with_script("x")
    for data, kept in ((clean, True), (failing, True), (hostile.xhtml_page("x"), False),
                       (hostile.entity_bomb(), False), (b"\x00\x01 binary", False)):
        report = lint(data, authority="chu_tich_ubnd_tinh")
        assert (version_files.kept_bytes(report, data) == data) is kept, report.codes()
        assert (version_files.kept_bytes(report, data) == b"") is (not kept)


def test_the_cache_keeps_to_its_budget_least_recent_out_first():
    cache = _DiagramCache(budget=10)
    cache.put((1, "a"), b"1234")
    cache.put((2, "b"), b"5678")
    assert cache.get((1, "a")) == b"1234"  # now the most recent
    cache.put((3, "c"), b"90ab")           # over budget: (2, "b") goes
    assert cache.get((2, "b")) is None and cache.get((1, "a")) == b"1234" and cache.get((3, "c")) == b"90ab"
    assert cache.size <= 10
    cache.put((4, "d"), b"x" * 11)         # larger than the whole budget: not cached, nothing evicted
    assert cache.get((4, "d")) is None and cache.size == 8
