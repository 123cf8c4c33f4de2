r"""Uniqueness and novelty of generated graphs, up to isomorphism.

A graph is *novel* when no reference (training) graph is isomorphic to it, and the *unique*
graphs of a set are its isomorphism classes. Graphs are bucketed by invariants that isomorphic
graphs share (sorted degree and triangle sequences) and compared within a bucket by an exact
isomorphism test, so graphs the invariants cannot tell apart (the triangular prism and
:math:`K_{3,3}` share their degrees) still count as different. Generated graphs are cleaned as for
the MMD (:func:`~edgraph.metrics.mmd.clean_graphs`: isolated nodes removed), so a training graph
with an extra isolated node is not novel; reference graphs are used as given.
"""

from __future__ import annotations

from collections.abc import Sequence

import networkx as nx

from edgraph.graphs import GraphLike, _as_networkx
from edgraph.metrics.mmd import clean_graphs

Invariants = tuple[tuple[int, ...], tuple[int, ...]]


def _invariants(graph: nx.Graph) -> Invariants:
    return tuple(sorted(d for _, d in graph.degree())), tuple(sorted(nx.triangles(graph).values()))


def _classes(graphs: Sequence[nx.Graph]) -> dict[Invariants, list[nx.Graph]]:
    """One representative per isomorphism class, bucketed by invariants."""
    buckets: dict[Invariants, list[nx.Graph]] = {}
    for graph in graphs:
        bucket = buckets.setdefault(_invariants(graph), [])
        if not any(nx.is_isomorphic(graph, other) for other in bucket):
            bucket.append(graph)
    return buckets


def graph_uniqueness(graphs: Sequence[GraphLike], clean: bool = True) -> float:
    r"""Fraction of ``graphs`` that are distinct: :math:`|\{[G_i]\}| / |G|`, classes up to isomorphism,
    after cleaning (``clean=False`` compares the graphs as given).

    >>> graph_uniqueness([nx.path_graph(3), nx.star_graph(2), nx.complete_graph(3)])
    0.6666666666666666
    """
    graphs = clean_graphs(graphs) if clean else _as_networkx(graphs)
    if not graphs:
        raise ValueError("uniqueness of an empty set of graphs is undefined")
    return sum(len(bucket) for bucket in _classes(graphs).values()) / len(graphs)


def graph_novelty(graphs: Sequence[GraphLike], reference: Sequence[GraphLike], clean: bool = True) -> float:
    r"""Fraction of ``graphs`` isomorphic to no graph of ``reference`` (e.g. the training set), after
    cleaning ``graphs`` (``clean=False`` compares them as given).

    >>> with_isolated_node = nx.path_graph(3); with_isolated_node.add_node(3)
    >>> graph_novelty([with_isolated_node, nx.cycle_graph(4)], [nx.star_graph(2)])
    0.5
    """
    graphs = clean_graphs(graphs) if clean else _as_networkx(graphs)
    if not graphs:
        raise ValueError("novelty of an empty set of graphs is undefined")
    known = _classes(_as_networkx(reference))
    seen = sum(any(nx.is_isomorphic(graph, other) for other in known.get(_invariants(graph), [])) for graph in graphs)
    return 1 - seen / len(graphs)
