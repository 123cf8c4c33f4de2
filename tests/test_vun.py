"""Validity tests of the planar and lobster families, and V.U.N. against counts made by hand."""

import networkx as nx
import pytest

from edgraph.metrics.vun import graph_vun, is_lobster_graph, is_planar_graph


def spider(legs: int, length: int) -> nx.Graph:
    """A centre with ``legs`` paths of ``length`` edges each."""
    graph = nx.empty_graph(1)
    for leg in range(legs):
        previous = 0
        for step in range(length):
            node = 1 + leg * length + step
            graph.add_edge(previous, node)
            previous = node
    return graph


@pytest.mark.parametrize(
    "graph, planar",
    [
        (nx.complete_graph(4), True),
        (nx.complete_graph(5), False),
        (nx.complete_bipartite_graph(3, 3), False),
        (nx.grid_2d_graph(4, 5), True),
        (nx.disjoint_union(nx.cycle_graph(4), nx.cycle_graph(3)), False),  # planar but disconnected
        (nx.empty_graph(0), False),
    ],
)
def test_planar_validity(graph, planar):
    assert is_planar_graph(graph) is planar


@pytest.mark.parametrize(
    "graph, lobster",
    [
        (nx.path_graph(6), True),
        (spider(3, 2), True),  # every node within 2 of the path through two legs
        (spider(3, 3), False),  # the third leg's tip is 3 away from any path through the centre
        (spider(4, 2), True),
        (nx.cycle_graph(5), False),  # not a tree
        (nx.disjoint_union(nx.path_graph(3), nx.path_graph(3)), False),  # a forest
        (nx.empty_graph(1), True),
    ],
)
def test_lobster_validity(graph, lobster):
    assert is_lobster_graph(graph) is lobster


def test_vun_counts_each_class_once_and_needs_all_three():
    train = [nx.path_graph(4), nx.cycle_graph(5)]
    generated = [
        nx.path_graph(5),  # valid, new: counts
        nx.path_graph(5),  # repeat of the first: not unique
        nx.path_graph(4),  # a training graph: not novel
        nx.cycle_graph(6),  # not a tree: invalid
        spider(3, 2),  # valid, new: counts
        nx.relabel_nodes(spider(3, 2), {0: 99}),  # isomorphic to the one before
    ]
    assert graph_vun(generated, train, "lobster") == {"valid": 5 / 6, "unique": 4 / 6, "novel": 5 / 6, "vun": 2 / 6}


def test_vun_names_unknown_tests_and_refuses_empty_sets():
    with pytest.raises(ValueError, match="no validity test named 'grid'"):
        graph_vun([nx.path_graph(3)], [], "grid")
    with pytest.raises(ValueError, match="empty"):
        graph_vun([], [], "planar")


@pytest.mark.parametrize("dataset", ["planar", "planar_l"])
def test_evaluate_reports_vun_for_families_with_a_validity_test(dataset, tmp_path, capsys, monkeypatch):
    import dataclasses
    import json

    from edgraph.cli import main
    from edgraph.datasets import graph_benchmarks, load_graphs
    from edgraph.graphs import graphs_to_json

    # planar_l's 16,384 graphs cost a minute to build; its family's test is what is checked here
    small = dataclasses.replace(graph_benchmarks.DATASETS["planar"], description="planar_l, small")
    monkeypatch.setitem(graph_benchmarks.DATASETS, "planar_l", small)
    test = load_graphs(dataset, "test")
    generated = [*test[:5], test[0], nx.complete_graph(5)]  # 5 new valid graphs, a repeat, a non-planar one
    samples = tmp_path / "samples.json"
    samples.write_text(json.dumps(graphs_to_json(generated)))
    args = ["evaluate", "--samples", str(samples), "--dataset", dataset, "--stats", "degree", "--floor-seeds", "0"]
    assert main(args) == 0
    assert "V.U.N. 0.714" in capsys.readouterr().out
    report = json.loads(samples.with_suffix(".metrics.json").read_text())
    assert report["valid"] == 6 / 7 and report["unique"] == 6 / 7 and report["novel"] == 1.0 and report["vun"] == 5 / 7
