r"""Validity, uniqueness and novelty (V.U.N.) of generated graphs of families with a validity test.

The tests are those of SPECTRE (Martinkus et al. 2022) and DiGress (Vignac et al. 2023):

* ``"planar"``: connected and planar (:func:`networkx.check_planarity`);
* ``"lobster"``: a tree that becomes a path (or nothing) once its leaves are removed twice;
* ``"sbm"``: PolyGraph's block-model test (:func:`~edgraph.metrics.polygraph_metrics.is_sbm_graph`,
  which needs the optional ``benchmarks`` extra).

A generated graph counts towards V.U.N. when it is valid, isomorphic to no *earlier* generated
graph (so each isomorphism class counts once) and isomorphic to no training graph. Graphs are
compared as given: an isolated node makes a planar graph disconnected, so nothing is cleaned.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import networkx as nx

from edgraph.graphs import GraphLike, _as_networkx
from edgraph.metrics.diversity import first_of_class, novel_to
from edgraph.metrics.polygraph_metrics import is_sbm_graph


def is_planar_graph(graph: nx.Graph) -> bool:
    """A connected planar graph.

    >>> is_planar_graph(nx.complete_graph(4)), is_planar_graph(nx.complete_graph(5))
    (True, False)
    """
    return graph.number_of_nodes() > 0 and nx.is_connected(graph) and nx.check_planarity(graph)[0]


def is_lobster_graph(graph: nx.Graph) -> bool:
    """A lobster: a tree in which every node is within distance 2 of one path (the backbone), that
    is, removing the leaves twice leaves a path or nothing.

    >>> is_lobster_graph(nx.balanced_tree(2, 3)), is_lobster_graph(nx.balanced_tree(3, 3))
    (True, False)
    """
    if graph.number_of_nodes() == 0 or not nx.is_tree(graph):
        return False
    core = nx.Graph(graph)
    for _ in range(2):
        core.remove_nodes_from([node for node, degree in core.degree() if degree <= 1])
    return core.number_of_nodes() == 0 or (max(d for _, d in core.degree()) <= 2 and nx.is_connected(core))


#: Validity tests by family name.
VALIDITY: dict[str, Callable[[nx.Graph], bool]] = {
    "planar": is_planar_graph,
    "lobster": is_lobster_graph,
    "sbm": is_sbm_graph,
}


def graph_vun(
    graphs: Sequence[GraphLike], reference: Sequence[GraphLike], is_valid: Callable[[nx.Graph], bool] | str
) -> dict[str, float]:
    """Shares of ``graphs`` that are ``valid``, ``unique``, ``novel`` (to ``reference``, the training
    graphs) and all three at once (``vun``); ``is_valid`` is a test or a name in :data:`VALIDITY`.

    >>> generated = [nx.cycle_graph(5), nx.cycle_graph(5), nx.complete_graph(5), nx.path_graph(3)]
    >>> graph_vun(generated, [nx.path_graph(3)], "planar")
    {'valid': 0.75, 'unique': 0.75, 'novel': 0.75, 'vun': 0.25}
    """
    if isinstance(is_valid, str):
        if is_valid not in VALIDITY:
            raise ValueError(f"no validity test named {is_valid!r}; choose from {sorted(VALIDITY)}")
        is_valid = VALIDITY[is_valid]
    graphs = _as_networkx(graphs)
    if not graphs:
        raise ValueError("V.U.N. of an empty set of graphs is undefined")
    valid = [is_valid(g) for g in graphs]
    unique = first_of_class(graphs)
    novel = novel_to(graphs, _as_networkx(reference))
    count = len(graphs)
    return {
        "valid": sum(valid) / count,
        "unique": sum(unique) / count,
        "novel": sum(novel) / count,
        "vun": sum(v and u and n for v, u, n in zip(valid, unique, novel)) / count,
    }
