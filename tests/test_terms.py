"""Energy terms: values against networkx and brute force, and composed energies sampled exactly."""

import itertools
import json

import networkx as nx
import pytest
import torch
from test_samplers import NUM_CHAINS, all_binary_states, exact_distribution, noise_floor, state_index, total_variation

from edgraph import GraphEBM
from edgraph.energies.terms import (
    ComposedEnergy,
    Connected,
    Cycles4,
    Density,
    EdgeCount,
    FunctionTerm,
    MaxDegree,
    Triangles,
    component_count,
    term_from_spec,
)
from edgraph.graphs import adj_to_edges, graphs_to_dense, pair_mask
from edgraph.samplers import DMALA, GWG, Gibbs

pytestmark = pytest.mark.usefixtures("single_thread")


def random_graphs(num: int, max_nodes: int, seed: int) -> list[nx.Graph]:
    generator = torch.Generator().manual_seed(seed)
    graphs = []
    for _ in range(num):
        n = int(torch.randint(1, max_nodes + 1, (), generator=generator))
        p = float(torch.rand((), generator=generator))
        graphs.append(nx.gnp_random_graph(n, p, seed=int(torch.randint(10**6, (), generator=generator))))
    return graphs


def edge_vectors(graphs: list[nx.Graph], max_nodes: int) -> tuple[torch.Tensor, torch.Tensor]:
    adj, node_mask = graphs_to_dense(graphs, max_nodes)
    return adj_to_edges(adj), pair_mask(node_mask)


def four_cycles(graph: nx.Graph) -> int:
    """Brute force: each 4-node set holds up to 3 distinct 4-cycles."""
    count = 0
    for a, b, c, d in itertools.combinations(graph.nodes, 4):
        for p, q, r, s in ((a, b, c, d), (a, b, d, c), (a, c, b, d)):
            count += all(graph.has_edge(u, v) for u, v in ((p, q), (q, r), (r, s), (s, p)))
    return count


def node_pairs(graph: nx.Graph) -> float:
    return max(graph.number_of_nodes() * (graph.number_of_nodes() - 1) / 2, 1)


GRAPHS = random_graphs(60, 8, seed=0)


@pytest.mark.parametrize(
    "term, expected",
    [
        (EdgeCount(target=5), lambda g: (g.number_of_edges() - 5) ** 2),
        (Density(target=0.3), lambda g: (g.number_of_edges() - 0.3 * node_pairs(g)) ** 2 / node_pairs(g)),
        (MaxDegree(bound=2), lambda g: sum(max(0, d - 2) for _, d in g.degree)),
        (Connected(), lambda g: nx.number_connected_components(g) - 1),
        (Triangles(), lambda g: sum(nx.triangles(g).values()) / 3),
        (Triangles(target=2), lambda g: (sum(nx.triangles(g).values()) / 3 - 2) ** 2),
        (Cycles4(), four_cycles),
        (Cycles4(target=1), lambda g: (four_cycles(g) - 1) ** 2),
    ],
    ids=lambda value: repr(value) if isinstance(value, torch.nn.Module) else "",
)
def test_terms_match_networkx_and_brute_force_on_padded_batches(term, expected):
    want = torch.tensor([float(expected(g)) for g in GRAPHS])
    for max_nodes in (8, 11):  # padding to more nodes changes nothing
        x, mask = edge_vectors(GRAPHS, max_nodes)
        torch.testing.assert_close(term.value(x, mask), want, rtol=1e-5, atol=1e-4)
    x, mask = edge_vectors(GRAPHS, 8)
    torch.testing.assert_close(term.weight * term.value(x, mask), term(x, mask))


def test_component_count_handles_isolated_nodes_and_single_node_graphs():
    graphs = [nx.empty_graph(1), nx.empty_graph(5), nx.disjoint_union(nx.path_graph(7), nx.cycle_graph(3))]
    adj, node_mask = graphs_to_dense(graphs, 10)
    assert component_count(adj, node_mask).tolist() == [1.0, 5.0, 2.0]


def test_connected_gradient_points_at_pairs_that_join_components():
    graph = nx.disjoint_union(nx.path_graph(3), nx.path_graph(2))  # {0, 1, 2} and {3, 4}
    x, mask = edge_vectors([graph], 5)
    x.requires_grad_(True)
    (grad,) = torch.autograd.grad(Connected(weight=2.0)(x, mask).sum(), x)
    adj_grad = torch.zeros(5, 5)
    rows, cols = torch.triu_indices(5, 5, 1)
    adj_grad[rows, cols] = grad[0]
    across = torch.zeros(5, 5, dtype=torch.bool)
    across[:3, 3:] = True
    upper = torch.ones(5, 5).triu(1).bool()
    assert (adj_grad[across] == -2.0).all()
    assert (adj_grad[upper & ~across] == 0).all()


def test_weights_compose_and_callables_become_terms():
    x, mask = edge_vectors(GRAPHS, 8)
    base = lambda x, mask: x.sum(-1) * 0.1  # noqa: E731
    composed = ComposedEnergy(base, [Triangles(weight=-0.5), lambda x, mask: (x * mask).sum(-1)])
    want = 0.1 * x.sum(-1) - 0.5 * Triangles().value(x, mask) + x.sum(-1)
    torch.testing.assert_close(composed(x, mask), want)
    assert isinstance(composed.terms[1], FunctionTerm)


@pytest.mark.parametrize(
    "make_sampler, steps",
    [
        pytest.param(lambda: Gibbs("random"), 300, id="gibbs"),
        pytest.param(GWG, 300, id="gwg"),
        pytest.param(lambda: DMALA(0.5), 200, id="dmala"),
    ],
)
def test_samplers_draw_the_exact_composed_distribution(make_sampler, steps):
    """Graphs on 4 nodes (64 states): a random pairwise energy plus connectedness, a triangle
    reward and an edge-count target, against the enumerated composed distribution."""
    generator = torch.Generator().manual_seed(0)
    coupling = torch.randn(6, 6, generator=generator).triu(1) * 0.3
    bias = torch.randn(6, generator=generator) * 0.3
    learned = lambda x, mask: -(x @ coupling * x).sum(-1) - x @ bias  # noqa: E731
    energy = ComposedEnergy(learned, [Connected(1.5), Triangles(weight=-0.7), EdgeCount(target=3, weight=0.3)])
    states = all_binary_states(6)
    full = torch.ones(len(states), 6, dtype=torch.bool)
    probs = exact_distribution(lambda x: energy(x, full[: len(x)]), states)
    connected = torch.tensor([nx.is_connected(g) for g in _graphs_of(states)])
    assert 0.5 < probs[connected].sum() < 0.99  # the terms matter, and do not decide alone

    x0 = (torch.rand(NUM_CHAINS, 6, generator=generator) < 0.5).float()
    x = make_sampler().sample(energy, x0, steps, torch.ones(NUM_CHAINS, 6, dtype=torch.bool), generator=generator)
    index = state_index(x)
    assert total_variation(index, probs) < noise_floor(probs, NUM_CHAINS) + 0.02
    # the share of connected graphs is sensitive to the Connected weight (1.2 instead of 1.5: 5 standard errors)
    exact_share = probs[connected].sum().item()
    standard_error = (exact_share * (1 - exact_share) / NUM_CHAINS) ** 0.5
    assert abs(connected[index].float().mean().item() - exact_share) < 3.5 * standard_error


def _graphs_of(states: torch.Tensor) -> list[nx.Graph]:
    rows, cols = torch.triu_indices(4, 4, 1)
    graphs = []
    for state in states:
        graph = nx.empty_graph(4)
        graph.add_edges_from((int(rows[k]), int(cols[k])) for k in range(6) if state[k] > 0)
        graphs.append(graph)
    return graphs


def test_model_samples_with_terms():
    graphs = [nx.path_graph(5), nx.cycle_graph(4), nx.star_graph(4)] * 4
    model = GraphEBM(5, hidden=8, layers=1, num_negatives=4).fit(graphs, max_steps=2, progress=False)
    connected = model.sample(128, seed=0, steps=60, terms=[Connected(weight=20.0)])
    assert all(nx.is_connected(g) for g in connected)
    plain = model.sample(128, seed=0, steps=60)
    assert not all(nx.is_connected(g) for g in plain)
    sparse = model.sample(128, seed=0, steps=60, terms=[EdgeCount(target=2, weight=20.0)])
    assert sum(g.number_of_edges() == 2 for g in sparse) > 0.9 * len(sparse)


@pytest.mark.parametrize(
    "spec, expected",
    [
        ("edges=2:30", EdgeCount(30, 2)),
        ("density=1.5:0.2", Density(0.2, 1.5)),
        ("max_degree=3:4", MaxDegree(4, 3)),
        ("connected=5", Connected(5)),
        ("triangles=-1", Triangles(-1)),
        ("cycles4=2:3", Cycles4(2, target=3)),
    ],
)
def test_term_specs_parse(spec, expected):
    assert repr(term_from_spec(spec)) == repr(expected)


@pytest.mark.parametrize(
    "spec, message",
    [
        ("bridges=1", "unknown energy term 'bridges'"),
        ("edges=2", "needs a target"),
        ("connected=5:1", "takes no target"),
        ("edges=two:3", "NAME=WEIGHT"),
        ("density=1:1.5", "density target must lie in"),
        ("max_degree=1:-2", "degree bound must be a non-negative"),
        ("triangles=inf", "finite"),
    ],
)
def test_bad_term_specs_are_named(spec, message):
    with pytest.raises(ValueError, match=message):
        term_from_spec(spec)


def test_graph_terms_refuse_one_hot_states():
    with pytest.raises(ValueError, match=r"edge vectors \[B, D\]"):
        Connected()(torch.zeros(2, 6, 3), torch.ones(2, 6, dtype=torch.bool))


def test_sample_command_adds_terms(tmp_path, capsys):
    from edgraph.cli import main
    from edgraph.graphs import graphs_to_json, read_graphs

    train = tmp_path / "train.json"
    train.write_text(json.dumps(graphs_to_json([nx.path_graph(6), nx.cycle_graph(5), nx.star_graph(4)] * 4)))
    run = tmp_path / "run"
    tiny = ["--hidden", "8", "--layers", "1", "--num-negatives", "4", "--batch-size", "8", "--no-progress"]
    assert main(["train", "--graphs", str(train), "--out", str(run), "--max-steps", "2", *tiny]) == 0
    samples = tmp_path / "samples.json"
    args = ["sample", "--checkpoint", str(run), "--num", "64", "--steps", "80", "--no-progress"]
    assert main([*args, "--out", str(samples), "--term", "connected=20", "--term", "edges=20:6"]) == 0
    graphs = read_graphs(samples)
    assert all(nx.is_connected(g) for g in graphs)
    assert sum(g.number_of_edges() == 6 for g in graphs) > 0.9 * len(graphs)
    assert json.loads(samples.read_text())["terms"] == ["connected=20", "edges=20:6"]
    capsys.readouterr()
    assert main([*args, "--out", str(tmp_path / "bad.json"), "--term", "edges=2"]) == 2
    assert "needs a target" in capsys.readouterr().err
