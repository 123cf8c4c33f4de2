import json

import networkx as nx
import pytest
import torch
from torch_geometric.data import Batch

from edgraph.graphs import (
    adj_to_edges,
    check_adjacency,
    dense_to_graphs,
    edges_to_adj,
    edges_to_graphs,
    from_pyg,
    graphs_to_dense,
    graphs_to_edges,
    node_mask_from_pairs,
    nodes_from_pairs,
    num_pairs,
    pair_mask,
    read_graphs_json,
    size_buckets,
    sub_pairs,
    to_pyg,
    write_graphs_json,
)

MAX_NODES = 9


def random_graphs(count: int = 60, seed: int = 0) -> list[nx.Graph]:
    """Graphs of 0..MAX_NODES nodes at various densities, isolated nodes included."""
    gen = torch.Generator().manual_seed(seed)
    graphs = []
    for i in range(count):
        n = i % (MAX_NODES + 1)
        p = torch.rand(1, generator=gen).item()
        graphs.append(nx.gnp_random_graph(n, p, seed=i))
    return graphs


def same_graph(a: nx.Graph, b: nx.Graph) -> bool:
    return list(a.nodes) == list(b.nodes) and {frozenset(e) for e in a.edges} == {frozenset(e) for e in b.edges}


def test_num_pairs_and_inverse():
    n = torch.arange(1, 40)
    assert nodes_from_pairs(torch.tensor([num_pairs(int(k)) for k in n])).tolist() == n.tolist()


def test_dense_round_trip_is_exact():
    graphs = random_graphs()
    adj, node_mask = graphs_to_dense(graphs, MAX_NODES)
    assert adj.shape == (len(graphs), MAX_NODES, MAX_NODES)
    check_adjacency(adj, node_mask)
    back = dense_to_graphs(adj, node_mask)
    assert all(same_graph(a, b) for a, b in zip(graphs, back))


def test_edge_vector_round_trip_is_exact():
    graphs = random_graphs(seed=1)
    x, mask = graphs_to_edges(graphs, MAX_NODES)
    assert x.shape == mask.shape == (len(graphs), num_pairs(MAX_NODES))
    assert torch.all(x <= mask)  # no edge on a padding pair
    assert mask.sum(1).tolist() == [num_pairs(g.number_of_nodes()) for g in graphs]
    back = edges_to_graphs(x, mask, MAX_NODES)
    # graphs of 0 and 1 nodes have no pairs and come back with one node
    for a, b in zip(graphs, back):
        if a.number_of_nodes() >= 2:
            assert same_graph(a, b)
        else:
            assert b.number_of_nodes() == 1 and b.number_of_edges() == 0


def test_edges_to_adj_inverts_adj_to_edges_and_is_differentiable():
    adj, _ = graphs_to_dense(random_graphs(20), MAX_NODES)
    assert torch.equal(edges_to_adj(adj_to_edges(adj), MAX_NODES), adj)
    x = adj_to_edges(adj).requires_grad_()
    edges_to_adj(x, MAX_NODES).sum().backward()
    assert torch.equal(x.grad, torch.full_like(x, 2.0))  # each pair appears twice


def test_node_mask_recovered_from_pair_mask():
    node_mask = torch.arange(MAX_NODES)[None] < torch.arange(2, MAX_NODES + 1)[:, None]
    assert torch.equal(node_mask_from_pairs(pair_mask(node_mask), MAX_NODES), node_mask)


@pytest.mark.parametrize("buckets", [1, 3, 100])
def test_size_buckets_partition_the_batch_by_node_count(buckets: int):
    graphs = random_graphs()
    x, mask = graphs_to_edges(graphs, MAX_NODES)
    sizes = nodes_from_pairs(mask.sum(1))
    groups = size_buckets(mask, MAX_NODES, buckets)
    rows = torch.cat([r for r, _ in groups])
    assert len(groups) == min(buckets, len(graphs)) and sorted(rows.tolist()) == list(range(len(graphs)))
    assert torch.equal(sizes[rows], sizes[rows].sort().values)  # groups in increasing size
    for r, pairs in groups:
        assert torch.equal(pairs, sub_pairs(MAX_NODES, int(sizes[r].max())))
        assert torch.equal(x[r].sum(1), x[r][:, pairs].sum(1))  # trimming drops no edge


def test_pyg_round_trip_and_batches():
    graphs = random_graphs(30, seed=2)
    assert all(same_graph(g, from_pyg(to_pyg(g))) for g in graphs)
    batch = Batch.from_data_list([to_pyg(g) for g in graphs])
    adj, node_mask = graphs_to_dense(batch.to_data_list(), MAX_NODES)
    ref_adj, ref_mask = graphs_to_dense(graphs, MAX_NODES)
    assert torch.equal(adj, ref_adj) and torch.equal(node_mask, ref_mask)


def test_json_round_trip(tmp_path):
    graphs = random_graphs(seed=3)
    path = tmp_path / "graphs.json"
    write_graphs_json(graphs, path)
    assert all(same_graph(a, b) for a, b in zip(graphs, read_graphs_json(path)))
    assert not [p for p in tmp_path.iterdir() if p.name != "graphs.json"]  # no temp file left


def test_non_integer_labels_are_renumbered(tmp_path):
    graph = nx.Graph([("a", "b"), ("b", "c")])
    write_graphs_json([graph], tmp_path / "g.json")
    (back,) = read_graphs_json(tmp_path / "g.json")
    assert nx.is_isomorphic(graph, back) and list(back.nodes) == [0, 1, 2]


@pytest.mark.parametrize(
    "graph, message",
    [
        (nx.DiGraph([(0, 1)]), "directed"),
        (nx.Graph([(0, 0), (0, 1)]), "self-loops"),
        (nx.path_graph(MAX_NODES + 1), "more than max_nodes"),
        (nx.MultiGraph([(0, 1), (0, 1)]), "multigraph"),
    ],
)
def test_bad_graphs_are_refused(graph, message):
    with pytest.raises(ValueError, match=message):
        graphs_to_dense([graph], MAX_NODES)


def test_directed_pyg_graph_is_refused():
    from torch_geometric.data import Data

    with pytest.raises(ValueError, match="directed"):
        from_pyg(Data(edge_index=torch.tensor([[0], [1]]), num_nodes=2))


@pytest.mark.parametrize(
    "adj, message",
    [
        (torch.tensor([[[0.0, 0.5], [0.5, 0.0]]]), "not binary"),
        (torch.tensor([[[0.0, 1.0], [0.0, 0.0]]]), "not symmetric"),
        (torch.tensor([[[1.0, 0.0], [0.0, 0.0]]]), "self-loop"),
        (torch.ones(1, 2, 3), r"\[B, N, N\]"),
    ],
)
def test_bad_adjacency_is_refused(adj, message):
    with pytest.raises(ValueError, match=message):
        dense_to_graphs(adj)


def test_edge_at_padding_node_is_refused():
    adj = edges_to_adj(torch.tensor([[0.0, 1.0, 0.0]]), 3)
    with pytest.raises(ValueError, match="padding node"):
        dense_to_graphs(adj, torch.tensor([[True, True, False]]))


@pytest.mark.parametrize(
    "payload, message",
    [
        ("{not json", "not valid JSON"),
        ({"graph": []}, "'graphs' list"),
        ({"graphs": [{"edges": []}]}, "graph 0: expected an object"),
        ({"graphs": [{"num_nodes": -1, "edges": []}]}, "non-negative"),
        (
            {"graphs": [{"num_nodes": 3, "edges": [[0, 1]]}, {"num_nodes": 2, "edges": [[0, 2]]}]},
            r"graph 1: edge \[0, 2\] names a node outside",
        ),
        ({"graphs": [{"num_nodes": 2, "edges": [[1, 1]]}]}, "self-loop"),
        ({"graphs": [{"num_nodes": 2, "edges": [[0, 1], [1, 0]]}]}, "appears twice"),
        ({"graphs": [{"num_nodes": 2, "edges": [[0, "1"]]}]}, "not a pair of node indices"),
    ],
)
def test_malformed_json_names_the_problem(tmp_path, payload, message):
    path = tmp_path / "bad.json"
    path.write_text(payload if isinstance(payload, str) else json.dumps(payload))
    with pytest.raises(ValueError, match=message):
        read_graphs_json(path)
