"""Flow-graph algorithms (đồ thị luồng): the time budget's longest path and VP reachability.

The graph is the executable process with sub-processes flattened and boundary events attached
(see :func:`bpmn.flatten.flow_graph`). Node weights are working minutes.

*Loop-back edges* are the back edges of a depth-first search that starts from the start events
in document order and follows outgoing flows in document order: an edge to a node still on the
search stack. Removing them leaves an acyclic graph; for the usual structured loops (a return
to an earlier step) they are exactly the returns, whatever the search order.

*Longest path*: the largest sum of weights over a path from a start event in that acyclic graph.
A parallel split therefore counts its longest branch (not the sum) and an exclusive split its
longest branch. Ties go to the first branch in document order.

*VP reachability*: a review node is "removed" — a search may enter it but leaves only through
its boundary events, because a timer that fires while the review is open has not passed it.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Edge:
    target: str
    flow: str | None = None  # the sequence flow id, None for edges added by flattening
    boundary: bool = False  # host -> boundary event: "fires while the host is open"


@dataclass
class FlowGraph:
    weights: dict[str, int] = field(default_factory=dict)  # node id -> minutes, document order
    out: dict[str, list[Edge]] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)

    def add_node(self, node_id: str, weight: int = 0) -> None:
        self.weights.setdefault(node_id, weight)
        self.out.setdefault(node_id, [])

    def add_edge(self, source: str, target: str, flow: str | None = None, boundary: bool = False) -> None:
        self.add_node(source)
        self.add_node(target)
        self.out[source].append(Edge(target, flow, boundary))


def _dfs(graph: FlowGraph) -> tuple[set[tuple[str, int]], list[str]]:
    """Back edges as (source, index in out[source]) and the post-order of the search."""
    back: set[tuple[str, int]] = set()
    post: list[str] = []
    state: dict[str, int] = {}  # 1 on the stack, 2 finished
    for source in graph.sources:
        if source in state:
            continue
        state[source] = 1
        stack: list[tuple[str, int]] = [(source, 0)]
        while stack:
            node, index = stack[-1]
            edges = graph.out[node]
            if index == len(edges):
                stack.pop()
                state[node] = 2
                post.append(node)
                continue
            stack[-1] = (node, index + 1)
            target = edges[index].target
            seen = state.get(target)
            if seen == 1:
                back.add((node, index))
            elif seen is None:
                state[target] = 1
                stack.append((target, 0))
    return back, post


def back_edges(graph: FlowGraph) -> set[tuple[str, int]]:
    """The loop-back edges, each as (source id, index of the edge in ``graph.out[source]``)."""
    return _dfs(graph)[0]


def longest_path(graph: FlowGraph) -> tuple[int, list[str]]:
    """(minutes, node ids) of the heaviest path from a start with loop-back edges removed."""
    back, post = _dfs(graph)
    best: dict[str, int] = {}
    step: dict[str, str | None] = {}
    for node in post:  # successors finish first, so their best is known
        chosen, chosen_total = None, 0
        for index, edge in enumerate(graph.out[node]):
            if (node, index) in back:
                continue
            total = best[edge.target]
            if chosen is None or total > chosen_total:
                chosen, chosen_total = edge.target, total
        best[node] = graph.weights[node] + chosen_total
        step[node] = chosen
    if not graph.sources:
        return 0, []
    start = max(graph.sources, key=lambda s: (best[s], -graph.sources.index(s)))
    path, node = [], start
    while node is not None:
        path.append(node)
        node = step[node]
    return best[start], path


def reachable(graph: FlowGraph, origins: Iterable[tuple[str, str | None]],
              blocked: Collection[str]) -> dict[str, str | None]:
    """Breadth-first search; returns each reached node's predecessor (None for an origin).

    *origins* are (node, predecessor) pairs. A blocked node is entered but left only through
    boundary edges.
    """
    parent: dict[str, str | None] = {}
    queue: deque[str] = deque()
    for node, pred in origins:
        if node not in parent:
            parent[node] = pred
            queue.append(node)
    while queue:
        node = queue.popleft()
        for edge in graph.out[node]:
            if node in blocked and not edge.boundary:
                continue
            if edge.target not in parent:
                parent[edge.target] = node
                queue.append(edge.target)
    return parent


def _trace(parent: dict[str, str | None], node: str, stop: str | None = None) -> list[str]:
    path = [node]
    current = parent[node]
    while current is not None and len(path) <= len(parent):
        path.append(current)
        if current == stop:
            break
        current = parent.get(current)
    return path[::-1]


def vp_bypasses(graph: FlowGraph, reviews: Collection[str],
                chairmen: Iterable[str]) -> list[tuple[str, list[str]]]:
    """Chairman nodes reachable without passing a review, each with one witness path.

    A chairman counts when it is reachable from a start event, or from any chairman (itself
    included, through a loop), with the review nodes removed.
    """
    chairmen = list(chairmen)
    from_start = reachable(graph, [(s, None) for s in graph.sources], reviews)
    found: dict[str, list[str]] = {}
    for chairman in chairmen:
        if chairman in from_start:
            found[chairman] = _trace(from_start, chairman)
    for origin in chairmen:
        after = reachable(graph, [(e.target, origin) for e in graph.out[origin]], reviews)
        for chairman in chairmen:
            if chairman in after and chairman not in found:
                found[chairman] = _trace(after, chairman, stop=origin)
    return [(c, found[c]) for c in chairmen if c in found]
