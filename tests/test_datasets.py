import dataclasses
import functools
import hashlib
import http.server
import json
import pickle
import shutil
import threading
from collections import Counter
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

import edgraph.datasets.graph_benchmarks as graph_datasets
from edgraph.datasets import (
    CommunitySmall,
    EgoSmall,
    Grid,
    data_root,
    dataset_info,
    describe,
    download,
    fetch,
    load_graphs,
)
from edgraph.datasets.download import load_container_pickle
from edgraph.graphs import graphs_to_json
from edgraph.metrics.vun import is_lobster_graph, is_planar_graph

CITESEER = Path(__file__).resolve().parents[1] / "datasets" / "ind.citeseer.graph"  # committed with the repository

# Totals of the seeded synthetic datasets: a change of recipe or of the RNG streams shows here.
SBM_SMALL_EDGES = 4470
LOBSTER_SMALL_NODES = 1884
#: sha256 of each seeded family's graphs in the JSON interchange format (as in datasets/README.md).
FAMILY_SHA256 = {
    "planar": "bc94f0cbcd6d25fe5367b254da17c62d92ef7a589291630d9b6e01c3e5590a78",
    "sbm": "4d86b9453d840d0c0b2f08b5cc87224d26aa4609bb188d5873f04861fad5bb27",
    "lobster": "06132c59d4d8157456a3a0fa5178d18b96601a2ab67a252b5264aa6880dd6fe7",
}


def test_ego_small_reproduces_the_published_figures():
    graphs = load_graphs("ego_small")
    assert len(graphs) == 200
    assert sum(g.number_of_edges() for g in graphs) == 1739
    assert dict(Counter(g.number_of_nodes() for g in graphs)) == {
        4: 67,
        5: 38,
        6: 24,
        7: 24,
        8: 12,
        9: 7,
        10: 5,
        11: 7,
        12: 4,
        13: 4,
        14: 1,
        15: 1,
        16: 5,
        17: 1,
    }
    assert all(nx.is_connected(g) and nx.number_of_selfloops(g) == 0 for g in graphs)


def test_splits_partition_the_dataset():
    all_graphs = load_graphs("ego_small")
    test, train = load_graphs("ego_small", "test"), load_graphs("ego_small", "train")
    assert (len(test), len(train)) == (40, 160)
    edges = lambda gs: [sorted(g.edges) for g in gs]  # noqa: E731
    assert edges(test) + edges(train) == edges(all_graphs)


def test_cached_ego_small_equals_a_fresh_build(tmp_path, monkeypatch):
    first = load_graphs("ego_small")
    monkeypatch.setenv("EDGRAPH_CACHE", str(tmp_path / "fresh"))
    assert [sorted(g.edges) for g in load_graphs("ego_small")] == [sorted(g.edges) for g in first]
    assert list((tmp_path / "fresh" / "processed").glob("ego_small-*.json"))


def test_an_edited_cache_is_not_used(tmp_path, monkeypatch):
    monkeypatch.setenv("EDGRAPH_CACHE", str(tmp_path))
    fresh = [sorted(g.edges) for g in load_graphs("ego_small")]
    (cache,) = (tmp_path / "processed").glob("ego_small-*.json")
    cache.write_text(json.dumps({"graphs": [{"num_nodes": 2, "edges": [[0, 1]]}] * 200}))  # other valid JSON
    assert [sorted(g.edges) for g in load_graphs("ego_small")] == fresh


def test_community_small_gdss_file():
    graphs = load_graphs("community_small_gdss")
    assert len(graphs) == 100 and len(load_graphs("community_small_gdss", "test")) == 20
    assert all(12 <= g.number_of_nodes() <= 20 for g in graphs)


def test_community_small_follows_the_recipe():
    graphs = load_graphs("community_small")
    assert len(graphs) == 100 and [sorted(g.edges) for g in graphs] == [
        sorted(g.edges) for g in graph_datasets.community_small(seed=0)
    ]
    for g in graphs:
        n = g.number_of_nodes()
        assert n % 2 == 0 and 12 <= n <= 20
        half = n // 2
        bridges = [(u, v) for u, v in g.edges if (u < half) != (v < half)]
        assert len(bridges) >= 1
        inner = g.number_of_edges() - len(bridges)
        assert 0.3 < inner / (2 * half * (half - 1) / 2) <= 1.0  # G(n/2, 0.7) twice
    assert sorted(graph_datasets.community_small(seed=1)[0].edges) != sorted(graphs[0].edges)


def test_sbm_small_follows_the_recipe():
    graphs = load_graphs("sbm_small")
    assert len(graphs) == 100 and len(load_graphs("sbm_small", "test")) == 20
    assert sum(g.number_of_edges() for g in graphs) == SBM_SMALL_EDGES  # pinned: the same graphs for every user
    assert sorted(graph_datasets.sbm_small(seed=1)[0].edges) != sorted(graphs[0].edges)
    inside = across = inside_pairs = across_pairs = 0
    for g in graphs:
        assert 15 <= g.number_of_nodes() <= 24 and not list(nx.selfloop_edges(g))
    # the blocks are consecutive node ranges; recover them from the builder's own draw
    rng = np.random.default_rng(0)
    for g in graphs:
        sizes = [int(s) for s in rng.integers(5, 9, size=3)]
        rng.integers(2**31)
        block = np.repeat(np.arange(3), sizes)
        assert len(block) == g.number_of_nodes()
        for u, v in g.edges:
            inside, across = inside + (block[u] == block[v]), across + (block[u] != block[v])
        inside_pairs += sum(s * (s - 1) // 2 for s in sizes)
        across_pairs += len(block) * (len(block) - 1) // 2 - sum(s * (s - 1) // 2 for s in sizes)
    assert abs(inside / inside_pairs - 0.7) < 0.02 and abs(across / across_pairs - 0.03) < 0.01


def test_lobster_small_graphs_are_lobsters():
    graphs = load_graphs("lobster_small")
    assert len(graphs) == 100 and len(load_graphs("lobster_small", "test")) == 20
    assert sum(g.number_of_nodes() for g in graphs) == LOBSTER_SMALL_NODES  # pinned
    assert sorted(graph_datasets.lobster_small(seed=1)[0].edges) != sorted(graphs[0].edges)
    for g in graphs:
        assert 15 <= g.number_of_nodes() <= 24 and is_lobster_graph(g)


def test_grid_dataset():
    graphs = load_graphs("grid")
    sizes = sorted(g.number_of_nodes() for g in graphs)
    assert len(graphs) == 100 and sizes[0] == 100 and sizes[-1] == 361
    assert len(load_graphs("grid", "test")) == 20


def test_unknown_names_list_the_valid_ones():
    with pytest.raises(ValueError, match="ego_small"):
        load_graphs("ego_big")
    with pytest.raises(ValueError, match="'train', 'test' or 'all'"):
        load_graphs("ego_small", split="valid")


def test_pyg_datasets():
    train = EgoSmall(split="train")
    assert len(train) == 160 and train[0].num_nodes == load_graphs("ego_small", "train")[0].number_of_nodes()
    assert len(CommunitySmall(split="test")) == 20 and len(Grid(split="test")) == 20


def test_describe():
    summary = describe(load_graphs("ego_small"))
    assert summary["num_edges"] == 1739 and summary["nodes_max"] == 17


def test_data_root_resolution(monkeypatch, tmp_path):
    monkeypatch.setenv("EDGRAPH_DATA", str(tmp_path))
    assert data_root() == tmp_path and data_root("elsewhere") == Path("elsewhere")
    monkeypatch.delenv("EDGRAPH_DATA")
    assert data_root() == CITESEER.parent


def test_unpickler_admits_only_containers(tmp_path):
    assert isinstance(load_container_pickle(CITESEER), dict)
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps(Path("/")))  # any non-container class
    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        load_container_pickle(path)


def test_corrupted_local_file_is_refused_and_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("EDGRAPH_CACHE", str(tmp_path / "cache"))
    (tmp_path / "ind.citeseer.graph").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="corrupted"):
        load_graphs("ego_small", root=tmp_path)
    assert (tmp_path / "ind.citeseer.graph").read_bytes() == b"garbage"


@pytest.fixture
def http_server(tmp_path):
    """Serve a folder on 127.0.0.1 holding a good and a corrupted copy of the CiteSeer file."""
    served = tmp_path / "served"
    served.mkdir()
    shutil.copy(CITESEER, served / "good")
    (served / "bad").write_bytes(CITESEER.read_bytes()[:-10] + b"0123456789")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_download_verifies_and_writes_atomically(http_server, tmp_path, monkeypatch):
    root = tmp_path / "data"
    monkeypatch.setattr(graph_datasets, "CITESEER_URL", f"{http_server}/good")
    monkeypatch.setenv("EDGRAPH_CACHE", str(tmp_path / "cache"))
    graphs = load_graphs("ego_small", root=root)
    assert len(graphs) == 200
    target = root / "raw" / "ind.citeseer.graph"
    assert hashlib.sha256(target.read_bytes()).hexdigest() == graph_datasets.CITESEER_SHA256
    assert [p.name for p in target.parent.iterdir()] == ["ind.citeseer.graph"]


def test_corrupted_download_is_refused_and_not_left_on_disk(http_server, tmp_path):
    with pytest.raises(ValueError, match="corrupted"):
        fetch("ind.citeseer.graph", f"{http_server}/bad", graph_datasets.CITESEER_SHA256, tmp_path)
    assert not any((tmp_path / "raw").iterdir())


def test_offline_download_says_where_to_put_the_file(tmp_path):
    with pytest.raises(RuntimeError, match="put the file at"):
        fetch("ind.citeseer.graph", "http://127.0.0.1:9/missing", graph_datasets.CITESEER_SHA256, tmp_path)


def test_read_only_root_downloads_into_the_cache(http_server, tmp_path, monkeypatch):
    root = tmp_path / "readonly"
    root.mkdir()
    monkeypatch.setenv("EDGRAPH_CACHE", str(tmp_path / "cache"))
    # CI runs as root, which ignores mode bits: make the root read-only as fetch sees it
    monkeypatch.setattr(download.os, "access", lambda path, mode: Path(path) != root)
    path = fetch("ind.citeseer.graph", f"{http_server}/good", graph_datasets.CITESEER_SHA256, root)
    assert path == tmp_path / "cache" / "raw" / "ind.citeseer.graph"
    assert not any(root.iterdir())


@pytest.mark.parametrize("name", sorted(FAMILY_SHA256))
def test_larger_families_regenerate_the_recorded_graphs(name):
    graphs = load_graphs(name)
    text = json.dumps(graphs_to_json(graphs), sort_keys=True)
    assert hashlib.sha256(text.encode()).hexdigest() == FAMILY_SHA256[name]
    assert len(load_graphs(name, "test")) == dataset_info(name).num_test
    assert max(g.number_of_nodes() for g in graphs) <= dataset_info(name).max_nodes
    if name == "planar":
        assert all(g.number_of_nodes() == 64 and is_planar_graph(g) for g in graphs)
    elif name == "lobster":
        assert all(10 <= g.number_of_nodes() <= 100 and is_lobster_graph(g) for g in graphs)
    else:
        assert all(40 <= g.number_of_nodes() <= 200 for g in graphs)
        # 0.3 inside blocks of 20..40 nodes: about 0.3 * (b - 1) neighbours, 5.7 to 11.7
        mean_degree = np.mean([2 * g.number_of_edges() / g.number_of_nodes() for g in graphs])
        assert 5.7 < mean_degree < 11.7


@pytest.mark.parametrize("name", sorted(FAMILY_SHA256))
def test_large_versions_split_and_cache_their_recipe_drawn_from_seed_1(name, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("EDGRAPH_CACHE", str(tmp_path))
    large = f"{name}_l"
    monkeypatch.setattr(graph_datasets, "LARGE_SIZES", {"test": 3, "train": 5})
    monkeypatch.setitem(graph_datasets.DATASETS, large, dataclasses.replace(dataset_info(large), num_test=3))
    assert dataset_info(large).family == dataset_info(name).family == name
    expected = [sorted(g.edges) for g in getattr(graph_datasets, name)(seed=1, num_graphs=8)]
    test, train = load_graphs(large, "test"), load_graphs(large, "train")
    assert [sorted(g.edges) for g in test + train] == expected
    assert len(train) == 5
    assert capsys.readouterr().err.count(f"building {large} (8 graphs") == 1  # once: the second load read the cache
    cache = tmp_path / "processed" / f"{large}-8-v{graph_datasets.BUILDER_VERSION}.json"
    assert cache.exists()
    cache.write_text("[]")  # a damaged cache is rebuilt
    assert [sorted(g.edges) for g in load_graphs(large)] == expected


#: sha256 of the first 256 graphs of each "-L" set (the whole sets' are in datasets/README.md);
#: each set draws its graphs in order from one seeded stream, so its prefix pins the recipe.
LARGE_PREFIX_SHA256 = {
    "planar": "fdd15cb5c98a2094e5670f22b6b88299082431259e1a62c9c2e5b894fead7c5a",
    "sbm": "19eac92fa146a73fecc69391c09b3f17f3bc81cedea19c295eb4cde3f91a835d",
    "lobster": "303bf75451c0d3a67e187a4617ec11cc6e628c3af9667bdfd389502086379d42",
}


@pytest.mark.parametrize("name", sorted(LARGE_PREFIX_SHA256))
def test_large_versions_regenerate_the_recorded_graphs(name):
    graphs = getattr(graph_datasets, name)(seed=1, num_graphs=256)
    text = json.dumps(graphs_to_json(graphs), sort_keys=True)
    assert hashlib.sha256(text.encode()).hexdigest() == LARGE_PREFIX_SHA256[name]
