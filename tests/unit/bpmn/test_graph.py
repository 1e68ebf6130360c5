"""The time budget and the VP verdict on random flow graphs, against a brute force over paths.

The generator builds structured procedures — sequences, exclusive and parallel splits and joins,
and returns to an earlier step of the same sequence — writes them as BPMN in a random flavour and
lints them. The oracle below never looks at the linter's graph: it enumerates every simple path
of the generated graph itself. For structured graphs a return always goes back to a step that
every path to it has already passed, so no simple path from the start can use a return: "the
longest path with loop-back edges removed" is exactly "the longest simple path".
"""
from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpmn import lint
from bpmn.graph import FlowGraph, back_edges, longest_path, vp_bypasses
from tests.unit.bpmn.builder import FLAVOURS, Flow, Node, document


@dataclass
class Drawn:
    kinds: dict[str, str] = field(default_factory=dict)
    weights: dict[str, int] = field(default_factory=dict)
    steps: dict[str, str | None] = field(default_factory=dict)
    edges: list[tuple[str, str, str | None]] = field(default_factory=list)  # (source, target, condition)
    defaults: dict[str, str] = field(default_factory=dict)  # gateway -> default flow id

    def add(self, kind: str, weight: int = 0, step: str | None = None) -> str:
        node_id = f"N{len(self.kinds)}"
        self.kinds[node_id], self.weights[node_id], self.steps[node_id] = kind, weight, step
        return node_id

    def connect(self, source: str, target: str, condition: str | None = None, default: bool = False) -> None:
        self.edges.append((source, target, condition))
        if default:
            self.defaults[source] = f"F{len(self.edges) - 1}"


_STEPS = st.sampled_from([None, None, None, "vp_review", "chairman_approval"])


def _sequence(draw, g: Drawn, entry: str, depth: int) -> str:
    current, passed = entry, [entry] if g.kinds[entry] in ("userTask", "exclusiveGateway") else []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["task", "task", "xor", "and", "loop"] if depth < 2 else ["task", "loop"]))
        if kind == "task" or (kind == "loop" and not passed):
            task = g.add("userTask", draw(st.integers(0, 600)), draw(_STEPS))
            g.connect(current, task)
            current = task
            passed.append(task)
        elif kind == "loop":
            back = g.add("exclusiveGateway")
            g.connect(current, back)
            g.connect(back, draw(st.sampled_from(passed)), condition="again == True")
            forward = g.add("userTask", draw(st.integers(0, 600)), draw(_STEPS))
            g.connect(back, forward, default=True)
            current = forward
            passed += [back, forward]
        else:
            gateway = "exclusiveGateway" if kind == "xor" else "parallelGateway"
            split, join = g.add(gateway), g.add(gateway)
            g.connect(current, split)
            exits = []
            for branch in range(draw(st.integers(2, 3))):
                first = g.add("userTask", draw(st.integers(0, 600)), draw(_STEPS))
                g.connect(split, first, condition=None if kind == "and" or branch == 0 else f"choice == {branch}",
                          default=kind == "xor" and branch == 0)
                exits.append(_sequence(draw, g, first, depth + 1))
            for exit_id in exits:
                g.connect(exit_id, join)
            current = join
            if kind == "xor":
                passed.append(join)
    return current


@st.composite
def procedures(draw) -> Drawn:
    g = Drawn()
    start = g.add("startEvent")
    end_of_flow = _sequence(draw, g, start, 0)
    g.connect(end_of_flow, g.add("endEvent"))
    return g


def _bpmn(g: Drawn, flavour: str, legal_days: int) -> bytes:
    nodes = []
    for node_id, kind in g.kinds.items():
        props, attrs = {}, {}
        if kind == "userTask":
            props = {"tthc.allocation": f"{g.weights[node_id]}m", "tthc.role": "chuyen_vien"}
            if g.steps[node_id]:
                props["tthc.step"] = g.steps[node_id]
        if node_id in g.defaults:
            attrs["default"] = g.defaults[node_id]
        nodes.append(Node(node_id, kind, f"Bước {node_id}", props, attrs=attrs))
    flows = [Flow(f"F{i}", s, t, condition=c) for i, (s, t, c) in enumerate(g.edges)]
    return document(flavour, nodes, flows, {"tthc.legal_days": str(legal_days),
                                            "tthc.authority": "chu_tich_ubnd_tinh"})


# --- the brute force -------------------------------------------------------------------------

def _successors(g: Drawn) -> dict[str, list[str]]:
    succ: dict[str, list[str]] = {n: [] for n in g.kinds}
    for source, target, _ in g.edges:
        succ[source].append(target)
    return succ


def _simple_paths(succ: dict[str, list[str]], first: str):
    """Every simple path that starts at *first* (each prefix included), as lists."""
    path, on_path = [first], {first}
    stack = [iter(succ[first])]
    yield list(path)
    while stack:
        nxt = next(stack[-1], None)
        if nxt is None:
            stack.pop()
            on_path.discard(path.pop())
            continue
        if nxt in on_path:
            continue
        path.append(nxt)
        on_path.add(nxt)
        stack.append(iter(succ[nxt]))
        yield list(path)


def _brute_force(g: Drawn) -> tuple[int, set[str]]:
    succ = _successors(g)
    start = next(n for n, k in g.kinds.items() if k == "startEvent")
    best = max(sum(g.weights[n] for n in p) for p in _simple_paths(succ, start))
    reviews = {n for n, s in g.steps.items() if s == "vp_review"}
    chairmen = {n for n, s in g.steps.items() if s == "chairman_approval"}
    bypassed = {p[-1] for p in _simple_paths(succ, start)
                if p[-1] in chairmen and not reviews.intersection(p[:-1])}
    for chairman in chairmen:
        for nxt in succ[chairman]:
            for p in _simple_paths(succ, nxt):
                if p[-1] in chairmen and not reviews.intersection(p[:-1]):
                    bypassed.add(p[-1])
    return best, bypassed


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(procedures(), st.sampled_from(FLAVOURS), st.integers(1, 8))
def test_budget_and_vp_verdict_match_the_brute_force(g, flavour, legal_days):
    report = lint(_bpmn(g, flavour, legal_days))
    best, bypassed = _brute_force(g)

    assert report.budget.allocated_minutes == best
    path = list(report.budget.critical_path)
    assert sum(g.weights[n] for n in path) == best
    assert path[0] == "N0" and all((a, b) in {(s, t) for s, t, _ in g.edges} for a, b in zip(path, path[1:]))

    target = (legal_days * 480 * 7) // 10
    assert report.budget.target_minutes == target
    assert ("TIME_BUDGET_EXCEEDED" in report.codes()) == (best > target)

    if not any(s == "vp_review" for s in g.steps.values()):
        assert "VP_REVIEW_MISSING" in report.codes()
    else:
        flagged = {e.element for e in report.errors if e.code == "VP_REVIEW_BYPASSED"}
        assert flagged == bypassed
    assert set(report.codes()) <= {"TIME_BUDGET_EXCEEDED", "VP_REVIEW_MISSING", "VP_REVIEW_BYPASSED"}
    assert report.warnings == []


# --- the algorithms on hand-made graphs ------------------------------------------------------

def _graph(edges, weights=None, sources=("S",), boundary=()):
    g = FlowGraph()
    for node_id, weight in (weights or {}).items():
        g.add_node(node_id, weight)
    for source, target in edges:
        g.add_edge(source, target, boundary=(source, target) in boundary)
    g.sources = list(sources)
    return g


def test_back_edges_follow_document_order():
    g = _graph([("S", "A"), ("A", "B"), ("B", "C"), ("C", "A"), ("C", "E")])
    assert back_edges(g) == {("C", 0)}


def test_irreducible_loops_depend_on_the_search_order_deterministically():
    # Two entries into one cycle: which edge is the loop-back one depends on the order of S's flows.
    g1 = _graph([("S", "A"), ("S", "B"), ("A", "B"), ("B", "A")], {"A": 10, "B": 1})
    g2 = _graph([("S", "B"), ("S", "A"), ("A", "B"), ("B", "A")], {"A": 10, "B": 1})
    assert back_edges(g1) == {("B", 0)} and longest_path(g1) == (11, ["S", "A", "B"])
    assert back_edges(g2) == {("A", 0)} and longest_path(g2) == (11, ["S", "B", "A"])
    assert longest_path(g1) == longest_path(g1)


def test_parallel_and_exclusive_branches_count_the_longest():
    g = _graph([("S", "P"), ("P", "A"), ("P", "B"), ("A", "J"), ("B", "J"), ("J", "E")],
               {"A": 300, "B": 200})
    assert longest_path(g) == (300, ["S", "P", "A", "J", "E"])


def test_ties_go_to_the_first_branch():
    g = _graph([("S", "X"), ("X", "A"), ("X", "B"), ("A", "E"), ("B", "E")], {"A": 5, "B": 5})
    assert longest_path(g)[1] == ["S", "X", "A", "E"]


def test_review_blocks_except_through_its_boundary_events():
    edges = [("S", "V"), ("V", "C"), ("V", "T")]
    assert vp_bypasses(_graph(edges), {"V"}, ["C"]) == []
    g = _graph(edges + [("T", "C")], boundary={("V", "T")})
    assert vp_bypasses(g, {"V"}, ["C"]) == [("C", ["S", "V", "T", "C"])]


def test_resubmission_to_the_chairman_is_a_bypass():
    g = _graph([("S", "V"), ("V", "C"), ("C", "R"), ("R", "C")])
    assert vp_bypasses(g, {"V"}, ["C"]) == [("C", ["C", "R", "C"])]
    g = _graph([("S", "V"), ("V", "C"), ("C", "R"), ("R", "V")])
    assert vp_bypasses(g, {"V"}, ["C"]) == []


def test_longest_path_of_an_empty_graph():
    assert longest_path(FlowGraph()) == (0, [])
