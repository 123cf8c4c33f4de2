"""4-node orbit counts against brute force over node subsets and hand-checked values."""

import itertools

import networkx as nx
import numpy as np
import pytest
import torch
from torch_geometric.data import Data

from edgraph.graphs import graphs_to_dense
from edgraph.metrics import orbit_counts, orbit_counts_dense

# Orbit of each node of an induced connected 4-node graphlet, keyed by (edges, sorted degrees).
_FOUR_NODE_ORBITS = {
    (3, (1, 1, 2, 2)): {1: 4, 2: 5},  # path
    (3, (1, 1, 1, 3)): {1: 6, 3: 7},  # star
    (4, (2, 2, 2, 2)): {2: 8},  # cycle
    (4, (1, 2, 2, 3)): {1: 9, 2: 10, 3: 11},  # paw
    (5, (2, 2, 3, 3)): {2: 12, 3: 13},  # diamond
    (6, (3, 3, 3, 3)): {3: 14},  # clique
}


def _classify(graph: nx.Graph, nodes, counts: np.ndarray, index: dict) -> None:
    sub = graph.subgraph(nodes)
    if not nx.is_connected(sub):
        return
    degree = dict(sub.degree())
    if len(nodes) == 3:
        orbit_of = {1: 1, 2: 2} if sub.number_of_edges() == 2 else {2: 3}
    else:
        orbit_of = _FOUR_NODE_ORBITS[(sub.number_of_edges(), tuple(sorted(degree.values())))]
    for u in nodes:
        counts[index[u], orbit_of[degree[u]]] += 1


def brute_force_all_subsets(graph: nx.Graph) -> np.ndarray:
    """Classify every 3- and 4-node subset of the graph."""
    index = {u: i for i, u in enumerate(graph.nodes)}
    counts = np.zeros((len(index), 15), dtype=np.int64)
    for u, d in graph.degree():
        counts[index[u], 0] = d
    for size in (3, 4):
        for nodes in itertools.combinations(graph.nodes, size):
            _classify(graph, nodes, counts, index)
    return counts


def brute_force_connected_subsets(graph: nx.Graph) -> np.ndarray:
    """Classify every connected 3- and 4-node subset, found through its spanning trees
    (paths and stars), so that sparse graphs of hundreds of nodes stay cheap."""
    index = {u: i for i, u in enumerate(graph.nodes)}
    counts = np.zeros((len(index), 15), dtype=np.int64)
    sets = {3: set(), 4: set()}
    for u, d in graph.degree():
        counts[index[u], 0] = d
        for a, b in itertools.combinations(graph[u], 2):
            sets[3].add(frozenset((u, a, b)))
        for a, b, c in itertools.combinations(graph[u], 3):
            sets[4].add(frozenset((u, a, b, c)))
    for a, b in graph.edges:
        for u, v in ((a, b), (b, a)):
            for x in graph[u]:
                for y in graph[v]:
                    if len({x, u, v, y}) == 4:
                        sets[4].add(frozenset((x, u, v, y)))
    for size in (3, 4):
        for nodes in sets[size]:
            _classify(graph, tuple(nodes), counts, index)
    return counts


def _random_graphs(count: int, seed: int) -> list[nx.Graph]:
    rng = np.random.default_rng(seed)
    graphs = []
    for _ in range(count):
        n = int(rng.integers(1, 12))
        p = float(rng.choice([0.1, 0.3, 0.5, 0.7, 0.95]))
        graph = nx.gnp_random_graph(n, p, seed=int(rng.integers(2**31)))
        graph.add_nodes_from(range(n, n + int(rng.integers(0, 3))))  # isolated nodes
        graphs.append(graph)
    return graphs


def test_hand_checked_values():
    k4 = orbit_counts(nx.complete_graph(4))
    expected = np.zeros(15, dtype=np.int64)
    expected[[0, 3, 14]] = [3, 3, 1]
    assert k4.dtype == np.int64 and (k4 == expected).all()
    path = orbit_counts(nx.path_graph(4)).sum(0)
    expected = np.zeros(15, dtype=np.int64)
    expected[[0, 1, 2, 4, 5]] = [6, 4, 2, 2, 2]
    assert (path == expected).all()


def test_matches_brute_force_on_random_graphs():
    for graph in _random_graphs(40, seed=0):
        assert (orbit_counts(graph) == brute_force_all_subsets(graph)).all(), nx.to_dict_of_lists(graph)


def test_every_orbit_is_exercised():
    """The random graphs above reach all 15 orbits, so each formula is actually checked."""
    total = sum(brute_force_all_subsets(g).sum(0) for g in _random_graphs(40, seed=0))
    assert (total > 0).all()


def test_empty_and_isolated_graphs():
    assert orbit_counts(nx.Graph()).shape == (0, 15)
    assert (orbit_counts(nx.empty_graph(5)) == 0).all()
    graph = nx.complete_graph(4)
    graph.add_node(7)
    counts = orbit_counts(graph)
    assert counts.shape == (5, 15) and (counts[4] == 0).all() and counts[0, 14] == 1


def test_node_order_and_pyg_input():
    graph = nx.Graph([("c", "a"), ("a", "b"), ("b", "d")])  # path c-a-b-d
    counts = orbit_counts(graph)
    assert counts[:, 4].tolist() == [1, 0, 0, 1]  # ends of the 4-path: "c" and "d"
    data = Data(edge_index=torch.tensor([[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]]), num_nodes=5)
    expected = np.vstack([orbit_counts(nx.path_graph(4)), np.zeros((1, 15), dtype=np.int64)])
    assert (orbit_counts(data) == expected).all()


def test_padded_batch_equals_graph_by_graph():
    graphs = _random_graphs(25, seed=1)
    adj, node_mask = graphs_to_dense(graphs, max_nodes=16)
    batched = orbit_counts_dense(adj, node_mask)
    for b, graph in enumerate(graphs):
        n = graph.number_of_nodes()
        assert (batched[b, :n].numpy() == orbit_counts(graph)).all()
        assert (batched[b, n:] == 0).all()


def test_sparse_grid_of_hundreds_of_nodes():
    small = nx.convert_node_labels_to_integers(nx.grid_2d_graph(4, 4))
    small.add_edges_from([(0, 5), (5, 10), (1, 4)])  # triangles and diamonds as well
    assert (brute_force_connected_subsets(small) == brute_force_all_subsets(small)).all()
    grid = nx.convert_node_labels_to_integers(nx.grid_2d_graph(20, 15))
    grid.add_edges_from([(0, 16), (16, 32), (33, 17), (17, 1)])
    assert (orbit_counts(grid) == brute_force_connected_subsets(grid)).all()


@pytest.mark.parametrize("shape", [(2, 3), (1, 3, 4)])
def test_bad_shape(shape):
    with pytest.raises(ValueError, match="shape"):
        orbit_counts_dense(torch.zeros(shape))
