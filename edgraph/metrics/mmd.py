r"""MMD between sets of graphs under the published evaluation protocols.

``protocol="gdss"`` (GraphRNN, EDP-GNN, GDSS) and ``protocol="gran"`` (GRAN, SPECTRE, DiGress)
use the same statistics with different kernels; their numbers are not interchangeable:

============  ==============================================  ===================================
statistic     ``gdss``                                        ``gran``
============  ==============================================  ===================================
degree        Gaussian-EMD, :math:`\sigma = 1`                Gaussian-TV, :math:`\sigma = 1`
clustering    Gaussian-EMD, :math:`\sigma = 0.1`,             Gaussian-TV, :math:`\sigma = 0.1`
              ground distance :math:`|i-j|/100`
orbit         Gaussian on :math:`L_2`, :math:`\sigma = 30`    Gaussian-TV, :math:`\sigma = 30`
spectral      Gaussian-EMD, :math:`\sigma = 1`                Gaussian-TV, :math:`\sigma = 1`
============  ==============================================  ===================================

Histograms (degree, clustering, spectral) are normalised to probability vectors; the orbit
statistic (mean orbit counts per node) is not. The value is the biased MMD², not clipped.

Generated graphs are cleaned as the published pipelines do before evaluating (``clean=True``):
self-loops and isolated nodes are removed; a graph left without nodes becomes a single node
under ``gdss`` (GDSS ``adjs_to_graphs``) and is dropped under ``gran`` (GRAN ``get_graph``
leaves it empty and the statistics skip empty graphs). Reference graphs are used as given;
graphs without nodes are dropped from either sample, as the published statistics do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial

import networkx as nx
import numpy as np
import torch
from torch import Tensor

from edgraph.graphs import GraphLike, _as_networkx, graphs_to_dense
from edgraph.metrics.kernels import Kernel, emd_distance, euclidean_distance, gaussian, mmd2, total_variation
from edgraph.metrics.statistics import clustering_histogram, degree_histogram, orbit_statistic, spectral_histogram

#: Names of the graph statistics, in the order they are computed and reported.
STATISTICS = ("degree", "clustering", "orbit", "spectral")

_STATISTIC_FUNCTIONS: dict[str, Callable[[Tensor, Tensor], Tensor]] = {
    "degree": degree_histogram,
    "clustering": clustering_histogram,
    "orbit": orbit_statistic,
    "spectral": spectral_histogram,
}

#: Elements of the ``[chunk, N, N]`` matrix products computed at once (graphs are grouped by size).
_DENSE_BUDGET = 1 << 24


@dataclass(frozen=True)
class KernelSpec:
    """One protocol entry: distance (``"emd"``, ``"tv"`` or ``"l2"``), bandwidth ``sigma``, the EMD
    bin width, and whether the statistic is a histogram to normalise (``is_hist`` in the
    published code)."""

    distance: str
    sigma: float
    bin_width: float = 1.0
    normalise: bool = True

    def __post_init__(self) -> None:
        if self.distance not in ("emd", "tv", "l2"):
            raise ValueError(f"distance must be 'emd', 'tv' or 'l2', got {self.distance!r}")
        if self.sigma <= 0:
            raise ValueError(f"sigma must be positive, got {self.sigma}")

    def kernel(self) -> Kernel:
        """The kernel ``k(a, b) -> [len(a), len(b)]`` (``b=None``: ``a`` against itself).

        >>> KernelSpec("l2", sigma=1.0).kernel()(torch.zeros(1, 2), None)
        tensor([[1.]], dtype=torch.float64)
        """
        distance: Callable[[Tensor, Tensor | None], Tensor]
        if self.distance == "emd":
            distance = partial(emd_distance, bin_width=self.bin_width)
        elif self.distance == "tv":
            distance = total_variation
        else:
            distance = euclidean_distance
        return lambda a, b: gaussian(distance(a, b), self.sigma)


#: Kernel of each statistic under each evaluation protocol (the table of the module docstring).
#:
#: :meta hide-value:
PROTOCOLS: dict[str, dict[str, KernelSpec]] = {
    "gdss": {
        "degree": KernelSpec("emd", 1.0),
        "clustering": KernelSpec("emd", 0.1, bin_width=1 / 100),
        "orbit": KernelSpec("l2", 30.0, normalise=False),
        "spectral": KernelSpec("emd", 1.0),
    },
    "gran": {
        "degree": KernelSpec("tv", 1.0),
        "clustering": KernelSpec("tv", 0.1),
        "orbit": KernelSpec("tv", 30.0, normalise=False),
        "spectral": KernelSpec("tv", 1.0),
    },
}


def clean_graphs(graphs: Sequence[GraphLike], empty: str = "one_node") -> list[nx.Graph]:
    """Remove self-loops and isolated nodes; an empty result becomes one node (``"one_node"``)
    or is dropped (``"drop"``). Input graphs are not modified.

    >>> g = nx.Graph([(0, 1)]); g.add_node(2)
    >>> [h.number_of_nodes() for h in clean_graphs([g, nx.empty_graph(3)])]
    [2, 1]
    >>> len(clean_graphs([nx.empty_graph(3)], empty="drop"))
    0
    """
    if empty not in ("one_node", "drop"):
        raise ValueError(f"empty must be 'one_node' or 'drop', got {empty!r}")
    cleaned = []
    for graph in _as_networkx(graphs):
        if graph.number_of_nodes() and nx.number_of_selfloops(graph) == 0 and min(d for _, d in graph.degree()) > 0:
            cleaned.append(graph)  # already clean: no copy needed
            continue
        graph = nx.Graph(graph)
        graph.remove_edges_from(list(nx.selfloop_edges(graph)))
        graph.remove_nodes_from(list(nx.isolates(graph)))
        if graph.number_of_nodes() == 0:
            if empty == "drop":
                continue
            graph.add_node(0)
        cleaned.append(graph)
    return cleaned


def graph_statistics(graphs: Sequence[GraphLike], stats: Sequence[str] = STATISTICS) -> dict[str, Tensor]:
    """Per-graph statistics, one row per graph in input order (see :mod:`edgraph.metrics.statistics`).

    Graphs are padded in groups of similar size, so a few large graphs do not inflate the rest.
    Histogram widths: degree ``N`` (largest graph), clustering 100, spectral 200; orbit 15.

    >>> s = graph_statistics([nx.path_graph(3), nx.complete_graph(4)], stats=("degree",))
    >>> s["degree"].tolist()
    [[0, 2, 1, 0], [0, 0, 0, 4]]
    """
    stats = _check_statistics(stats)
    graphs = _as_networkx(graphs)
    sizes = torch.tensor([g.number_of_nodes() for g in graphs], dtype=torch.long)
    return _grouped_statistics(sizes, lambda rows: graphs_to_dense([graphs[i] for i in rows.tolist()]), stats)


def dense_statistics(adj: Tensor, node_mask: Tensor, stats: Sequence[str] = STATISTICS) -> dict[str, Tensor]:
    """:func:`graph_statistics` of a padded batch ``adj [B, N, N]``, ``node_mask [B, N]``
    (real nodes first), without converting to networkx.

    >>> adj = torch.tensor([[[0., 1., 0.], [1., 0., 1.], [0., 1., 0.]]])
    >>> dense_statistics(adj, torch.ones(1, 3, dtype=torch.bool), ("degree",))["degree"].tolist()
    [[0, 2, 1]]
    """
    stats = _check_statistics(stats)
    node_mask = node_mask.bool()
    sizes = node_mask.sum(1).cpu()

    def batch(rows: Tensor) -> tuple[Tensor, Tensor]:
        n = int(sizes[rows].max())
        return adj[rows][:, :n, :n], node_mask[rows][:, :n]

    return _grouped_statistics(sizes, batch, stats)


def _check_statistics(stats: Iterable[str]) -> tuple[str, ...]:
    """``stats`` as a tuple, after checking each name (a bare string is refused, not split)."""
    if isinstance(stats, str):
        raise ValueError(f"stats must be a list of statistic names, got the string {stats!r}")
    stats = tuple(stats)
    unknown = [s for s in stats if s not in _STATISTIC_FUNCTIONS]
    if unknown:
        raise ValueError(f"unknown statistics {unknown}; choose from {list(STATISTICS)}")
    return stats


def _grouped_statistics(
    sizes: Tensor, batch: Callable[[Tensor], tuple[Tensor, Tensor]], stats: Sequence[str]
) -> dict[str, Tensor]:
    """Statistics of graphs of node counts ``sizes [B]``, computed on groups of similar size that
    ``batch(rows)`` pads to their largest graph; rows come back in input order."""
    if (sizes == 0).any():
        raise ValueError("graph statistics need graphs with at least one node")
    order = torch.from_numpy(np.argsort(sizes.numpy(), kind="stable"))
    parts: dict[str, list[Tensor]] = {s: [] for s in stats}
    start = 0
    while start < len(order):
        # Largest graph of the chunk is the last one (sorted); grow while the budget allows.
        stop = start + 1
        while stop < len(order) and (stop + 1 - start) * int(sizes[order[stop]]) ** 3 <= _DENSE_BUDGET:
            stop += 1
        adj, node_mask = batch(order[start:stop])
        for s in stats:
            parts[s].append(_STATISTIC_FUNCTIONS[s](adj, node_mask).cpu())
        start = stop
    inverse = order.argsort()
    out = {}
    for s, chunks in parts.items():
        width = max(c.shape[1] for c in chunks) if chunks else 0
        rows = torch.cat([torch.nn.functional.pad(c, (0, width - c.shape[1])) for c in chunks]) if chunks else None
        out[s] = rows[inverse] if rows is not None else torch.zeros(0, 0)
    return out


def clean_dense(adj: Tensor, node_mask: Tensor, empty: str = "one_node") -> tuple[Tensor, Tensor]:
    """:func:`clean_graphs` on a padded batch: self-loops and isolated nodes removed, the kept
    nodes moved to the front in their order; a graph left without nodes keeps one node
    (``"one_node"``) or is dropped (``"drop"``).

    >>> adj = torch.tensor([[[0., 0., 1.], [0., 0., 0.], [1., 0., 0.]]])
    >>> adj2, mask2 = clean_dense(adj, torch.ones(1, 3, dtype=torch.bool))
    >>> adj2[0].int().tolist(), mask2.tolist()
    ([[0, 1, 0], [1, 0, 0], [0, 0, 0]], [[True, True, False]])
    """
    if empty not in ("one_node", "drop"):
        raise ValueError(f"empty must be 'one_node' or 'drop', got {empty!r}")
    adj = adj * (1 - torch.eye(adj.shape[-1], dtype=adj.dtype, device=adj.device))
    keep = node_mask.bool() & (adj.sum(-1) > 0)
    empty_graphs = ~keep.any(1)
    if empty == "drop":
        adj, keep, empty_graphs = adj[~empty_graphs], keep[~empty_graphs], empty_graphs[~empty_graphs]
    order = (~keep).to(torch.int8).argsort(dim=1, stable=True)  # kept nodes first, in their order
    adj = adj.gather(1, order[:, :, None].expand_as(adj)).gather(2, order[:, None, :].expand_as(adj))
    keep = keep.gather(1, order)
    keep[empty_graphs, 0] = True
    return adj, keep


def _check_protocol(protocol: str, stats: Iterable[str]) -> tuple[str, ...]:
    """``stats`` as a tuple, after checking them and ``protocol``."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}; choose from {sorted(PROTOCOLS)}")
    return _check_statistics(stats)


def statistics_mmd(
    generated: dict[str, Tensor], reference: dict[str, Tensor], protocol: str = "gdss"
) -> dict[str, float]:
    """MMD² per statistic from precomputed :func:`graph_statistics` of both samples.

    >>> s = graph_statistics([nx.path_graph(3)], stats=("degree",))
    >>> statistics_mmd(s, s)
    {'degree': 0.0}
    """
    _check_protocol(protocol, list(generated))
    specs = PROTOCOLS[protocol]
    out = {}
    for s, x in generated.items():
        x, y = x.to(torch.float64), reference[s].to(torch.float64)
        spec = specs[s]
        if spec.normalise and spec.distance != "emd":  # EMD normalises its count histograms itself
            x, y = x / x.sum(1, keepdim=True), y / y.sum(1, keepdim=True)
        out[s] = mmd2(x, y, spec.kernel())
    return out


def graph_mmd(
    generated: Sequence[GraphLike],
    reference: Sequence[GraphLike],
    stats: Sequence[str] = STATISTICS,
    protocol: str = "gdss",
    clean: bool = True,
) -> dict[str, float]:
    r"""Biased MMD² between generated and reference graphs for each statistic (unclipped).

    ``generated`` and ``reference`` are lists of networkx graphs or PyG ``Data``. With
    ``clean=True`` the generated graphs are cleaned as the protocol's published pipeline
    does (:func:`clean_graphs`; see the module docstring). ``protocol`` is ``"gdss"`` or
    ``"gran"``; the table of kernels is in the module docstring and :data:`PROTOCOLS`.

    >>> graphs = [nx.path_graph(4), nx.star_graph(3)]
    >>> graph_mmd(graphs, graphs)
    {'degree': 0.0, 'clustering': 0.0, 'orbit': 0.0, 'spectral': 0.0}
    """
    stats = _check_protocol(protocol, stats)
    if clean:
        generated = clean_graphs(generated, empty="one_node" if protocol == "gdss" else "drop")
    generated = [g for g in _as_networkx(generated) if g.number_of_nodes() > 0]
    reference = [g for g in _as_networkx(reference) if g.number_of_nodes() > 0]
    if not generated or not reference:
        raise ValueError(
            f"need graphs with nodes in both samples, got {len(generated)} generated and {len(reference)} reference"
        )
    return statistics_mmd(graph_statistics(generated, stats), graph_statistics(reference, stats), protocol)


def graph_mmd_dense(
    adj: Tensor,
    node_mask: Tensor,
    reference: Sequence[GraphLike],
    stats: Sequence[str] = STATISTICS,
    protocol: str = "gdss",
    clean: bool = True,
) -> dict[str, float]:
    r""":func:`graph_mmd` of generated graphs given as a padded batch ``adj [B, N, N]``,
    ``node_mask [B, N]`` (as :meth:`edgraph.GraphEBM.sample_tensors` returns them), with the same
    cleaning and kernels, and no conversion of the generated graphs to networkx.

    >>> graphs = [nx.path_graph(4), nx.star_graph(3)]
    >>> adj, node_mask = graphs_to_dense(graphs)
    >>> graph_mmd_dense(adj, node_mask, graphs, stats=("degree", "orbit"))
    {'degree': 0.0, 'orbit': 0.0}
    """
    stats = _check_protocol(protocol, stats)
    if clean:
        adj, node_mask = clean_dense(adj, node_mask, empty="one_node" if protocol == "gdss" else "drop")
    keep = node_mask.bool().any(1)
    adj, node_mask = adj[keep], node_mask[keep]
    reference = [g for g in _as_networkx(reference) if g.number_of_nodes() > 0]
    if not len(adj) or not reference:
        raise ValueError(
            f"need graphs with nodes in both samples, got {len(adj)} generated and {len(reference)} reference"
        )
    generated = dense_statistics(adj, node_mask, stats)
    return statistics_mmd(generated, graph_statistics(reference, stats), protocol)


def reference_floor(
    train: Sequence[GraphLike],
    test: Sequence[GraphLike],
    num_samples: int,
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    protocol: str = "gdss",
    stats: Sequence[str] = STATISTICS,
) -> dict[str, dict[str, float]]:
    r"""MMD² of real against real: ``num_samples`` training graphs drawn with replacement vs ``test``.

    This is what a perfect generator scores with a sample of that size; print it next to
    every result. Returns ``{stat: {"mean": ..., "std": ...}}`` over ``seeds`` (std with
    ``ddof=1``; 0 for a single seed).

    >>> graphs = [nx.path_graph(4), nx.star_graph(3), nx.cycle_graph(5)]
    >>> floor = reference_floor(graphs, graphs, num_samples=6, seeds=(0, 1), stats=("degree",))
    >>> sorted(floor["degree"])
    ['mean', 'std']
    """
    stats = _check_protocol(protocol, stats)
    if num_samples < 1:
        raise ValueError(f"num_samples must be positive, got {num_samples}")
    if not seeds:
        raise ValueError("reference_floor needs at least one seed")
    train = [g for g in _as_networkx(train) if g.number_of_nodes() > 0]
    test = [g for g in _as_networkx(test) if g.number_of_nodes() > 0]
    if not train or not test:
        raise ValueError("reference_floor needs non-empty train and test graphs")
    train_stats, test_stats = graph_statistics(train, stats), graph_statistics(test, stats)
    values: dict[str, list[float]] = {s: [] for s in stats}
    for seed in seeds:
        generator = torch.Generator().manual_seed(int(seed))
        draw = torch.randint(len(train), (num_samples,), generator=generator)
        drawn = {s: v[draw] for s, v in train_stats.items()}
        for s, value in statistics_mmd(drawn, test_stats, protocol).items():
            values[s].append(value)
    return {
        s: {"mean": float(np.mean(v)), "std": float(np.std(v, ddof=1)) if len(v) > 1 else 0.0}
        for s, v in values.items()
    }
