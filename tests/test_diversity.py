"""Uniqueness and novelty up to isomorphism, against brute force over all labelled 4-node graphs."""

import itertools

import networkx as nx
import pytest

from edgraph.graphs import to_pyg
from edgraph.metrics import graph_novelty, graph_uniqueness


def all_labelled_graphs(n: int) -> list[nx.Graph]:
    pairs = list(itertools.combinations(range(n), 2))
    graphs = []
    for bits in range(2 ** len(pairs)):
        graph = nx.empty_graph(n)
        graph.add_edges_from(p for i, p in enumerate(pairs) if bits >> i & 1)
        graphs.append(graph)
    return graphs


def test_labelled_four_node_graphs_fall_into_eleven_classes():
    graphs = all_labelled_graphs(4)
    assert len(graphs) == 64
    assert graph_uniqueness(graphs, clean=False) == pytest.approx(11 / 64)  # the 11 unlabelled graphs on 4 nodes
    connected = [g for g in graphs if nx.is_connected(g)]
    novel = sum(not nx.is_connected(g) for g in graphs) / 64
    assert graph_novelty(graphs, connected, clean=False) == pytest.approx(novel)
    assert graph_novelty(graphs, graphs[::-1], clean=False) == 0.0


def test_generated_graphs_are_cleaned_as_for_the_mmd():
    path = nx.path_graph(3)
    padded = nx.path_graph(3)
    padded.add_nodes_from([3, 4])  # the same graph with two isolated nodes
    assert graph_novelty([padded], [path]) == 0.0 and graph_novelty([padded], [path], clean=False) == 1.0
    assert graph_uniqueness([path, padded]) == 0.5 and graph_uniqueness([path, padded], clean=False) == 1.0
    # cleaning maps the 11 unlabelled 4-node graphs to 11 distinct graphs (the empty one to a single node)
    cleaned_classes = {"K1", "K2", "P3", "K3", "2K2", "P4", "star", "C4", "paw", "diamond", "K4"}
    assert graph_uniqueness(all_labelled_graphs(4)) == pytest.approx(len(cleaned_classes) / 64)


def test_graphs_sharing_invariants_are_told_apart():
    prism, k33 = nx.circular_ladder_graph(3), nx.complete_bipartite_graph(3, 3)  # both 3-regular on 6 nodes
    assert sorted(d for _, d in prism.degree()) == sorted(d for _, d in k33.degree())
    assert graph_uniqueness([prism, k33]) == 1.0
    assert graph_novelty([prism], [k33]) == 1.0
    relabelled = nx.relabel_nodes(prism, {v: (v * 5) % 6 for v in prism})
    assert graph_novelty([relabelled, to_pyg(k33)], [k33, prism]) == 0.0


def test_trees_are_counted_exactly_against_their_enumeration():
    import random

    trees = list(nx.nonisomorphic_trees(10))  # 106 classes; many share their degree sequence
    rng = random.Random(0)

    def relabelled(tree: nx.Graph) -> nx.Graph:
        order = list(tree)
        rng.shuffle(order)
        return nx.relabel_nodes(tree, dict(zip(tree, order)))

    graphs = [relabelled(t) for t in trees] + [relabelled(t) for t in trees[::2]]
    rng.shuffle(graphs)
    assert len(trees) == 106 and len({tuple(sorted(d for _, d in t.degree())) for t in trees}) < 106
    assert graph_uniqueness(graphs) == pytest.approx(106 / len(graphs))
    assert graph_novelty([relabelled(t) for t in trees], trees[1::2]) == pytest.approx(53 / 106)


def test_empty_inputs_are_refused():
    with pytest.raises(ValueError, match="uniqueness"):
        graph_uniqueness([])
    with pytest.raises(ValueError, match="novelty"):
        graph_novelty([], [nx.path_graph(2)])
