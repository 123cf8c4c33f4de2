import math
from datetime import timedelta
from types import SimpleNamespace

import networkx as nx
import pytest
import torch
from lightning.pytorch.callbacks import Timer

from edgraph import GraphEBM
from edgraph.datasets import load_graphs
from edgraph.graphs import node_mask_from_pairs
from edgraph.training import CosineDecay, TrainConfig, metrics_files

TINY = dict(hidden=8, layers=1, num_negatives=4, sampler_steps=5)
FAST = dict(batch_size=16, progress=False, checkpoint_every=2, log_every=1)


@pytest.fixture(scope="module")
def graphs():
    return load_graphs("ego_small", "train")[:48]


@pytest.fixture(scope="module")
def fitted(graphs, tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("run")
    model = GraphEBM(18, **TINY).fit(graphs, run_dir=run_dir, max_steps=6, val_every=3, val_graphs=8, **FAST)
    return model, run_dir


def test_fit_records_training_statistics(fitted, graphs):
    model, run_dir = fitted
    sizes = torch.tensor([g.number_of_nodes() for g in graphs])
    assert torch.allclose(model.node_counts, torch.bincount(sizes, minlength=19).double() / len(graphs))
    four = [g for g in graphs if g.number_of_nodes() == 4]
    assert model.edge_density[4].item() == pytest.approx(sum(g.number_of_edges() for g in four) / (6 * len(four)))
    assert model.steps_trained == 6
    assert (run_dir / "model.pt").is_file() and (run_dir / "checkpoints" / "last.ckpt").is_file()
    header, *rows = metrics_files(run_dir)[0].read_text().splitlines()
    assert {"loss", "val_degree", "val_clustering", "val_seconds"} <= set(header.split(","))
    column = header.split(",").index("val_degree")
    logged = [float(r.split(",")[column]) for r in rows if r.split(",")[column]]
    assert len(logged) == 2 and all(v >= 0 for v in logged)  # at steps 3 and 6


def test_samples_have_training_node_counts_and_are_reproducible(fitted, graphs):
    model, _ = fitted
    sizes = {g.number_of_nodes() for g in graphs}
    first = model.sample(32, steps=5, seed=3)
    assert len(first) == 32 and {g.number_of_nodes() for g in first} <= sizes
    again = model.sample(32, steps=5, seed=3)
    assert [sorted(g.edges) for g in first] == [sorted(g.edges) for g in again]
    # chains run grouped by size; each sample comes back in the row of its start
    generator = torch.Generator().manual_seed(3)
    _, start_mask = model.noise_states(32, generator, torch.device("cpu"))
    start_sizes = [int(n) for n in node_mask_from_pairs(start_mask, 18).sum(1)]
    assert [g.number_of_nodes() for g in first] == start_sizes
    for sampler in ("gibbs", "dula", "dmala"):
        assert len(model.sample(4, sampler=sampler, steps=2, seed=0)) == 4


def test_save_load_round_trip_gives_identical_samples(fitted, tmp_path):
    model, run_dir = fitted
    model.save(tmp_path / "copy.pt")
    for source in (tmp_path / "copy.pt", run_dir, run_dir / "checkpoints" / "last.ckpt"):
        loaded = GraphEBM.load(source)
        assert loaded.config == model.config and loaded.steps_trained == 6
        assert [sorted(g.edges) for g in loaded.sample(16, steps=5, seed=1)] == [
            sorted(g.edges) for g in model.sample(16, steps=5, seed=1)
        ]


def test_data_init_starts_chains_at_training_graphs(fitted, graphs, tmp_path):
    model, _ = fitted
    copies = model.sample(64, steps=0, seed=2, init="data")
    assert all(any(nx.is_isomorphic(g, t) for t in graphs) for g in copies)
    assert len({tuple(sorted(g.edges)) for g in copies}) > 10  # drawn across the training set
    model.save(tmp_path / "copy.pt")
    loaded = GraphEBM.load(tmp_path / "copy.pt")
    assert [sorted(g.edges) for g in loaded.sample(16, steps=3, seed=1, init="data")] == [
        sorted(g.edges) for g in model.sample(16, steps=3, seed=1, init="data")
    ]
    moved = model.sample(64, steps=20, seed=2, init="data")
    assert [g.number_of_nodes() for g in moved] == [g.number_of_nodes() for g in copies]
    assert sum(sorted(a.edges) != sorted(b.edges) for a, b in zip(moved, copies)) > 0
    with pytest.raises(ValueError, match="unknown init 'train'"):
        model.sample(4, init="train")


def test_checkpoints_of_another_format_version_are_refused(fitted, tmp_path):
    model, _ = fitted
    model.save(tmp_path / "model.pt")
    payload = torch.load(tmp_path / "model.pt", weights_only=True)
    payload["version"] = 1  # as written by an older edgraph
    torch.save(payload, tmp_path / "old.pt")
    with pytest.raises(ValueError, match="format version 1; this edgraph reads version 2"):
        GraphEBM.load(tmp_path / "old.pt")


def test_resume_continues_at_the_saved_step(graphs, tmp_path):
    GraphEBM(18, **TINY).fit(graphs, run_dir=tmp_path, max_steps=4, **FAST)
    resumed = GraphEBM(18, **TINY).fit(graphs, run_dir=tmp_path, resume=True, max_steps=7, **FAST)
    assert resumed.steps_trained == 7
    logs = metrics_files(tmp_path)
    assert len(logs) == 2  # the first session's log is kept; the resumed one starts where it stopped
    first_steps = [int(row.split(",")[-1]) for row in logs[1].read_text().splitlines()[1:]]
    assert min(first_steps) == 4


def test_cosine_decay_brings_the_learning_rate_to_zero_over_the_step_budget(graphs, tmp_path):
    GraphEBM(18, **TINY).fit(graphs, run_dir=tmp_path, max_steps=6, lr=2e-3, **FAST)
    header, *rows = metrics_files(tmp_path)[0].read_text().splitlines()
    lr, step = header.split(",").index("lr"), header.split(",").index("step")
    logged = {int(r.split(",")[step]): float(r.split(",")[lr]) for r in rows if r.split(",")[lr]}
    assert sorted(logged) == list(range(6))
    for t, value in logged.items():
        assert value == pytest.approx(2e-3 * 0.5 * (1 + math.cos(math.pi * t / 6)))
    constant = tmp_path / "constant"
    GraphEBM(18, **TINY).fit(graphs, run_dir=constant, max_steps=3, lr_schedule="constant", **FAST)
    assert "lr" not in metrics_files(constant)[0].read_text().splitlines()[0].split(",")
    with pytest.raises(ValueError, match="unknown lr_schedule"):
        TrainConfig(lr_schedule="step")


@pytest.mark.parametrize("max_steps, expected", [(100, 0.75), (12, 10 / 12), (None, 0.75)])
def test_cosine_decay_follows_whichever_budget_is_further_along(max_steps, expected):
    timer = Timer(duration=timedelta(minutes=2))
    timer.time_elapsed = lambda stage="train": 90.0  # 3/4 of the two minutes
    trainer = SimpleNamespace(global_step=10, callbacks=[timer])
    assert CosineDecay(TrainConfig(max_steps=max_steps, max_minutes=2)).fraction(trainer) == pytest.approx(expected)


def test_resume_refuses_another_model(graphs, tmp_path):
    GraphEBM(18, **TINY).fit(graphs, run_dir=tmp_path, max_steps=2, **FAST)
    with pytest.raises(ValueError, match="another model"):
        GraphEBM(18, hidden=16, layers=1, num_negatives=4).fit(
            graphs, run_dir=tmp_path, resume=True, max_steps=4, **FAST
        )
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        GraphEBM(18, **TINY).fit(graphs, run_dir=tmp_path / "empty", resume=True, max_steps=4, **FAST)


def test_graphs_larger_than_max_nodes_are_refused(graphs):
    with pytest.raises(ValueError, match="more than max_nodes=5"):
        GraphEBM(5, **TINY).fit([nx.path_graph(6)], max_steps=1, **FAST)


def test_non_finite_loss_stops_and_keeps_the_last_checkpoint(graphs, tmp_path):
    model = GraphEBM(18, **TINY).fit(graphs, run_dir=tmp_path, max_steps=2, **FAST)
    checkpoint = tmp_path / "checkpoints" / "last.ckpt"
    saved = checkpoint.read_bytes()
    with torch.no_grad():
        next(model.energy.readout.parameters()).fill_(float("nan"))
    with pytest.raises(ValueError, match="already holds a run"):
        model.fit(graphs, run_dir=tmp_path, max_steps=4, **FAST)
    assert checkpoint.read_bytes() == saved
    with pytest.raises(FloatingPointError, match="at step 0; no checkpoint had been saved yet"):
        model.fit(graphs, run_dir=tmp_path / "other", max_steps=4, **FAST)
    assert not (tmp_path / "other" / "checkpoints" / "last.ckpt").exists()


def test_damaged_or_foreign_checkpoints_are_refused(fitted, tmp_path):
    _, run_dir = fitted
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes((run_dir / "model.pt").read_bytes()[:1000])
    with pytest.raises(ValueError, match="truncated or corrupted"):
        GraphEBM.load(truncated)
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(3)}, foreign)
    with pytest.raises(ValueError, match="not an edgraph"):
        GraphEBM.load(foreign)
    with pytest.raises(FileNotFoundError):
        GraphEBM.load(tmp_path / "missing")


def test_sampling_an_unfitted_model_is_an_error():
    with pytest.raises(RuntimeError, match="not been fitted"):
        GraphEBM(5, **TINY).sample(2)


def test_bad_options_are_named():
    with pytest.raises(ValueError, match="unknown sampler"):
        GraphEBM(5, sampler="hmc")
    with pytest.raises(ValueError, match="unknown training options"):
        GraphEBM(5, **TINY).fit([nx.path_graph(3)], epochs=3)
    with pytest.raises(ValueError, match="needs a budget"):
        GraphEBM(5, **TINY).fit([nx.path_graph(3)], max_steps=None, progress=False)


def test_pcd_baseline_advances_persistent_chains(graphs):
    from edgraph.objectives import PersistentCD, PersistentChains
    from edgraph.samplers import make_sampler

    model = GraphEBM(18, **TINY)
    model.fit(graphs, max_steps=2, objective="pcd", cd_steps=2, cd_chains=32, **FAST)
    x0, mask = model.noise_states(32, torch.Generator().manual_seed(0), torch.device("cpu"))
    chains = PersistentChains(x0, mask)
    loss = PersistentCD(make_sampler("gibbs", 0.2), 3, chains, generator=torch.Generator().manual_seed(5))
    x, data_mask = x0[:8].clone(), mask[:8]
    value = loss(model.energy, x, data_mask)
    drawn = torch.randperm(32, generator=torch.Generator().manual_seed(5))[:8]  # the chains PCD drew
    moved = (chains.states != x0).any(1)
    assert moved.sum() >= 1 and set(moved.nonzero().flatten().tolist()) <= set(drawn.tolist())
    assert not (chains.states.bool() & ~mask).any()  # padding stayed empty
    # the loss is mean E(data) - mean E(model samples), the samples being the advanced chains
    with torch.no_grad():
        expected = model.energy(x, data_mask).mean() - model.energy(chains.states[drawn], mask[drawn]).mean()
    assert value.item() == pytest.approx(expected.item(), rel=1e-5, abs=1e-6)


def test_bf16_mixed_precision_keeps_energies_weights_and_loss_in_float32(graphs, tmp_path):
    from edgraph.graphs import graphs_to_edges
    from edgraph.objectives import energy_discrepancy
    from edgraph.perturbations import BernoulliFlip

    x, mask = graphs_to_edges(graphs[:8], 18)
    energy = GraphEBM(18, **TINY)._new_energy()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert energy.convs[0].nn[0](torch.ones(2, 8)).dtype == torch.bfloat16  # autocast is on
        values = energy(x, mask)
        loss = energy_discrepancy(energy, x, BernoulliFlip(0.1), 4, 1.0, mask)
    assert values.dtype == loss.dtype == torch.float32
    model = GraphEBM(18, **TINY).fit(graphs, run_dir=tmp_path, max_steps=3, precision="bf16-mixed", **FAST)
    assert model.steps_trained == 3 and all(p.dtype == torch.float32 for p in model.energy.parameters())
    with pytest.raises(ValueError, match="unknown precision '8-bit'"):
        TrainConfig(precision="8-bit")
    with pytest.raises(ValueError, match="16-mixed needs a GPU"):
        TrainConfig(precision="16-mixed", device="cpu")


def test_a_graph_model_refuses_continuous_samplers():
    model = GraphEBM(5, hidden=8, layers=1, num_negatives=4).fit([nx.cycle_graph(4)] * 4, max_steps=1, progress=False)
    with pytest.raises(ValueError, match="samples edge vectors with .*not 'mala'"):
        model.sample(2, sampler="mala")
