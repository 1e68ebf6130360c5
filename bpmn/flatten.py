"""Flattening the model into one flow graph (làm phẳng quy trình) for the policy checks.

* An embedded sub-process ``S`` becomes an entry node ``S`` followed by its contents: ``S`` →
  its start event, and each of its end events → every target of ``S``'s outgoing flows.
* A boundary event ``B`` on a task ``H`` gets an edge ``H`` → ``B`` marked *boundary*; on a
  sub-process it gets one from ``S`` and from every node inside it, since the timer may fire at
  any point of the sub-process.
"""
from __future__ import annotations

from collections.abc import Mapping

from bpmn.graph import FlowGraph
from bpmn.structure import Model


def _inside(model: Model, scope: str) -> list[str]:
    found, pending, seen = [], [scope], {scope}
    while pending:
        current = pending.pop()
        for node_id in model.children.get(current, []):
            found.append(node_id)
            if model.nodes[node_id].kind == "subProcess" and node_id not in seen:  # each scope once
                seen.add(node_id)
                pending.append(node_id)
    return found


def flow_graph(model: Model, weights: Mapping[str, int]) -> FlowGraph:
    """The process as one graph; *weights* gives each node's minutes (absent = 0)."""
    graph = FlowGraph()
    for node_id in model.nodes:
        graph.add_node(node_id, weights.get(node_id, 0))
    graph.sources = model.starts(model.process_id)
    for node_id, flow_ids in model.outgoing.items():
        node = model.nodes[node_id]
        exits = model.ends(node_id) if node.kind == "subProcess" else [node_id]
        for flow_id in flow_ids:
            target = model.flows[flow_id].target
            for exit_id in exits:
                graph.add_edge(exit_id, target, flow_id)
    for node in model.nodes.values():
        if node.kind == "subProcess":
            for start in model.starts(node.id):
                graph.add_edge(node.id, start)
    for host_id, boundary_ids in model.boundaries.items():
        hosts = [host_id]
        if model.nodes[host_id].kind == "subProcess":
            hosts += _inside(model, host_id)
        for boundary_id in boundary_ids:
            for host in hosts:
                graph.add_edge(host, boundary_id, boundary=True)
    return graph
