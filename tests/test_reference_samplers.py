"""evaluation/reference_samplers.py: the edits are what they say, and the CLI writes its report and table."""

import importlib
import json
import random
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest

from edgraph.metrics import graph_novelty

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "evaluation"))
reference_samplers = importlib.import_module("reference_samplers")


def test_toggled_refuses_more_pairs_than_the_graph_has():
    with pytest.raises(ValueError, match="fewer than 4 node pairs"):
        reference_samplers.toggled(nx.path_graph(3), 4, random.Random(0))


@pytest.mark.parametrize("pairs", [1, 2, 5])
def test_toggled_changes_exactly_that_many_pairs(pairs):
    rng = random.Random(pairs)
    for seed in range(20):
        graph = nx.gnp_random_graph(7, 0.4, seed=seed)
        before = {frozenset(e) for e in graph.edges()}
        edited = reference_samplers.toggled(graph, pairs, rng)
        after = {frozenset(e) for e in edited.edges()}
        assert len(before ^ after) == pairs
        assert set(edited) == set(graph)
        assert {frozenset(e) for e in graph.edges()} == before  # the input is left as it was


def test_near_copies_are_copies_or_novel_one_pair_edits():
    # no isolated nodes: novelty is judged after removing them, which would make a copy look new
    graphs = (nx.gnp_random_graph(8, 0.5, seed=s) for s in range(100))
    train = [g for g in graphs if min(d for _, d in g.degree) > 0][:10]
    sample = reference_samplers.samplers("community_small", train, required=0.3)["near_copies"]
    graphs = sample(2000, 0)
    novel = [g for g in graphs if graph_novelty([g], train) == 1]
    copies = [g for g in graphs if graph_novelty([g], train) == 0]
    assert all(any(g is t for t in train) for g in copies)
    # the share of edits is Binomial(2000, 0.3) / 2000, whose standard deviation is 0.010
    assert abs(len(novel) / len(graphs) - 0.3) < 0.05
    edges = [{frozenset(e) for e in t.edges()} for t in train]
    assert all(min(len({frozenset(e) for e in g.edges()} ^ t) for t in edges) == 1 for g in novel)


def test_cli_writes_report_and_table(tmp_path):
    out = tmp_path / "refs.json"
    script = str(REPO / "evaluation" / "reference_samplers.py")
    command = [sys.executable, script, "--datasets", "sbm_small", "--seeds", "0", "--num", "16", "--floor-draws", "2"]
    command += ["--out", str(out)]
    subprocess.run(command, check=True, cwd=REPO, timeout=300, capture_output=True)
    report = json.loads(out.read_text())
    assert [row["sampler"] for row in report["rows"]] == ["flip1", "flip2", "near_copies", "recipe"]
    # sbm_small's test graphs are all new to its training graphs, so the rule asks 1.0 - 0.1
    assert all(row["required_novelty"] == pytest.approx(0.9) and len(row["runs"]) == 1 for row in report["rows"])
    assert all(0 <= row["runs"][0]["mmd"]["degree"] < 1 for row in report["rows"])
    command = [sys.executable, script, "--table", str(out)]
    table = subprocess.run(command, check=True, capture_output=True, text=True, timeout=60)
    assert table.stdout.count("| sbm_small |") == 6
    assert len(report["floor_draws"]["sbm_small"]["draws"]) == 2
    assert "| sbm_small | 2 fresh training splits (min–max) |" in table.stdout
