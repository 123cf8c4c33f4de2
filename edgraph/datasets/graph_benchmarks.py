"""Graph benchmark datasets: ego_small, community_small(_gdss), grid and the seeded families, with their splits.

Published recipes (GraphRNN, You et al. 2018; EDP-GNN, Niu et al. 2020; GDSS, Jo et al. 2022)
are rebuilt here from raw files or seeds, so every user gets the same graphs.
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import networkx as nx
import numpy as np
from torch_geometric.data import InMemoryDataset

from edgraph.datasets.download import cache_dir, fetch, load_container_pickle, read_cache, write_cache
from edgraph.graphs import graphs_from_json, graphs_to_json, read_graphs_json, to_pyg

#: Version of the dataset builders; part of every processed cache's name, so a change rebuilds.
BUILDER_VERSION = 2
CITESEER_FILE = "ind.citeseer.graph"
CITESEER_SHA256 = "d79a4ef9d3e7169aee8946145f6b7306e35bc79bffad26346cfb94e10e9912a7"
# The Planetoid raw-data location that torch_geometric.datasets.Planetoid downloads from.
CITESEER_URL = "https://github.com/kimiyoung/planetoid/raw/master/data/ind.citeseer.graph"

COMMUNITY_GDSS_FILE = "community_small_gdss.json"
COMMUNITY_GDSS_SHA256 = "ecd5471d5aff271bd1d9559812b708e8bc465ea8c9a990945b51f5a624ebc3f2"


@dataclass(frozen=True)
class GraphDataset:
    """A named dataset: how to build all its graphs, its test-split size and padding size, and
    the family whose validity test (:data:`~edgraph.metrics.vun.VALIDITY`) its graphs pass, if any."""

    build: Callable[[os.PathLike | str | None], list[nx.Graph]]
    num_test: int
    max_nodes: int
    description: str
    family: str | None = None


def ego_small(root: str | os.PathLike | None = None) -> list[nx.Graph]:
    """The 200 ego_small graphs rebuilt from CiteSeer (GraphRNN/EDP-GNN/GDSS recipe).

    Largest connected component of CiteSeer, nodes relabelled to integers in order; for each
    node in order its radius-1 ego graph without self-loops, kept if it has 4..18 nodes; the
    first 200. The processed graphs are cached as JSON keyed by the raw file's checksum and the
    builder's version, and verified by their own checksum when read.
    """
    name = f"ego_small-{CITESEER_SHA256[:12]}"
    return _cached_graphs(name, lambda: _build_ego_small(root))


def _build_ego_small(root: str | os.PathLike | None) -> list[nx.Graph]:
    adjacency = load_container_pickle(fetch(CITESEER_FILE, CITESEER_URL, CITESEER_SHA256, root))
    citeseer = nx.from_dict_of_lists(adjacency)
    largest = citeseer.subgraph(max(nx.connected_components(citeseer), key=len))
    largest = nx.convert_node_labels_to_integers(largest)
    graphs = []
    for node in range(largest.number_of_nodes()):
        ego = nx.Graph(nx.ego_graph(largest, node, radius=1))
        ego.remove_edges_from(list(nx.selfloop_edges(ego)))
        if 4 <= ego.number_of_nodes() <= 18:
            graphs.append(nx.convert_node_labels_to_integers(ego))
        if len(graphs) == 200:
            break
    return graphs


def _cached_graphs(name: str, build: Callable[[], list[nx.Graph]]) -> list[nx.Graph]:
    """The graphs ``build()`` makes, cached as JSON in :func:`~edgraph.datasets.cache_dir`'s
    ``processed/{name}-v{BUILDER_VERSION}.json`` and verified by their own checksum when read
    (a missing, damaged or unreadable cache is rebuilt)."""
    cache = cache_dir() / "processed" / f"{name}-v{BUILDER_VERSION}.json"
    cached = read_cache(cache)
    if cached is not None:
        try:
            return graphs_from_json(json.loads(cached))
        except ValueError:
            pass  # a cache this version cannot read is rebuilt below
    graphs = build()
    write_cache(cache, json.dumps(graphs_to_json(graphs)).encode())
    return graphs


def community_small(root: str | os.PathLike | None = None, seed: int = 0, num_graphs: int = 100) -> list[nx.Graph]:
    """Two-community graphs by the published recipe (GraphRNN), regenerated from ``seed``.

    Total size n ~ U{12..20}; each community is G(n//2, 0.7); each cross pair becomes a bridge
    with probability 0.1/(n//2), and if none did, one bridge joins the first node of each.
    """
    rng = np.random.default_rng(seed)
    graphs = []
    for _ in range(num_graphs):
        half = int(rng.integers(12, 21)) // 2
        graph = nx.disjoint_union(*(nx.gnp_random_graph(half, 0.7, seed=int(rng.integers(2**31))) for _ in range(2)))
        bridges = [(u, half + v) for u in range(half) for v in range(half) if rng.random() < 0.1 / half]
        graph.add_edges_from(bridges or [(0, half)])
        graphs.append(graph)
    return graphs


def community_small_gdss(root: str | os.PathLike | None = None) -> list[nx.Graph]:
    """The community-small file GDSS evaluated on (100 graphs), in the interchange format."""
    return read_graphs_json(fetch(COMMUNITY_GDSS_FILE, None, COMMUNITY_GDSS_SHA256, root))


def sbm_small(root: str | os.PathLike | None = None, seed: int = 0, num_graphs: int = 100) -> list[nx.Graph]:
    """Three-block stochastic block models, regenerated from ``seed``.

    Three blocks of U{5..8} nodes each (15..24 in all); a pair inside a block is an edge with
    probability 0.7, a pair across blocks with probability 0.03.
    """
    rng = np.random.default_rng(seed)
    graphs = []
    for _ in range(num_graphs):
        sizes = [int(size) for size in rng.integers(5, 9, size=3)]
        probs = [[0.7 if i == j else 0.03 for j in range(3)] for i in range(3)]
        graph = nx.stochastic_block_model(sizes, probs, seed=int(rng.integers(2**31)))
        graphs.append(nx.Graph(graph))  # plain graph, without the block labels
    return graphs


def lobster_small(root: str | os.PathLike | None = None, seed: int = 0, num_graphs: int = 100) -> list[nx.Graph]:
    """Random lobster trees of 15..24 nodes, regenerated from ``seed``.

    ``networkx.random_lobster(6, 0.7, 0.7)`` (a caterpillar backbone whose nodes grow legs, whose
    legs grow toes; the recipe of GRAN's lobster dataset, Liao et al. 2019, at a smaller size),
    drawn until ``num_graphs`` have 15..24 nodes.
    """
    return random_lobsters(6, 15, 24, seed, num_graphs)


def random_lobsters(backbone: float, min_nodes: int, max_nodes: int, seed: int, num_graphs: int) -> list[nx.Graph]:
    """``networkx.random_lobster(backbone, 0.7, 0.7)`` graphs, each seeded from ``default_rng(seed)``,
    drawn until ``num_graphs`` have ``min_nodes..max_nodes`` nodes.

    >>> all(nx.is_tree(g) for g in random_lobsters(6, 15, 24, seed=0, num_graphs=3))
    True
    """
    # networkx 3.5 renamed random_lobster to random_lobster_graph (same draws); older ones lack the new name
    draw = getattr(nx, "random_lobster_graph", None) or nx.random_lobster
    rng = np.random.default_rng(seed)
    graphs: list[nx.Graph] = []
    while len(graphs) < num_graphs:
        graph = draw(backbone, 0.7, 0.7, seed=int(rng.integers(2**31)))
        if min_nodes <= graph.number_of_nodes() <= max_nodes:
            graphs.append(nx.convert_node_labels_to_integers(graph))
    return graphs


def planar(root: str | os.PathLike | None = None, seed: int = 0, num_graphs: int = 200) -> list[nx.Graph]:
    """Delaunay triangulations of 64 points drawn uniformly in the unit square (SPECTRE's planar
    recipe, Martinkus et al. 2022), regenerated from ``seed``: 64 nodes each."""
    from scipy.spatial import Delaunay

    rng = np.random.default_rng(seed)
    graphs = []
    for _ in range(num_graphs):
        graph = nx.empty_graph(64)
        for simplex in Delaunay(rng.random((64, 2))).simplices:
            a, b, c = (int(v) for v in simplex)
            graph.add_edges_from([(a, b), (b, c), (a, c)])
        graphs.append(graph)
    return graphs


def sbm(root: str | os.PathLike | None = None, seed: int = 0, num_graphs: int = 200) -> list[nx.Graph]:
    """Stochastic block models of SPECTRE's recipe, regenerated from ``seed``: 2..5 blocks of
    20..40 nodes each (both uniform), edge probability 0.3 inside a block and 0.005 across."""
    rng = np.random.default_rng(seed)
    graphs = []
    for _ in range(num_graphs):
        sizes = [int(size) for size in rng.integers(20, 41, size=int(rng.integers(2, 6)))]
        probs = [[0.3 if i == j else 0.005 for j in range(len(sizes))] for i in range(len(sizes))]
        graphs.append(nx.Graph(nx.stochastic_block_model(sizes, probs, seed=int(rng.integers(2**31)))))
    return graphs


def lobster(root: str | os.PathLike | None = None, seed: int = 0, num_graphs: int = 100) -> list[nx.Graph]:
    """Random lobster trees of GRAN's recipe (Liao et al. 2019), regenerated from ``seed``:
    ``random_lobster(80, 0.7, 0.7)`` drawn until ``num_graphs`` have 10..100 nodes."""
    return random_lobsters(80, 10, 100, seed, num_graphs)


#: Split sizes of the "-L" sets, which follow PolyGraph (Krimmel et al., ICLR 2026) with 8,192
#: training, 4,096 validation and 4,096 test graphs. The training split here is the first two
#: together; models hold out their own validation part of it.
LARGE_SIZES = {"test": 4096, "train": 8192 + 4096}


def large(family: Callable[..., list[nx.Graph]]) -> Callable[[os.PathLike | str | None], list[nx.Graph]]:
    """The "-L" version of a seeded family (:func:`planar`, :func:`sbm` or :func:`lobster`): the
    same recipe drawn from seed 1 for :data:`LARGE_SIZES` graphs in all (test split first),
    cached after the first build.

    >>> large(planar).__name__
    'planar_l'
    """

    def build(root: os.PathLike | str | None = None) -> list[nx.Graph]:
        total = sum(LARGE_SIZES.values())

        def draw() -> list[nx.Graph]:
            print(f"building {family.__name__}_l ({total} graphs; cached afterwards)", file=sys.stderr, flush=True)
            return family(seed=1, num_graphs=total)

        return _cached_graphs(f"{family.__name__}_l-{total}", draw)

    build.__name__ = f"{family.__name__}_l"
    return build


def grid(root: str | os.PathLike | None = None, seed: int = 0) -> list[nx.Graph]:
    """The 100 grids ``grid_2d_graph(m, n)``, m, n in 10..19, in a seeded random order."""
    graphs = [nx.convert_node_labels_to_integers(nx.grid_2d_graph(m, n)) for m in range(10, 20) for n in range(10, 20)]
    order = np.random.default_rng(seed).permutation(len(graphs))
    return [graphs[i] for i in order]


#: The graph benchmark datasets by name (see :func:`dataset_info` and :func:`load_graphs`).
#:
#: :meta hide-value:
DATASETS: dict[str, GraphDataset] = {
    "ego_small": GraphDataset(ego_small, 40, 18, "200 ego graphs of CiteSeer, 4..17 nodes"),
    "community_small": GraphDataset(community_small, 20, 20, "100 two-community graphs, seed 0"),
    "community_small_gdss": GraphDataset(community_small_gdss, 20, 20, "the 100 graphs GDSS used"),
    "sbm_small": GraphDataset(sbm_small, 20, 24, "100 three-block SBMs, 15..24 nodes, seed 0"),
    "lobster_small": GraphDataset(lobster_small, 20, 24, "100 lobster trees, 15..24 nodes, seed 0"),
    "grid": GraphDataset(grid, 20, 361, "100 2-D grids, 100..361 nodes"),
    "planar": GraphDataset(planar, 40, 64, "200 Delaunay triangulations of 64 random points, seed 0", "planar"),
    "sbm": GraphDataset(sbm, 40, 200, "200 SBMs of 2..5 blocks of 20..40 nodes, seed 0", "sbm"),
    "lobster": GraphDataset(lobster, 20, 100, "100 lobster trees of 10..100 nodes, seed 0", "lobster"),
    "planar_l": GraphDataset(large(planar), LARGE_SIZES["test"], 64, "planar's recipe, -L sizes", "planar"),
    "sbm_l": GraphDataset(large(sbm), LARGE_SIZES["test"], 200, "sbm's recipe, -L sizes", "sbm"),
    "lobster_l": GraphDataset(large(lobster), LARGE_SIZES["test"], 100, "lobster's recipe, -L sizes", "lobster"),
}


#: Names of the molecule datasets (:mod:`edgraph.datasets.molecule_benchmarks`, which needs RDKit).
MOLECULE_DATASETS = ("qm9", "nci_small")


def dataset_info(name: str) -> GraphDataset:
    """The registry entry of a dataset, or a ``ValueError`` listing the valid names.

    >>> info = dataset_info("ego_small")
    >>> info.num_test, info.max_nodes
    (40, 18)
    """
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {sorted(DATASETS)}")
    return DATASETS[name]


def load_graphs(name: str, split: str = "all", root: str | os.PathLike | None = None) -> list[nx.Graph]:
    """Graphs of a benchmark dataset: ``split`` is ``"train"``, ``"test"`` or ``"all"``.

    The test split is the first ``num_test`` graphs (ego_small, planar and sbm: 40; the "-L"
    sets: 4,096; the others: 20) and the training split the rest, as in GDSS. ``root``: argument,
    else ``$EDGRAPH_DATA``, else ``<repo>/datasets``.

    >>> graphs = load_graphs("ego_small", split="test")
    >>> len(graphs)
    40
    """
    info = dataset_info(name)
    graphs = info.build(root)
    if split == "all":
        return graphs
    if split == "test":
        return graphs[: info.num_test]
    if split == "train":
        return graphs[info.num_test :]
    raise ValueError(f"unknown split {split!r}; choose 'train', 'test' or 'all'")


def describe(graphs: Sequence[nx.Graph]) -> dict:
    """Summary statistics of a list of graphs: counts of graphs, nodes and edges.

    >>> describe([nx.path_graph(3), nx.path_graph(4)])["num_edges"]
    5
    """
    nodes = [g.number_of_nodes() for g in graphs]
    edges = [g.number_of_edges() for g in graphs]
    return {
        "num_graphs": len(graphs),
        "num_edges": int(sum(edges)),
        "nodes_min": min(nodes, default=0),
        "nodes_max": max(nodes, default=0),
        "nodes_mean": float(np.mean(nodes)) if nodes else 0.0,
        "edges_mean": float(np.mean(edges)) if edges else 0.0,
        "node_count_histogram": dict(sorted(Counter(nodes).items())),
    }


class _GraphInMemoryDataset(InMemoryDataset):
    """PyG view of a named dataset split: one ``Data(edge_index, num_nodes)`` per graph."""

    name: str

    def __init__(
        self, root: str | os.PathLike | None = None, split: str = "train", transform: Callable | None = None
    ) -> None:
        super().__init__(None, transform)
        self.split = split
        self._data, self.slices = self.collate([to_pyg(g) for g in load_graphs(self.name, split, root)])

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self)}, split={self.split!r})"


class EgoSmall(_GraphInMemoryDataset):
    """ego_small as a torch_geometric ``InMemoryDataset`` (split ``"train"``/``"test"``/``"all"``).

    >>> dataset = EgoSmall(split="test")
    >>> dataset, dataset[0]
    (EgoSmall(40, split='test'), Data(edge_index=[2, 20], num_nodes=6))
    """

    name = "ego_small"


class CommunitySmall(_GraphInMemoryDataset):
    """community_small (regenerated from seed 0) as a torch_geometric ``InMemoryDataset``."""

    name = "community_small"


class CommunitySmallGDSS(_GraphInMemoryDataset):
    """GDSS's community_small file as a torch_geometric ``InMemoryDataset``."""

    name = "community_small_gdss"


class Grid(_GraphInMemoryDataset):
    """The grid dataset as a torch_geometric ``InMemoryDataset``."""

    name = "grid"
