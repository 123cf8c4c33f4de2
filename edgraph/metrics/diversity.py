r"""Uniqueness and novelty of generated graphs, up to isomorphism.

A graph is *novel* when no reference (training) graph is isomorphic to it, and the *unique*
graphs of a set are its isomorphism classes. Graphs are bucketed by invariants that isomorphic
graphs share (the Weisfeiler–Lehman hash and the sorted triangle counts) and compared within a
bucket by an exact isomorphism test, so graphs the invariants cannot tell apart (the triangular
prism and :math:`K_{3,3}` are both 3-regular) still count as different. The hash matters for
trees: many share their degrees, and the exact test can take exponential time on two different
ones, while colour refinement tells every two non-isomorphic trees apart. Generated graphs are
cleaned as for the MMD (:func:`~edgraph.metrics.mmd.clean_graphs`: isolated nodes removed), so a
training graph with an extra isolated node is not novel; reference graphs are used as given.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import networkx as nx

from edgraph.graphs import GraphLike, _as_networkx
from edgraph.metrics.mmd import clean_graphs

Invariants = tuple[str, tuple[int, ...]]


def _invariants(graph: nx.Graph) -> Invariants:
    # as many rounds as nodes: colour refinement has then settled, whatever the graph's depth
    rounds = max(1, graph.number_of_nodes())
    with warnings.catch_warnings():  # networkx says its hashes changed in 3.5; only equality matters here
        warnings.filterwarnings("ignore", message="The hashes produced", category=UserWarning)
        key = nx.weisfeiler_lehman_graph_hash(graph, iterations=rounds)
    return key, tuple(sorted(nx.triangles(graph).values()))


def _isomorph_known(buckets: dict[Invariants, list[nx.Graph]], graph: nx.Graph, key: Invariants) -> bool:
    """Whether a graph isomorphic to ``graph`` is in its bucket ``key``."""
    return any(nx.is_isomorphic(graph, other) for other in buckets.get(key, ()))


def _add_if_new(buckets: dict[Invariants, list[nx.Graph]], graph: nx.Graph) -> bool:
    """Add ``graph`` to its bucket unless an isomorphic graph is there; whether it was added."""
    key = _invariants(graph)
    new = not _isomorph_known(buckets, graph, key)
    if new:
        buckets.setdefault(key, []).append(graph)
    return new


def first_of_class(graphs: Sequence[nx.Graph]) -> list[bool]:
    """For each graph, whether no earlier graph of ``graphs`` is isomorphic to it (so the ``True``
    entries are one graph per isomorphism class).

    >>> first_of_class([nx.path_graph(3), nx.star_graph(2), nx.complete_graph(3)])
    [True, False, True]
    """
    buckets: dict[Invariants, list[nx.Graph]] = {}
    return [_add_if_new(buckets, graph) for graph in graphs]


def novel_to(graphs: Sequence[nx.Graph], reference: Sequence[nx.Graph]) -> list[bool]:
    """For each graph, whether no graph of ``reference`` is isomorphic to it.

    >>> novel_to([nx.path_graph(3), nx.cycle_graph(4)], [nx.star_graph(2)])
    [False, True]
    """
    known: dict[Invariants, list[nx.Graph]] = {}
    for graph in reference:
        _add_if_new(known, graph)
    return [not _isomorph_known(known, graph, _invariants(graph)) for graph in graphs]


def graph_uniqueness(graphs: Sequence[GraphLike], clean: bool = True) -> float:
    r"""Fraction of ``graphs`` that are distinct: :math:`|\{[G_i]\}| / |G|`, classes up to isomorphism,
    after cleaning (``clean=False`` compares the graphs as given).

    >>> graph_uniqueness([nx.path_graph(3), nx.star_graph(2), nx.complete_graph(3)])
    0.6666666666666666
    """
    graphs = clean_graphs(graphs) if clean else _as_networkx(graphs)
    if not graphs:
        raise ValueError("uniqueness of an empty set of graphs is undefined")
    return sum(first_of_class(graphs)) / len(graphs)


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
    return sum(novel_to(graphs, _as_networkx(reference))) / len(graphs)
