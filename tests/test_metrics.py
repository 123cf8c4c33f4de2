"""Graph MMD: statistics, kernels and protocols against the published definitions."""

import math

import networkx as nx
import numpy as np
import pytest
import torch
from scipy.linalg import eigvalsh
from scipy.stats import wasserstein_distance

from edgraph.datasets import load_graphs
from edgraph.graphs import graphs_to_dense, to_pyg
from edgraph.metrics import (
    PROTOCOLS,
    STATISTICS,
    clean_graphs,
    clustering_histogram,
    degree_histogram,
    emd_distance,
    euclidean_distance,
    gaussian,
    graph_mmd,
    graph_statistics,
    mmd2,
    orbit_counts,
    orbit_statistic,
    reference_floor,
    spectral_histogram,
    statistics_mmd,
    total_variation,
)


def _random_graphs(count: int, seed: int, max_nodes: int = 14) -> list[nx.Graph]:
    rng = np.random.default_rng(seed)
    graphs = []
    for _ in range(count):
        n = int(rng.integers(1, max_nodes - 1))
        graph = nx.gnp_random_graph(n, float(rng.uniform(0.1, 0.8)), seed=int(rng.integers(2**31)))
        graph.add_nodes_from(range(n, n + int(rng.integers(0, 3))))
        graphs.append(graph)
    return graphs


# ----- the published definitions, graph by graph and pair by pair ------------------------


def _networkx_statistics(graph: nx.Graph) -> dict[str, np.ndarray]:
    spectrum = eigvalsh(nx.normalized_laplacian_matrix(graph).todense())
    return {
        "degree": np.array(nx.degree_histogram(graph), dtype=float),
        "clustering": np.histogram(list(nx.clustering(graph).values()), bins=100, range=(0.0, 1.0))[0],
        "orbit": orbit_counts(graph).sum(0) / graph.number_of_nodes(),
        # The exact eigenvalues lie in [0, 2]; see test_spectral_counts_the_eigenvalue_two.
        "spectral": np.histogram(np.clip(spectrum, 0, 2), bins=200, range=(-1e-5, 2))[0],
    }


# The published kernels, written out here rather than read from PROTOCOLS: statistic ->
# (distance, sigma, EMD ground distance between neighbouring bins, normalise to a pmf).
# gdss (GraphRNN / GDSS evaluation code): gaussian_emd with sigma=1 for degree and spectral
# (distance_scaling=1, ground distance |i - j|), sigma=0.1 and distance_scaling=100 for clustering
# (|i - j| / 100); orbit: gaussian on the L2 distance of mean orbit counts, sigma=30, is_hist=False.
# gran (GRAN / SPECTRE / DiGress): gaussian_tv with the same sigmas; orbit also is_hist=False.
PUBLISHED = {
    "gdss": {
        "degree": ("emd", 1.0, 1.0, True),
        "clustering": ("emd", 0.1, 0.01, True),
        "orbit": ("l2", 30.0, None, False),
        "spectral": ("emd", 1.0, 1.0, True),
    },
    "gran": {
        "degree": ("tv", 1.0, None, True),
        "clustering": ("tv", 0.1, None, True),
        "orbit": ("tv", 30.0, None, False),
        "spectral": ("tv", 1.0, None, True),
    },
}


def _pair_kernel(x: np.ndarray, y: np.ndarray, distance: str, sigma: float, bin_width: float | None) -> float:
    """One kernel value, from scipy/numpy: 1-D EMD between histograms whose bin i sits at i * bin_width
    (scipy's Wasserstein distance), total variation 0.5 * L1, or L2 (shorter vector zero-padded)."""
    if distance == "emd":
        d = wasserstein_distance(np.arange(len(x)) * bin_width, np.arange(len(y)) * bin_width, x, y)
    else:
        width = max(len(x), len(y))
        x, y = np.pad(x, (0, width - len(x))), np.pad(y, (0, width - len(y)))
        d = 0.5 * np.abs(x - y).sum() if distance == "tv" else np.sqrt(((x - y) ** 2).sum())
    return float(np.exp(-d * d / (2 * sigma * sigma)))


def _pairwise_mmd(graphs_x, graphs_y, protocol: str) -> dict[str, float]:
    """Biased MMD^2 = mean k(x, x') + mean k(y, y') - 2 mean k(x, y), with explicit double loops."""
    stats_x = [_networkx_statistics(g) for g in graphs_x]
    stats_y = [_networkx_statistics(g) for g in graphs_y]
    out = {}
    for name, (distance, sigma, bin_width, normalise) in PUBLISHED[protocol].items():
        xs = [s[name] / s[name].sum() if normalise else s[name] for s in stats_x]
        ys = [s[name] / s[name].sum() if normalise else s[name] for s in stats_y]
        kernel = (distance, sigma, bin_width)
        out[name] = _mean_kernel(xs, xs, kernel) + _mean_kernel(ys, ys, kernel) - 2 * _mean_kernel(xs, ys, kernel)
    return out


def _mean_kernel(first, second, kernel) -> float:
    total = 0.0
    for u in first:
        for v in second:
            total += _pair_kernel(u, v, *kernel)
    return total / (len(first) * len(second))


# ----- statistics ---------------------------------------------------------------------------


def test_batched_statistics_equal_networkx_graph_by_graph():
    graphs = _random_graphs(40, seed=0) + [nx.star_graph(6), nx.complete_bipartite_graph(3, 4), nx.Graph([(0, 1)])]
    adj, node_mask = graphs_to_dense(graphs)
    batched = {
        "degree": degree_histogram(adj, node_mask),
        "clustering": clustering_histogram(adj, node_mask),
        "spectral": spectral_histogram(adj, node_mask),
        "orbit": orbit_statistic(adj, node_mask),
    }
    for b, graph in enumerate(graphs):
        expected = _networkx_statistics(graph)
        degree = expected.pop("degree")
        assert batched["degree"][b, : len(degree)].tolist() == degree.tolist()
        assert batched["degree"][b, len(degree) :].sum() == 0
        for name, value in expected.items():
            np.testing.assert_array_equal(batched[name][b].numpy(), value, err_msg=f"{name} of graph {b}")


def test_spectral_counts_the_eigenvalue_two():
    """Bipartite graphs have eigenvalue exactly 2; rounding must not drop it from the range."""
    hist = spectral_histogram(*graphs_to_dense([nx.star_graph(4), nx.path_graph(2)]))
    assert hist[:, 0].tolist() == [1, 1] and hist[:, -1].tolist() == [1, 1]
    assert hist.sum(1).tolist() == [5, 2]


def test_graph_statistics_keeps_input_order_across_size_groups():
    graphs = [nx.path_graph(9), nx.path_graph(2), nx.complete_graph(5)]
    stats = graph_statistics(graphs, stats=("degree", "orbit"))
    assert stats["degree"].tolist() == [[0, 2, 7, 0, 0, 0, 0, 0, 0], [0, 2] + [0] * 7, [0, 0, 0, 0, 5] + [0] * 4]
    assert stats["orbit"][2, 14].item() == 4.0


# ----- kernels ------------------------------------------------------------------------------


def _random_histograms(rows: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    hist = torch.randint(0, 3, (rows, 12), generator=g) * (torch.rand(rows, 12, generator=g) < 0.4)
    hist[:, 0] += 1  # no empty rows
    return hist


def test_emd_equals_cumulative_sums_and_wasserstein_distance():
    x, y = _random_histograms(30, 0), _random_histograms(20, 1)[:, :9]
    distance = emd_distance(x, y, bin_width=0.5)
    px, py = x / x.sum(1, keepdim=True, dtype=torch.float64), y / y.sum(1, keepdim=True, dtype=torch.float64)
    py_padded = torch.nn.functional.pad(py, (0, 3))
    cumulative = (px.cumsum(1)[:, None] - py_padded.cumsum(1)[None]).abs().sum(-1) * 0.5
    torch.testing.assert_close(distance, cumulative, rtol=0, atol=1e-12)
    scipy_value = wasserstein_distance(np.arange(12), np.arange(9), px[3].numpy(), py[7].numpy()) * 0.5
    assert distance[3, 7].item() == pytest.approx(scipy_value, abs=1e-12)
    torch.testing.assert_close(emd_distance(x), emd_distance(x, x), rtol=0, atol=0)
    assert emd_distance(x).diagonal().abs().max() < 1e-15


def test_emd_rejects_non_count_histograms():
    with pytest.raises(ValueError, match="integer counts"):
        emd_distance(torch.tensor([[0.5, 0.5]]))
    with pytest.raises(ValueError, match="empty histogram"):
        emd_distance(torch.tensor([[1, 0], [0, 0]]))


@pytest.mark.parametrize("width, density, signed", [(7, 0.5, False), (40, 0.08, False), (40, 0.08, True)])
def test_total_variation_and_euclidean_equal_dense_definitions(width, density, signed):
    """Dense rows, sparse rows (the entry-wise path) and signed rows."""
    g = torch.Generator().manual_seed(2)
    x = torch.rand(15, width, generator=g) * (torch.rand(15, width, generator=g) < 0.5)
    y = torch.rand(11, width - 2, generator=g) * (torch.rand(11, width - 2, generator=g) < density)
    y[3] = y[5]  # repeated values share entries
    if signed:
        x = x - 0.25
    y_padded = torch.nn.functional.pad(y, (0, 2)).double()
    torch.testing.assert_close(
        total_variation(x, y), (x.double()[:, None] - y_padded[None]).abs().sum(-1) / 2, rtol=0, atol=1e-14
    )
    torch.testing.assert_close(euclidean_distance(x, y), (x.double()[:, None] - y_padded[None]).norm(dim=-1))
    torch.testing.assert_close(total_variation(y), total_variation(y, y))


def test_mmd2_with_repeated_rows_equals_full_kernel_means():
    x = _random_histograms(25, 3)[:, :4].double()
    x = torch.cat([x, x[:10]])
    y = _random_histograms(18, 4)[:, :4].double()

    def kernel(a, b):
        return gaussian(euclidean_distance(a, b), sigma=2.0)

    full = kernel(x, x).mean() + kernel(y, y).mean() - 2 * kernel(x, y).mean()
    assert mmd2(x, y, kernel) == pytest.approx(full.item(), abs=1e-14)
    with pytest.raises(ValueError, match="non-empty"):
        mmd2(x[:0], y, kernel)


# ----- protocols ----------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", sorted(PUBLISHED))
def test_graph_mmd_equals_pairwise_definition(protocol):
    assert sorted(PROTOCOLS) == sorted(PUBLISHED)
    graphs_x = [g for g in _random_graphs(20, seed=5) if g.number_of_edges()]
    graphs_y = [g for g in _random_graphs(15, seed=6) if g.number_of_edges()]
    fast = graph_mmd(graphs_x, graphs_y, protocol=protocol, clean=False)
    slow = _pairwise_mmd(graphs_x, graphs_y, protocol)
    assert fast.keys() == set(STATISTICS)
    for name in STATISTICS:
        assert fast[name] == pytest.approx(slow[name], rel=1e-9, abs=1e-13), name


def test_hand_computed_mmd_of_a_path_and_a_triangle():
    """P3 against K3, every kernel value worked out by hand from the published definitions.

    degree pmfs (0, 2/3, 1/3) and (0, 0, 1): EMD = TV = 2/3. Clustering: three nodes at 0 (bin 0)
    against three at 1 (bin 99): EMD = 99/100, TV = 1. Normalised-Laplacian eigenvalues (0, 1, 2)
    in bins (0, 100, 199) against (0, 1.5, 1.5) in (0, 150, 150): EMD = (0 + 50 + 49) / 3 = 33 bins,
    TV = 2/3. Mean orbit counts: P3 has orbit 0 = 4/3, orbit 1 = 2/3, orbit 2 = 1/3; K3 has
    orbit 0 = 2, orbit 3 = 1: squared L2 = 4/9 + 4/9 + 1/9 + 1 = 2, TV = (2/3 + 2/3 + 1/3 + 1) / 2 = 4/3.
    For singletons MMD^2 = 2 - 2 k; for {P3, K3} against {K3} it is (1 - k) / 2.
    """

    def gauss(squared_distance, sigma):
        return math.exp(-squared_distance / (2 * sigma**2))

    kernels = {
        "gdss": {
            "degree": gauss(4 / 9, 1),
            "clustering": gauss(0.99**2, 0.1),
            "orbit": gauss(2, 30),
            "spectral": gauss(33**2, 1),
        },
        "gran": {
            "degree": gauss(4 / 9, 1),
            "clustering": gauss(1, 0.1),
            "orbit": gauss(16 / 9, 30),
            "spectral": gauss(4 / 9, 1),
        },
    }
    path, triangle = nx.path_graph(3), nx.complete_graph(3)
    for protocol, k in kernels.items():
        single = graph_mmd([path], [triangle], protocol=protocol)
        mixed = graph_mmd([path, triangle], [triangle], protocol=protocol)
        for name in STATISTICS:
            assert single[name] == pytest.approx(2 - 2 * k[name], rel=1e-12, abs=1e-15), (protocol, name)
            assert mixed[name] == pytest.approx((1 - k[name]) / 2, rel=1e-12, abs=1e-15), (protocol, name)


@pytest.fixture(scope="module")
def ego_small():
    return load_graphs("ego_small", split="train"), load_graphs("ego_small", split="test")


# Published-definition values on the GDSS ego_small split, given to 7 decimal places.
REFERENCE = {
    "gdss": {"degree": 0.0142007, "clustering": 0.0272886, "spectral": 0.0243616, "orbit": 0.0044411},
    "gran": {"degree": 0.0037458, "clustering": 0.0226818},
}


@pytest.mark.parametrize("protocol", sorted(REFERENCE))
def test_reference_values_on_ego_small(ego_small, protocol):
    train, test = ego_small
    expected = REFERENCE[protocol]
    values = graph_mmd(train, test, stats=tuple(expected), protocol=protocol)
    for name, value in expected.items():
        assert round(values[name], 7) == value, (name, values[name])


def test_identical_inputs_give_zero_and_swapping_is_symmetric():
    graphs = [g for g in _random_graphs(12, seed=7) if g.number_of_edges()]
    others = [g for g in _random_graphs(9, seed=8) if g.number_of_edges()]
    for protocol in PROTOCOLS:
        assert all(abs(v) < 1e-12 for v in graph_mmd(graphs, graphs, protocol=protocol, clean=False).values())
        forward = graph_mmd(graphs, others, protocol=protocol, clean=False)
        backward = graph_mmd(others, graphs, protocol=protocol, clean=False)
        for name in STATISTICS:
            assert forward[name] == pytest.approx(backward[name], abs=1e-14)
            assert forward[name] > 0


def test_cleaning_of_generated_graphs():
    reference = [nx.cycle_graph(5), nx.path_graph(3)]
    with_isolated = nx.path_graph(4)
    with_isolated.add_nodes_from([10, 11])
    generated = [with_isolated, nx.empty_graph(3), nx.Graph()]
    # gdss: isolated nodes removed, graphs left empty become one node.
    assert graph_mmd(generated, reference) == graph_mmd(
        [nx.path_graph(4), nx.empty_graph(1), nx.empty_graph(1)], reference, clean=False
    )
    # gran: graphs left empty are dropped.
    assert graph_mmd(generated, reference, protocol="gran") == graph_mmd(
        [nx.path_graph(4)], reference, protocol="gran", clean=False
    )
    # Without cleaning the isolated nodes count (and graphs without nodes are skipped).
    assert graph_mmd(generated, reference, clean=False) == graph_mmd(
        [with_isolated, nx.empty_graph(3)], reference, clean=False
    )
    assert generated[0].number_of_nodes() == 6  # the caller's graph is not modified
    looped = nx.path_graph(3)
    looped.add_edge(1, 1)
    assert nx.number_of_selfloops(clean_graphs([looped])[0]) == 0


def test_pyg_input_equals_networkx_input():
    graphs = [g for g in _random_graphs(10, seed=9) if g.number_of_edges()]
    reference = [nx.cycle_graph(6), nx.star_graph(4)]
    assert graph_mmd([to_pyg(g) for g in graphs], reference) == graph_mmd(graphs, reference)


def test_bad_arguments():
    graphs = [nx.path_graph(3)]
    with pytest.raises(ValueError, match="protocol"):
        graph_mmd(graphs, graphs, protocol="graphrnn")
    with pytest.raises(ValueError, match="statistics"):
        graph_mmd(graphs, graphs, stats=("degree", "motifs"))
    with pytest.raises(ValueError, match="both samples"):
        graph_mmd([nx.empty_graph(2)], graphs, protocol="gran")
    with pytest.raises(ValueError, match="num_samples"):
        reference_floor(graphs, graphs, num_samples=0)


def test_reference_floor_is_seeded_real_vs_real_mmd(ego_small):
    train, test = ego_small
    floor = reference_floor(train, test, num_samples=64, seeds=(3, 4), stats=("degree", "orbit"))
    again = reference_floor(train, test, num_samples=64, seeds=(3, 4), stats=("degree", "orbit"))
    assert floor == again
    values = []
    for seed in (3, 4):
        draw = torch.randint(len(train), (64,), generator=torch.Generator().manual_seed(seed))
        values.append(graph_mmd([train[i] for i in draw], test, stats=("degree", "orbit"), clean=False))
    for name in ("degree", "orbit"):
        per_seed = [v[name] for v in values]
        assert floor[name]["mean"] == pytest.approx(np.mean(per_seed), rel=1e-12)
        assert floor[name]["std"] == pytest.approx(np.std(per_seed, ddof=1), rel=1e-9)
    assert statistics_mmd(graph_statistics(test, ("degree",)), graph_statistics(test, ("degree",)))["degree"] == 0.0
