"""runtime_for: one parse per version per process, shared safely by threads."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from engine.runtime import EngineError, ProcedureRuntime, clear_cache, runtime_for, set_cache_size
from engine.runtime.cache import DEFAULT_SIZE, cached_keys
from tests.unit.engine.test_runtime_library import CD, CL, DP, cd_plan, dp_plan, drive


@pytest.fixture(autouse=True)
def empty_cache():
    clear_cache()
    yield
    set_cache_size(DEFAULT_SIZE)
    clear_cache()


class Loader:
    def __init__(self, data: bytes, delay: threading.Event | None = None) -> None:
        self.data, self.calls, self.delay = data, 0, delay
        self.lock = threading.Lock()
        self.started = threading.Event()
        self.finished = False

    def __call__(self) -> bytes:
        with self.lock:
            self.calls += 1
        self.started.set()
        if self.delay is not None:
            self.delay.wait(5)
        self.finished = True
        return self.data


def test_same_key_same_runtime_loaded_once():
    loader = Loader(CD.read_bytes())
    first = runtime_for("version:1:abc", loader)
    assert runtime_for("version:1:abc", loader) is first and loader.calls == 1
    assert isinstance(first, ProcedureRuntime)
    other = runtime_for("version:2:def", Loader(CD.read_bytes()))
    assert other is not first and other.spec_fingerprint() == first.spec_fingerprint()
    # one parse per version: states move between runtimes of the same BPMN
    assert other.load(first.start().dump()).ready_tasks()[0].spec_id == "Task_TiepNhan"


def test_least_recently_used_goes_first():
    set_cache_size(2)
    loaders = {key: Loader(CL.read_bytes()) for key in "abc"}
    a = runtime_for("a", loaders["a"])
    runtime_for("b", loaders["b"])
    assert runtime_for("a", loaders["a"]) is a  # a is now the most recent
    runtime_for("c", loaders["c"])
    assert cached_keys() == ["a", "c"]
    runtime_for("b", loaders["b"])
    assert loaders["b"].calls == 2 and loaders["a"].calls == 1
    with pytest.raises(ValueError):
        set_cache_size(0)


def test_errors_are_not_cached():
    def broken():
        raise OSError("database unavailable")

    with pytest.raises(OSError):
        runtime_for("version:9:x", broken)
    with pytest.raises(EngineError):
        runtime_for("version:9:x", lambda: b"<definitions/>")
    assert cached_keys() == []
    assert runtime_for("version:9:x", Loader(CL.read_bytes())).procedure.process_id == "Process_XacNhanTinhTrangHonNhan"


def test_concurrent_misses_parse_once():
    release = threading.Event()
    loader = Loader(CD.read_bytes(), delay=release)
    barrier = threading.Barrier(16)

    def get(_):
        barrier.wait(5)
        return runtime_for("version:3:ghi", loader)

    with ThreadPoolExecutor(16) as pool:
        futures = [pool.submit(get, i) for i in range(16)]
        assert loader.started.wait(5)
        # another key is not held up by the parse in progress
        assert runtime_for("version:4:jkl", Loader(CL.read_bytes())) is not None
        assert not loader.finished
        release.set()
        results = [f.result(10) for f in futures]
    assert loader.calls == 1
    assert all(r is results[0] for r in results)


def test_threads_run_dossiers_on_one_runtime():
    """Each thread has its own workflows; the shared runtime (specs, registry) is only read."""
    rt = runtime_for("version:5:mno", Loader(DP.read_bytes()))
    plans = [dp_plan(["Task_YKien_SoNNMT", "Task_YKien_CongAn"]), dp_plan(["Task_YKien_CongAn", "Task_YKien_SoNNMT"],
                                                                          ("return", "approve"))]
    cd = runtime_for("version:6:pqr", Loader(CD.read_bytes()))
    barrier = threading.Barrier(8)

    def work(i):
        barrier.wait(5)
        results = []
        for _ in range(5):
            if i % 2:
                done, _, final = drive(cd, cd_plan(["return", "approve"]))
            else:
                done, _, final = drive(rt, plans[i % 4 // 2])
            results.append((tuple(done), final.completed))
        return results

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(work, range(8)))
    for i, results in enumerate(outcomes):
        expected = [spec for spec, _ in (cd_plan(["return", "approve"]) if i % 2 else plans[i % 4 // 2])]
        assert results == [(tuple(expected), True)] * 5
