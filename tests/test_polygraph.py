"""edgraph's metrics against PolyGraph's (the optional benchmarks extra): Gaussian-TV MMD², PGD and
the SBM validity test."""

import json
import random
import sys

import networkx as nx
import pytest

from edgraph.cli import main
from edgraph.datasets import load_graphs
from edgraph.graphs import graphs_to_json
from edgraph.metrics import graph_mmd
from edgraph.metrics.polygraph_metrics import is_sbm_graph, polygraph_discrepancy, polygraph_mmd
from edgraph.metrics.vun import graph_vun


def test_gran_protocol_agrees_with_polygraph_gaussian_tv_mmd():
    reference = load_graphs("ego_small", "test")
    train = load_graphs("ego_small", "train")
    # half real graphs, half G(n, 0.25) graphs, some with isolated nodes
    noise = [nx.gnp_random_graph(g.number_of_nodes(), 0.25, seed=i) for i, g in enumerate(train[20:40])]
    generated = train[:20] + noise
    assert any(nx.number_of_isolates(g) for g in generated)
    ours = graph_mmd(generated, reference, protocol="gran", clean=False)
    theirs = polygraph_mmd(generated, reference)
    assert set(ours) == set(theirs) == {"degree", "clustering", "orbit", "spectral"}
    for stat in ours:
        assert ours[stat] > 1e-3
        assert ours[stat] == pytest.approx(theirs[stat], rel=1e-6), stat


def test_pgd_separates_families_and_not_a_family_from_itself():
    reference = load_graphs("planar", "test")
    same = polygraph_discrepancy(load_graphs("planar", "train")[:40], reference)
    other = polygraph_discrepancy(load_graphs("lobster", "train")[:40], reference)
    assert other["pgd"] > 0.9 and same["pgd"] < 0.3
    assert set(same) == {"pgd", "pgd_descriptor"} | {
        f"pgd_{d}" for d in ("orbit4", "orbit5", "clustering", "degree", "spectral", "gin")
    }
    assert same["pgd_descriptor"] in ("orbit4", "orbit5", "clustering", "degree", "spectral", "gin")
    with pytest.raises(ValueError, match="equal numbers of graphs, got 39 generated and 40 reference"):
        polygraph_discrepancy(reference[:39], reference)


def test_sbm_validity_gives_a_graph_one_verdict_and_leaves_the_global_generator_alone():
    p = [[0.3 if i == j else 0.02 for j in range(3)] for i in range(3)]
    # a borderline block model whose verdict once depended on the state of Python's generator
    borderline = nx.stochastic_block_model([20, 22, 25], p, seed=7)
    verdicts = set()
    for seed in range(6):
        random.seed(seed)
        verdicts.add(is_sbm_graph(borderline))
        after = random.random()
        random.seed(seed)
        assert after == random.random()
    assert len(verdicts) == 1


def test_sbm_validity_accepts_block_models_and_rejects_other_graphs():
    sbm = load_graphs("sbm", "test")
    assert sum(map(is_sbm_graph, sbm)) >= 0.7 * len(sbm)
    assert not any(map(is_sbm_graph, load_graphs("planar", "test")[:10]))
    scores = graph_vun(sbm[:10] + [nx.complete_graph(60)], sbm, "sbm")
    assert scores["novel"] == 1 / 11 and scores["valid"] <= 10 / 11


def test_missing_polygraph_is_named_with_the_extra_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "polygraph.metrics", None)
    with pytest.raises(ImportError, match=r'pip install "edgraph\[benchmarks\]"'):
        polygraph_mmd([nx.path_graph(3)], [nx.path_graph(3)])


def test_evaluate_prints_and_records_pgd_with_its_sample_size(tmp_path, capsys):
    test = load_graphs("planar", "test")
    samples = tmp_path / "samples.json"
    lobsters = [g for g in load_graphs("lobster", "train") if g.number_of_nodes() <= 64]
    samples.write_text(json.dumps(graphs_to_json(lobsters[:45])))
    args = ["evaluate", "--samples", str(samples), "--dataset", "planar", "--stats", "degree", "--floor-seeds", "0"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert f"40 generated vs {len(test)} planar test graphs" in out and "PGD " in out
    report = json.loads(samples.with_suffix(".metrics.json").read_text())
    assert report["pgd"] > 0.9 and report["pgd_num"] == 40 and report["valid"] == 1.0  # trees are connected, planar
    samples.write_text(json.dumps(graphs_to_json(test[:5])))
    assert main([*args, "--overwrite"]) == 0
    assert (
        "PGD skipped: it needs as many generated graphs as reference graphs (40 planar test)" in capsys.readouterr().out
    )
    assert "pgd" not in json.loads(samples.with_suffix(".metrics.json").read_text())
