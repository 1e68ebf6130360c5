"""Lint benchmarks: a generated 200-task procedure against raw SpiffWorkflow parsing, and hostile input.

Goals (issue 3): lint of a 200-task procedure ≤ 100 ms; every hostile input refused in < 2 s.
The baseline is SpiffWorkflow alone parsing the same bytes (``BpmnParser.add_bpmn_str`` and
``get_spec``), i.e. without the hardened loading, the profile and the policy checks.
"""
from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser

from bpmn import lint
from tests.bench.common import compare, measure, row
from tests.unit.bpmn.builder import Flow, Node, document

LANES = [("Bộ phận Một cửa", "1h"), ("Chuyên viên", "4h"), ("Lãnh đạo phòng", "2h"), ("Lãnh đạo Sở", "2h"),
         ("Văn thư", "30m")]


def procedure(tasks: int = 200) -> bytes:
    """Stages of up to five steps, each closed by an exclusive return loop; every third stage
    first consults two agencies in parallel. Legal time is set so that the budget is met."""
    rng = random.Random(7)
    nodes = [Node("StartEvent_1", "startEvent", "Hồ sơ đến", lane=LANES[0][0])]
    flows: list[Flow] = []
    current, made, stage = "StartEvent_1", 0, 0

    def task(lane_index: int) -> str:
        nonlocal made
        lane, allocation = LANES[lane_index]
        node_id = f"Task_{made:03d}"
        nodes.append(Node(node_id, "userTask", f"Bước {made + 1}", {"tthc.allocation": allocation}, lane=lane))
        made += 1
        return node_id

    def link(source: str, target: str, **kwargs) -> None:
        flows.append(Flow(f"Flow_{len(flows):04d}", source, target, **kwargs))

    while made < tasks:
        stage += 1
        merge = f"Gateway_Merge_{stage}"
        nodes.append(Node(merge, "exclusiveGateway", lane=LANES[1][0]))
        link(current, merge)
        current = merge
        if stage % 3 == 0 and tasks - made >= 6:
            split, join = f"Gateway_Split_{stage}", f"Gateway_Join_{stage}"
            nodes += [Node(split, "parallelGateway", lane=LANES[1][0]), Node(join, "parallelGateway", lane=LANES[1][0])]
            link(current, split)
            for _ in range(2):
                first, second = task(1), task(1)
                link(split, first)
                link(first, second)
                link(second, join)
            current = join
        for _ in range(min(5, tasks - made)):
            step = task(rng.randrange(len(LANES)))
            link(current, step)
            current = step
        check = f"Gateway_Check_{stage}"
        nodes.append(Node(check, "exclusiveGateway", "Đạt?", attrs={"default": f"Flow_{len(flows) + 2:04d}"},
                          lane=LANES[2][0]))
        link(current, check)
        link(check, merge, condition="decision == 'return'")
        current = check
    nodes.append(Node("EndEvent_1", "endEvent", "Trả kết quả", lane=LANES[0][0]))
    link(current, "EndEvent_1")
    assert made == tasks
    return document("camunda", nodes, flows, {"tthc.legal_days": "200", "tthc.authority": "so"})


def _spiff_baseline(data: bytes) -> None:
    parser = BpmnParser()
    parser.add_bpmn_str(data)
    parser.get_spec("Process_1")
    parser.get_subprocess_specs("Process_1")


_BPMN = ('<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="D">'
         '<bpmn:process id="P" isExecutable="true"><bpmn:startEvent id="S"/>'
         "<bpmn:userTask id=\"T\"><bpmn:documentation>{body}</bpmn:documentation></bpmn:userTask>"
         "</bpmn:process></bpmn:definitions>")


def hostile_inputs() -> dict[str, bytes]:
    laughs = '<!ENTITY x0 "ha">' + "".join(f'<!ENTITY x{i} "{"&x%d;" % (i - 1) * 10}">' for i in range(1, 10))
    valid = procedure(20)
    return {
        "XXE file://": (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                        + _BPMN.format(body="&x;").encode()),
        "XXE http://": (b'<!DOCTYPE d [<!ENTITY x SYSTEM "http://127.0.0.1:9/x.dtd">]>'
                        + _BPMN.format(body="&x;").encode()),
        "billion laughs": f"<!DOCTYPE d [{laughs}]>".encode() + _BPMN.format(body="&x9;").encode(),
        "deeply nested (100 000 levels)": _BPMN.format(body="<a>" * 100_000 + "</a>" * 100_000).encode(),
        "50 MB file": valid.replace(b"</bpmn:definitions>",
                                    b"<!--" + b"x" * (50 * 1024 * 1024) + b"--></bpmn:definitions>"),
        "random binary (1 MB)": random.Random(1).randbytes(1024 * 1024),
        "truncated XML": valid[: len(valid) // 2],
        "HTML page": b"<!DOCTYPE html><html><head><meta charset='utf-8'></head><body><p>x<br></body></html>",
    }


def _cli(path: str) -> None:
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-m", "web.cli", "lint", "--json", path], cwd=root,
                            capture_output=True, env={**os.environ, "PYTHONPATH": str(root)}, timeout=60)
    assert result.returncode == 2, result.stderr


def run(quick: bool = False) -> list[dict]:
    repeat = 5 if quick else 60
    data = procedure(200)
    report = lint(data)
    assert report.exit_code == 0 and len(report.tasks) == 200, report.codes()
    ours, baseline = compare(lambda: lint(data), lambda: _spiff_baseline(data), repeat=repeat)
    rows = [row("lint: 200-task procedure", ours, baseline, goal_ms=100,
                note=f"{len(data) // 1024} KiB, SpiffWorkflow parse alone as baseline")]
    for name, hostile in hostile_inputs().items():
        result = lint(hostile)
        assert result.exit_code == 2, (name, result.codes())
        rows.append(row(f"lint hostile: {name} → {result.codes()[0]}",
                        measure(lambda h=hostile: lint(h), repeat=max(3, repeat // 4), warmup=1),
                        goal_ms=2000, goal="< 2 s"))
    with tempfile.TemporaryDirectory() as tmp:
        # End to end, interpreter start and imports included: what a designer waits for.
        for name in ("50 MB file", "billion laughs"):
            path = os.path.join(tmp, "hostile.bpmn")
            Path(path).write_bytes(hostile_inputs()[name])
            rows.append(row(f"quytrinh lint (new process): {name}", measure(lambda p=path: _cli(p),
                            repeat=3 if quick else 7, warmup=1), goal_ms=2000, goal="< 2 s"))
    return rows
