"""Hostile input on PostgreSQL (issue #11, finding 6): PostgreSQL refuses a NUL in any text
parameter, an integer beyond BIGINT in any comparison, and a value longer than its VARCHAR(n)
column; SQLite took all three quietly. Each kind of value in each field, query parameter and path
variable of every route (tests/fuzz_harness.py): never a 5xx, nothing saved half-way."""
from __future__ import annotations

import pytest

from tests import fuzz_harness as fz
from tests.conftest import make_app

VALUES = ["ab\x00cd", "\x00", "\ud800", "9223372036854775808", "2147483648", "-9223372036854775809", "-1",
          "x" * 41, "x" * 81, "x" * 256, "ế" * 501, "x" * 4001, fz.BIG[0]]


@pytest.fixture
def world(pg_url, tmp_path):
    built = fz.build_world(make_app(pg_url, tmp_path))
    yield built
    fz.close_world(built)


def test_the_cases_of_the_attack_on_postgresql(world):
    """What answered 500 on PostgreSQL: a NUL in a field or a query, an id past INTEGER."""
    import re

    from sqlalchemy import func, select

    from services.models import Dossier
    from web.extensions import db

    desk, official = world.client("motcua"), world.client("chuyenvien")
    with world.app.app_context():
        before = db.session.scalar(select(func.count(Dossier.id)))
    response = desk.post("/desk/receive", data={"csrf_token": world.tokens["motcua"], "procedure_id": "1",
                                                "applicant_name": "ab\x00cd"})
    assert response.status_code == 400 and "“applicant_name”" in response.get_data(as_text=True)
    with world.app.app_context():
        assert db.session.scalar(select(func.count(Dossier.id))) == before
        db.session.remove()
    response = official.get("/inbox?code=%00")
    assert response.status_code == 400 and re.search("Tham số truy vấn “code”", response.get_data(as_text=True))
    for url in ("/tasks/9223372036854775808", "/tasks/2147483648", "/reports/versions/2147483648/diagram.bpmn"):
        assert official.get(url).status_code == 404, url


def test_nul_huge_integers_and_long_values_on_postgresql(world):
    failures, sent = fz.sweep(world, sorted(world.targets), VALUES)
    assert sent > 500
    assert not failures, f"{len(failures)} of {sent} requests failed:\n" + "\n".join(failures[:20])
    assert not fz.half_saved(world.app)
