import itertools

import networkx as nx
import pytest
import torch

from edgraph.energies import GraphEnergy, structural_features
from edgraph.graphs import graphs_to_dense, graphs_to_edges, num_pairs

N = 7


def random_graphs(count: int, seed: int = 0) -> list[nx.Graph]:
    return [nx.gnp_random_graph(3 + i % (N - 2), 0.5, seed=seed + i) for i in range(count)]


def cycles4_through(graph: nx.Graph, node: int) -> int:
    """Brute force: a 4-cycle node-a-b-c-node is fixed by the pair {a, c} and the opposite node b."""
    return sum(len((set(graph[a]) & set(graph[c])) - {node}) for a, c in itertools.combinations(graph[node], 2))


def test_structural_features_match_brute_force_counts():
    graphs = random_graphs(12)
    adj, node_mask = graphs_to_dense(graphs, N)
    feats = structural_features(adj, node_mask, ["degree", "triangles", "cycles4", "size"])
    for b, g in enumerate(graphs):
        n = g.number_of_nodes()
        assert torch.allclose(
            feats[b, :n, 0] * (N - 1), torch.tensor([g.degree(v) for v in range(n)], dtype=torch.float)
        )
        tri = nx.triangles(g)
        assert torch.allclose(
            feats[b, :n, 1] * (N - 1) * (N - 2) / 2, torch.tensor([tri[v] for v in range(n)], dtype=torch.float)
        )
        c4 = torch.tensor([cycles4_through(g, v) for v in range(n)], dtype=torch.float)
        assert torch.allclose(feats[b, :n, 2] * N**2, c4, atol=1e-4)
        assert torch.allclose(feats[b, :n, 3], torch.full((n,), n / N))
        assert torch.all(feats[b, n:] == 0)


def permuted(graph: nx.Graph, seed: int) -> nx.Graph:
    order = torch.randperm(graph.number_of_nodes(), generator=torch.Generator().manual_seed(seed)).tolist()
    out = nx.empty_graph(graph.number_of_nodes())
    out.add_edges_from((order[u], order[v]) for u, v in graph.edges)
    return out


def test_energy_is_permutation_invariant():
    torch.manual_seed(0)
    energy = GraphEnergy(N, hidden=16, layers=3, features=("degree", "triangles", "cycles4", "size")).double()
    graphs = random_graphs(10)
    x, mask = graphs_to_edges(graphs, N)
    xp, maskp = graphs_to_edges([permuted(g, i) for i, g in enumerate(graphs)], N)
    assert not torch.equal(x, xp) and torch.equal(mask, maskp)
    assert torch.allclose(energy(x.double(), mask.double()), energy(xp.double(), mask.double()), atol=1e-10)


def test_energy_is_blind_to_padding():
    torch.manual_seed(0)
    energy = GraphEnergy(N, hidden=16, layers=2)
    x, mask = graphs_to_edges(random_graphs(10), N)
    noise = torch.bernoulli(torch.full_like(x, 0.5)) * ~mask  # edges on padding pairs
    assert noise.sum() > 0
    assert torch.allclose(energy(x, mask), energy(x + noise, mask))


def test_energy_depends_on_the_node_count():
    torch.manual_seed(0)
    energy = GraphEnergy(N, hidden=16, layers=2)
    x, mask = graphs_to_edges([nx.empty_graph(3), nx.empty_graph(5)], N)
    first, second = energy(x, mask)
    assert not torch.isclose(first, second)


def test_gradient_matches_finite_differences():
    torch.manual_seed(0)
    energy = GraphEnergy(N, hidden=16, layers=2, features=("degree", "triangles", "cycles4", "size")).double()
    x, mask = graphs_to_edges(random_graphs(4), N)
    x, mask = x.double().requires_grad_(), mask.double()
    (grad,) = torch.autograd.grad(energy(x, mask).sum(), x)
    assert torch.all(grad[mask == 0] == 0)  # padding pairs carry no gradient
    i = mask[0].nonzero()[0].item()
    step = torch.zeros_like(x)
    step[0, i] = 1e-5
    central = (energy(x + step, mask) - energy(x - step, mask))[0] / 2e-5
    assert torch.isclose(central, grad[0, i], rtol=1e-5, atol=1e-8)
    # the first-order flip estimate (1 - 2 x_i) dE/dx_i has an O(t^2) error along the flip
    direction = torch.zeros_like(x)
    direction[0, i] = 1 - 2 * x[0, i]
    errors = [
        (energy(x + t * direction, mask) - energy(x, mask))[0] - t * (direction * grad)[0].sum() for t in (0.1, 0.05)
    ]
    assert 3.0 < (errors[0] / errors[1]).item() < 5.0


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown node features"):
        GraphEnergy(N, features=("degree", "pagerank"))
    with pytest.raises(TypeError, match="conv"):
        GraphEnergy(N, conv="gin")  # GIN is the one convolution
    with pytest.raises(ValueError, match=f"expects {num_pairs(N)}"):
        GraphEnergy(N)(torch.zeros(2, 4), torch.ones(2, 4))  # 4 is no n(n-1)/2


def test_energy_of_a_batch_padded_to_fewer_nodes_is_the_same():
    from edgraph.graphs import sub_pairs

    torch.manual_seed(0)
    energy = GraphEnergy(N, hidden=16, layers=2, features=("degree", "triangles", "cycles4", "size"))
    graphs = [g for g in random_graphs(12) if g.number_of_nodes() <= 5]
    x, mask = graphs_to_edges(graphs, N)
    pairs = sub_pairs(N, 5)
    small_x, small_mask = graphs_to_edges(graphs, 5)
    assert torch.equal(x[:, pairs], small_x) and torch.equal(mask[:, pairs], small_mask)
    assert torch.allclose(energy(x, mask), energy(small_x, small_mask), atol=1e-6)
    with pytest.raises(ValueError, match="pairs of fewer nodes"):
        GraphEnergy(4)(torch.zeros(1, num_pairs(5)), torch.ones(1, num_pairs(5)))


@pytest.mark.parametrize("buckets", [2, 3, 5, 40])
def test_size_buckets_give_the_same_energies_and_gradients(buckets: int, monkeypatch):
    monkeypatch.setattr("edgraph.energies.gnn.MIN_GROUP", 1)  # split even this small batch
    torch.manual_seed(0)
    graphs = random_graphs(20) + [nx.empty_graph(1), nx.empty_graph(2)]  # 1 to 7 nodes, mixed order
    x, mask = graphs_to_edges(graphs, N)
    x.requires_grad_(True)
    whole = GraphEnergy(N, hidden=16, layers=2, buckets=1)
    split = GraphEnergy(N, hidden=16, layers=2, buckets=buckets)
    split.load_state_dict(whole.state_dict())
    e_whole, e_split = whole(x, mask), split(x, mask)
    assert torch.allclose(e_whole, e_split, atol=1e-5)
    (g_whole,), (g_split,) = torch.autograd.grad(e_whole.sum(), x), torch.autograd.grad(e_split.sum(), x)
    assert torch.allclose(g_whole, g_split, atol=1e-5)
    grads = torch.autograd.grad(split(x, mask).square().sum(), list(split.parameters()))
    expected = torch.autograd.grad(whole(x, mask).square().sum(), list(whole.parameters()))
    assert all(torch.allclose(a, b, atol=1e-4) for a, b in zip(grads, expected))
