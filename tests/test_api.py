"""The shape both models share, and the run behaviour of fit: seeds, checkpoints, budgets, progress."""

import csv
import inspect
import subprocess
import sys

import networkx as nx
import pytest
import torch

from edgraph import GraphEBM, MoleculeEBM
from edgraph.graphs import graphs_to_dense
from edgraph.metrics import graph_mmd, graph_mmd_dense
from edgraph.models import LatentGraphEBM

GRAPHS = [nx.cycle_graph(4), nx.path_graph(5), nx.star_graph(4), nx.complete_graph(3)] * 4
TINY = dict(hidden=8, layers=1, num_negatives=4, sampler_steps=5)
FAST = dict(batch_size=8, progress=False, checkpoint_every=2)


def test_import_loads_neither_rdkit_nor_lightning():
    code = (
        "import sys, edgraph, edgraph.metrics, edgraph.datasets; from edgraph import GraphEBM; "
        "print(sorted(m for m in ('rdkit', 'lightning') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_the_models_share_one_sampling_signature():
    def keywords(method):
        return [p.name for p in inspect.signature(method).parameters.values() if p.kind is p.KEYWORD_ONLY]

    graph, molecule = keywords(GraphEBM.sample), keywords(MoleculeEBM.sample)
    assert graph == [
        *("seed", "sampler", "steps", "step_size", "init", "device", "progress"),
        *("terms", "label", "guidance"),
    ]
    assert molecule == [*graph, "correct"]
    assert keywords(LatentGraphEBM.sample) == graph
    for model in (GraphEBM, LatentGraphEBM, MoleculeEBM):
        _, size, *options = inspect.signature(model.__init__).parameters.values()
        assert size.kind is size.POSITIONAL_OR_KEYWORD
        assert all(p.kind is p.KEYWORD_ONLY for p in options)  # hyperparameters are named


def test_flips_caps_the_flip_probability_eps():
    from edgraph.perturbations import BernoulliFlip, ScaledBernoulliFlip

    assert GraphEBM(5).config.perturbation() == ScaledBernoulliFlip(6.0, max_eps=0.2)
    assert GraphEBM(5, flips=None).config.perturbation() == BernoulliFlip(0.2)
    assert GraphEBM(5, eps=0.1, flips=8).config.perturbation() == ScaledBernoulliFlip(8, max_eps=0.1)
    for bad, message in (
        ({"eps": 1.0}, "eps must be a flip probability"),
        ({"eps": 0.0}, "eps must be a flip probability"),
        ({"flips": 0.0}, "flips must be a positive number"),
        ({"eps": None, "flips": 8}, "flips caps it rather than replacing it"),
    ):
        with pytest.raises(ValueError, match=message):
            GraphEBM(5, **bad)


@pytest.mark.parametrize(
    "options, message",
    [
        ({"hidden": "lots"}, "option hidden must be an integer"),
        ({"features": "degree"}, "option features must be a list of strings"),
        ({"eps": "1e-3"}, "option eps must be a number"),
        ({"flips": "8"}, "option flips must be a number or null"),
        ({"layers": 2.5}, "option layers must be an integer"),
        ({"eps": 1.5}, "eps must be a flip probability"),
    ],
)
def test_model_options_are_type_checked(options, message):
    with pytest.raises(ValueError, match=message):
        GraphEBM(5, **options)


def test_same_seed_gives_the_same_model_and_another_seed_does_not():
    def weights(seed):
        model = GraphEBM(5, **TINY).fit(GRAPHS, max_steps=2, seed=seed, **FAST)
        return torch.cat([p.flatten() for p in model.energy.parameters()])

    first, again, other = weights(0), weights(0), weights(1)
    assert torch.equal(first, again) and not torch.equal(first, other)


def test_every_checkpoint_records_its_own_step(tmp_path):
    GraphEBM(5, **TINY).fit(GRAPHS, run_dir=tmp_path, max_steps=3, **FAST)
    ckpt = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=True)
    assert ckpt["global_step"] == 3 and ckpt["edgraph"]["steps_trained"] == 3
    assert GraphEBM.load(tmp_path / "checkpoints" / "last.ckpt").steps_trained == 3
    # a run stopped mid-way: the checkpoint of step 2 says 2 steps, not the 0 of the start
    GraphEBM(5, **TINY).fit(GRAPHS, run_dir=tmp_path / "mid", max_steps=2, **FAST)
    ckpt = torch.load(tmp_path / "mid" / "checkpoints" / "last.ckpt", weights_only=True)
    assert ckpt["edgraph"]["steps_trained"] == 2


def test_resume_with_a_spent_budget_names_the_flag(tmp_path):
    GraphEBM(5, **TINY).fit(GRAPHS, run_dir=tmp_path, max_steps=2, **FAST)
    with pytest.raises(ValueError, match="has trained 2 of its max_steps 2 .*--max-steps"):
        GraphEBM(5, **TINY).fit(GRAPHS, run_dir=tmp_path, resume=True, max_steps=2, **FAST)
    with pytest.raises(ValueError, match="other data"):
        GraphEBM(5, **TINY).fit(GRAPHS[:-1], run_dir=tmp_path, resume=True, max_steps=4, **FAST)
    resumed = GraphEBM(5, **TINY).fit(GRAPHS, run_dir=tmp_path, resume=True, max_steps=4, **FAST)
    assert resumed.steps_trained == 4


def test_progress_is_a_line_every_n_steps_without_a_terminal(tmp_path):
    code = (
        "import networkx as nx; from edgraph import GraphEBM; "
        "GraphEBM(5, hidden=8, layers=1, num_negatives=4).fit([nx.cycle_graph(4), nx.path_graph(5)] * 4, "
        f"run_dir={str(tmp_path)!r}, max_steps=6, progress_every=2, batch_size=8)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    lines = [line for line in result.stderr.splitlines() if line.startswith("step ")]
    assert [line.split()[1] for line in lines] == ["2/6", "4/6", "6/6"]
    assert "\r" not in result.stderr
    assert "Tip" not in result.stderr and "GPU available" not in result.stderr and "LOCAL_RANK" not in result.stderr


def test_fit_without_a_run_dir_leaves_no_folder_behind(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    GraphEBM(5, **TINY).fit(GRAPHS, max_steps=1, **FAST)
    assert list(tmp_path.iterdir()) == []


def test_data_init_for_both_models():
    graphs = GraphEBM(5, **TINY).fit(GRAPHS, max_steps=1, **FAST).sample(12, steps=0, seed=0, init="data")
    training = {tuple(sorted(g.edges)) for g in GRAPHS}
    assert all(tuple(sorted(g.edges)) in training for g in graphs)
    molecules = ["CCO", "CC=O", "CN", "OCCO"]
    model = MoleculeEBM(max_atoms=4, hidden=8, layers=1, num_negatives=2).fit(molecules, max_steps=1, **FAST)
    assert set(model.sample(12, steps=0, seed=0, init="data")) <= {"CCO", "CC=O", "CN", "OCCO"}
    assert model.sample(0) == [] and model.sample(0, init="data") == []


def test_dense_mmd_equals_the_networkx_path():
    model = GraphEBM(5, **TINY).fit(GRAPHS, max_steps=2, **FAST)
    adj, node_mask = model.sample_tensors(40, steps=3, seed=0)
    graphs = model.decode((adj, node_mask))
    for protocol in ("gdss", "gran"):
        assert graph_mmd_dense(adj, node_mask, GRAPHS, protocol=protocol) == pytest.approx(
            graph_mmd(graphs, GRAPHS, protocol=protocol), abs=1e-12
        )
    # isolated nodes and empty graphs are cleaned the same way on both paths
    odd = [nx.empty_graph(3), nx.Graph([(0, 2)]), nx.disjoint_union(nx.path_graph(3), nx.empty_graph(2))]
    odd[1].add_node(1)
    adj, node_mask = graphs_to_dense(odd, max_nodes=6)
    for protocol in ("gdss", "gran"):
        assert graph_mmd_dense(adj, node_mask, GRAPHS, protocol=protocol) == pytest.approx(
            graph_mmd(odd, GRAPHS, protocol=protocol), abs=1e-12
        )


def test_hold_out_is_seeded_disjoint_and_sized():
    from edgraph.models.base import hold_out

    items = list(range(50))
    train, val = hold_out(items, 0.2, seed=3)
    assert len(val) == 10 and sorted(train + val) == items and not set(train) & set(val)
    assert hold_out(items, 0.2, seed=3) == (train, val) and hold_out(items, 0.2, seed=4) != (train, val)
    assert hold_out(items, 0.0, seed=3) == (items, [])


def test_validation_fraction_trains_on_the_rest_and_samples_with_the_best_novel_enough_weights(tmp_path):
    from edgraph.metrics import graph_novelty
    from edgraph.models.base import hold_out
    from edgraph.models.graph import novelty_required
    from edgraph.training import metrics_files

    graphs = [nx.path_graph(n) for n in range(3, 7)] * 5 + [nx.cycle_graph(n) for n in range(3, 7)] * 5
    graphs += [nx.gnp_random_graph(6, 0.5, seed=s) for s in range(20)]  # held-out graphs new to training
    model = GraphEBM(6, **TINY).fit(
        graphs, run_dir=tmp_path, max_steps=12, val_fraction=0.25, val_every=2, val_graphs=16, ema_decay=0, **FAST
    )
    train, held = hold_out(graphs, 0.25, seed=0)
    assert len(model.training_data["num_nodes"]) == len(train) == 45  # held-out graphs are not trained on
    required = novelty_required(held, train)
    assert 0 < required == graph_novelty(held, train, clean=False) - 0.1
    header, *rows = metrics_files(tmp_path)[0].read_text().splitlines()
    columns = header.split(",")

    def value(row: str, name: str) -> float:
        return float(row.split(",")[columns.index(name)])

    ranked = {  # checks with too little novelty rank after all others, closest first, then lower MMD is better
        int(value(r, "step")): (
            max(0.0, required - value(r, "val_novelty")),
            sum(value(r, f"val_{s}") for s in ("degree", "clustering", "orbit")),
        )
        for r in rows
        if r.split(",")[columns.index("val_degree")]
    }
    assert model.selected_step in ranked and ranked[model.selected_step] == min(ranked.values())
    loaded = GraphEBM.load(tmp_path)
    assert loaded.selected_step == model.selected_step
    assert all(
        torch.equal(a, b)
        for a, b in zip(loaded.sampling_energy.state_dict().values(), model.sampling_energy.state_dict().values())
    )
    with pytest.raises(ValueError, match="val_fraction"):
        GraphEBM(6).fit(graphs, max_steps=1, val_fraction=0.9, progress=False)


def test_training_that_ends_between_checks_is_checked_at_its_last_step(tmp_path):
    from edgraph.training import metrics_files

    model = GraphEBM(5, **TINY)
    model.fit(GRAPHS, max_steps=7, val_fraction=0.25, val_every=3, val_graphs=4, run_dir=tmp_path, **FAST)
    rows = [r for r in csv.DictReader(metrics_files(tmp_path)[0].open()) if r["val_degree"]]
    assert [int(r["step"]) for r in rows] == [3, 6, 7]
    assert model.selected_step in (3, 6, 7)
    callbacks = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=False)["callbacks"]
    assert [state["best"]["step"] for key, state in callbacks.items() if "PeriodicValidation" in key] == [
        model.selected_step
    ]  # a resumed run compares against the last check too
    model = GraphEBM(5, **TINY)
    model.fit(GRAPHS, max_steps=6, val_fraction=0.25, val_every=3, val_graphs=4, run_dir=tmp_path / "b", **FAST)
    rows = [r for r in csv.DictReader(metrics_files(tmp_path / "b")[0].open()) if r["val_degree"]]
    assert [int(r["step"]) for r in rows] == [3, 6]  # a budget that ends on a check is not checked twice
    model = GraphEBM(5, **TINY).fit(GRAPHS, max_steps=3, val_fraction=0.25, val_every=4, val_graphs=4, **FAST)
    assert model.selected_step == 3  # a budget shorter than the interval is checked once, at its end
    options = {"val_fraction": 0.25, "val_every": 10**6, "val_graphs": 4}
    model = GraphEBM(5, **TINY).fit(GRAPHS, max_minutes=0.005, max_steps=None, **options, **FAST)
    assert model.selected_step == model.steps_trained > 0  # so is a time budget
    model.fit(GRAPHS, max_steps=2, **FAST)  # a warm start without validation samples with its last weights
    assert model.selected_step is None


def test_a_second_fit_trains_on_from_the_weights_the_model_holds():
    model = GraphEBM(5, **TINY).fit(GRAPHS, max_steps=2, seed=0, **FAST)
    before = [p.detach().clone() for p in model.energy.parameters()]
    model.fit(GRAPHS, max_steps=1, seed=1, lr=1e-12, ema_decay=0, **FAST)
    after = list(model.energy.parameters())
    assert model.steps_trained == 1
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(before, after))  # not initialised again


def test_validation_rank_prefers_novel_enough_checks_then_the_most_novel():
    from edgraph.models.graph import validation_score

    checks = {  # step: (novelty, degree MMD)
        1: (0.30, 0.05),
        2: (0.20, 0.02),
        3: (0.10, 0.01),  # the closest to the held-out graphs, by copying them
        4: (0.45, 0.04),
        5: (0.60, 0.03),
    }

    def best(steps: list[int], required: float) -> int:
        metrics = {k: {"novelty": checks[k][0], "degree": checks[k][1]} for k in steps}
        return min(steps, key=lambda k: validation_score(metrics[k], ["degree"], required))

    assert best([1, 2, 3, 4, 5], required=0.4) == 5  # novel enough, then the lower MMD
    assert best([1, 2, 3], required=0.4) == 1  # none novel enough: the most novel, not the best copy
    assert best([1, 2, 3], required=0.0) == 3  # no requirement: MMD alone


def test_validation_patience_stops_once_samples_stay_too_close_to_the_training_graphs(monkeypatch):
    import edgraph.models.graph as graph_module

    graphs = [nx.gnp_random_graph(6, 0.5, seed=s) for s in range(20)]
    options = dict(max_steps=12, val_fraction=0.25, val_every=2, val_graphs=8, **FAST)
    assert GraphEBM(6, **TINY).fit(graphs, val_patience=2, **options).steps_trained == 12  # novel enough
    monkeypatch.setattr(graph_module, "novelty_required", lambda held_out, train: 1.01)  # no sample can be
    assert GraphEBM(6, **TINY).fit(graphs, val_patience=2, **options).steps_trained == 4
    assert GraphEBM(6, **TINY).fit(graphs, val_patience=0, **options).steps_trained == 12
    with pytest.raises(ValueError, match="val_patience stops on held-out graphs"):
        GraphEBM(6, **TINY).fit(graphs, max_steps=1, val_patience=2, progress=False)


def test_models_saved_when_flips_replaced_eps_load_with_their_perturbation(tmp_path):
    import torch

    from edgraph.perturbations import ScaledBernoulliFlip

    model = GraphEBM(5, hidden=8, layers=1)
    model._set_training_data(model.encode([nx.path_graph(4), nx.cycle_graph(5)]))
    model.save(tmp_path / "model.pt")
    payload = torch.load(tmp_path / "model.pt", weights_only=True)
    payload["config"].update(eps=None, flips=8.0)  # how such a model was saved: eps null
    del payload["config"]["rewire"]  # and before the rewiring term existed
    torch.save(payload, tmp_path / "old.pt")
    loaded = GraphEBM.load(tmp_path / "old.pt")
    assert loaded.config.perturbation() == ScaledBernoulliFlip(8.0, max_eps=0.5)  # the old cap at 1/2
    assert loaded.config.rewire is None


def test_rewire_adds_a_second_ed_term_with_edge_swaps():
    import torch

    from edgraph.graphs import graphs_to_edges
    from edgraph.objectives import energy_discrepancy
    from edgraph.perturbations import EdgeSwap
    from edgraph.training import TrainConfig

    x, mask = graphs_to_edges([nx.cycle_graph(6), nx.star_graph(5), nx.path_graph(4)], 6)
    for rewire in (None, 0.5):
        model = GraphEBM(6, hidden=8, layers=1, num_negatives=4, rewire=rewire)
        energy = model._new_energy()
        torch.manual_seed(0)
        loss = model.training_loss(TrainConfig())(energy, x, mask)
        torch.manual_seed(0)
        expected = energy_discrepancy(energy, x, model.config.perturbation(), 4, 1.0, mask)
        if rewire is not None:
            expected = expected + energy_discrepancy(energy, x, EdgeSwap(rewire), 4, 1.0, mask)
        assert torch.equal(loss, expected)
    for bad in (0.0, -1.0, float("inf")):
        with pytest.raises(ValueError, match="rewire must be a positive number"):
            GraphEBM(6, rewire=bad)
