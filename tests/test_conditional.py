"""Class-conditional graph energies: labels in the energy and in ED, per-class starts, guided
sampling against the enumerated distribution, checks, and checkpoints."""

import json

import networkx as nx
import pytest
import torch
from test_samplers import NUM_CHAINS, all_binary_states, exact_distribution, noise_floor, state_index, total_variation

from edgraph import GraphEBM, MoleculeEBM
from edgraph.energies import GraphEnergy, GuidedEnergy
from edgraph.graphs import adj_to_edges, pair_mask
from edgraph.objectives import energy_discrepancy

pytestmark = pytest.mark.usefixtures("single_thread")

CYCLES = [nx.cycle_graph(n) for n in (4, 5)] * 6
STARS = [nx.star_graph(n - 1) for n in (6, 7)] * 6


def labelled_model(**options) -> GraphEBM:
    model = GraphEBM(7, hidden=8, layers=1, num_negatives=4, num_classes=2, **options)
    return model.fit(CYCLES + STARS, labels=[0] * len(CYCLES) + [1] * len(STARS), max_steps=2, progress=False)


def test_guided_energy_is_the_weighted_difference():
    energy = GraphEnergy(4, hidden=8, layers=1, num_classes=3)
    x = torch.bernoulli(torch.full((5, 6), 0.5), generator=torch.Generator().manual_seed(0))
    mask = torch.ones_like(x, dtype=torch.bool)
    at = lambda c: energy(x, mask, torch.full((5,), c))  # noqa: E731
    torch.testing.assert_close(GuidedEnergy(energy, 3, label=1)(x, mask), at(1))
    torch.testing.assert_close(GuidedEnergy(energy, 3, label=2, guidance=2.0)(x, mask), 3 * at(2) - 2 * at(3))
    torch.testing.assert_close(GuidedEnergy(energy, 3, label=None)(x, mask), energy(x, mask))  # no labels: no label
    assert not torch.allclose(at(0), at(1))
    for bad, message in [
        (dict(label=3), "label must be a class in 0..2"),
        (dict(label=True), "label must be a class"),
        (dict(label=0, guidance=-1.0), "non-negative"),
        (dict(label=None, guidance=1.0), "guidance needs a label"),
    ]:
        with pytest.raises(ValueError, match=message):
            GuidedEnergy(energy, 3, **bad)


def test_labels_follow_their_graphs_through_size_buckets():
    """Batches of mixed sizes are split into padded groups; each graph must keep its own label."""
    energy = GraphEnergy(6, hidden=8, layers=1, num_classes=2)
    generator = torch.Generator().manual_seed(0)
    sizes = torch.randint(2, 7, (200,), generator=generator)
    mask = pair_mask(torch.arange(6) < sizes[:, None])
    x = torch.bernoulli(torch.full(mask.shape, 0.4), generator=generator) * mask
    labels = torch.randint(0, 3, (200,), generator=generator)
    batched = energy(x, mask, labels)
    one_by_one = torch.cat([energy(x[i : i + 1], mask[i : i + 1], labels[i : i + 1]) for i in range(200)])
    torch.testing.assert_close(batched, one_by_one, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="labels must lie in 0..2"):
        energy(x, mask, torch.full((200,), 3))
    with pytest.raises(ValueError, match="integers of shape"):
        energy(x, mask, labels.float())
    with pytest.raises(ValueError, match="takes no labels"):
        GraphEnergy(6, hidden=8, layers=1)(x, mask, labels)


def test_ed_scores_each_negative_with_its_data_graphs_label():
    model = GraphEBM(7, hidden=8, layers=1, num_negatives=4, num_classes=2, label_dropout=0.0)
    model._set_training_data(model.encode(CYCLES + STARS, labels=[0] * len(CYCLES) + [1] * len(STARS)))
    x, mask, labels = model._training_tensors()
    from edgraph.training import TrainConfig

    loss = model.training_loss(TrainConfig())
    torch.manual_seed(0)
    got = loss(model.energy, x, mask, labels)
    torch.manual_seed(0)
    by_hand = energy_discrepancy(
        lambda states, m: model.energy(states, m, labels.repeat_interleave(5)),
        x,
        model.config.perturbation(),
        4,
        1.0,
        mask,
    )
    torch.testing.assert_close(got, by_hand)
    torch.manual_seed(0)
    swapped = loss(model.energy, x, mask, 1 - labels)
    assert not torch.allclose(got, swapped)


def test_label_dropout_replaces_labels_at_its_rate():
    model = GraphEBM(7, hidden=8, layers=1, num_classes=3, label_dropout=0.25)
    torch.manual_seed(0)
    dropped = model._drop_labels(torch.ones(20000, dtype=torch.long))
    assert set(dropped.unique().tolist()) == {1, 3}
    assert (dropped == 3).float().mean().item() == pytest.approx(0.25, abs=0.01)


def test_chains_start_from_their_class():
    model = labelled_model()
    generator = torch.Generator().manual_seed(0)
    for label, sizes in [(0, {4, 5}), (1, {6, 7}), (None, {4, 5, 6, 7})]:
        _, noise_mask = model.noise_states(256, generator, torch.device("cpu"), label)
        x, data_mask = model.data_states(256, generator, torch.device("cpu"), label)
        for mask in (noise_mask, data_mask):
            assert set(_nodes(mask).tolist()) == sizes
        if label is not None:
            edges_per_node = x.sum(1) / _nodes(data_mask)
            assert set(edges_per_node.tolist()) == ({1.0} if label == 0 else {(n - 1) / n for n in (6.0, 7.0)})
    graphs = model.sample(64, label=1, seed=0, steps=5)
    assert {g.number_of_nodes() for g in graphs} <= {6, 7}


def _nodes(mask: torch.Tensor) -> torch.Tensor:
    """Node counts of pair masks ``[B, D]`` of graphs on at least 2 nodes."""
    pairs = mask.sum(1).double()
    return ((1 + (1 + 8 * pairs).sqrt()) / 2).round()


@pytest.mark.parametrize("guidance", [0.0, 1.5])
def test_guided_sampling_draws_the_exact_distribution(guidance):
    """Graphs on 4 nodes (64 states): Gibbs chains of ``sample(label=1, guidance=w)`` against the
    enumerated :math:`\\exp(-(1+w)E(x, 1) + wE(x, \\varnothing))`."""
    graphs = [nx.cycle_graph(4), nx.path_graph(4)] * 4
    model = GraphEBM(4, hidden=8, layers=1, num_negatives=4, num_classes=2, sampler="gibbs")
    model.fit(graphs, labels=[0, 1] * 4, max_steps=2, progress=False)
    with torch.no_grad():  # sharpen the energy so that labels and guidance change the distribution a lot
        model.sampling_energy.label_embed.weight.mul_(10)
        model.sampling_energy.readout[-1].weight.mul_(20)
    states = all_binary_states(6)
    full = torch.ones(len(states), 6, dtype=torch.bool)
    energy = model.sampling_energy

    def guided(x):
        at = lambda c: energy(x, full[: len(x)], torch.full((len(x),), c))  # noqa: E731
        return (1 + guidance) * at(1) - guidance * at(2)

    probs = exact_distribution(guided, states)
    unlabelled = exact_distribution(lambda x: energy(x, full[: len(x)]), states)
    assert 0.5 * (probs - unlabelled).abs().sum() > 0.5  # the label and the guidance matter
    adj, _ = model.sample_tensors(NUM_CHAINS, label=1, guidance=guidance, steps=300, seed=0)
    assert total_variation(state_index(adj_to_edges(adj)), probs) < noise_floor(probs, NUM_CHAINS) + 0.02


def test_guidance_changes_samples_and_needs_the_unlabelled_energy():
    model = labelled_model()
    plain = model.sample_tensors(32, label=1, seed=0, steps=20)[0]
    guided = model.sample_tensors(32, label=1, guidance=3.0, seed=0, steps=20)[0]
    assert not torch.equal(plain, guided)
    with pytest.raises(ValueError, match="label_dropout=0"):
        labelled_model(label_dropout=0.0).sample(4, label=0, guidance=1.0)


@pytest.mark.parametrize(
    "make, labels, message",
    [
        (lambda: GraphEBM(7, num_classes=2), None, "needs one label per graph"),
        (lambda: GraphEBM(7), [0] * 24, "labels need a class-conditional model"),
        (lambda: GraphEBM(7, num_classes=2), [0, 1] * 11, "need one label per graph"),
        (lambda: GraphEBM(7, num_classes=2), [0, 2] * 12, "labels must lie in 0..1"),
        (lambda: GraphEBM(7, num_classes=3), [0, 1] * 12, r"classes \[2\] have no training graphs"),
        (lambda: GraphEBM(7, num_classes=2), [0.0, 1.0] * 12, "must be integers"),
        (lambda: GraphEBM(7, num_classes=2), ["a", "b"] * 12, "must be integers"),
    ],
)
def test_bad_labels_are_named(make, labels, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        make().fit(CYCLES + STARS, tmp_path / "run", labels=labels, max_steps=1, progress=False)
    assert not (tmp_path / "run").exists()  # refused before anything was written


def test_label_options_are_checked():
    with pytest.raises(ValueError, match="num_classes"):
        GraphEBM(7, num_classes=-1)
    with pytest.raises(ValueError, match="label_dropout"):
        GraphEBM(7, num_classes=2, label_dropout=1.0)
    with pytest.raises(ValueError, match="train with ED"):
        GraphEBM(7, num_classes=2).fit(CYCLES, labels=[0, 1] * 6, objective="pcd", max_steps=1)
    with pytest.raises(ValueError, match="not class-conditional"):
        GraphEBM(7, hidden=8, layers=1).fit(CYCLES, max_steps=1, progress=False).sample(2, label=0)
    with pytest.raises(ValueError, match="label must be a class in 0..1"):
        labelled_model().sample(2, label=2)
    molecules = MoleculeEBM(max_atoms=4, hidden=8, layers=1, num_negatives=2).fit(["CC", "CO"], max_steps=1)
    with pytest.raises(ValueError, match="MoleculeEBM is not class-conditional"):
        molecules.sample(2, label=0)


def test_held_out_graphs_keep_their_labels(tmp_path):
    """Validation hold-out splits graphs and labels alike: the kept labels match the kept graphs."""
    model = GraphEBM(7, hidden=8, layers=1, num_negatives=2, num_classes=2)
    model.fit(
        CYCLES + STARS,
        labels=[0] * len(CYCLES) + [1] * len(STARS),
        max_steps=1,
        val_fraction=0.25,
        val_graphs=4,
        progress=False,
    )
    record = model.training_data
    assert len(record["labels"]) == 18
    assert torch.equal(record["labels"], (record["num_nodes"] >= 6).long())


def test_save_and_load_keep_classes(tmp_path):
    model = labelled_model()
    model.save(tmp_path / "model.pt")
    loaded = GraphEBM.load(tmp_path / "model.pt")
    assert loaded.config.num_classes == 2
    for got, want in zip(loaded.class_statistics, model.class_statistics):
        assert all(torch.equal(a, b) for a, b in zip(got, want))
    for options in (dict(label=1), dict(label=0, guidance=2.0), dict()):
        a = model.sample_tensors(16, seed=3, steps=10, **options)
        b = loaded.sample_tensors(16, seed=3, steps=10, **options)
        assert all(torch.equal(s, t) for s, t in zip(a, b))


def test_labelled_graph_files_train_a_class_conditional_model(tmp_path, capsys):
    from edgraph.cli import main
    from edgraph.graphs import graph_labels, read_graphs, write_graphs_json

    labelled = [nx.Graph(g, label=0) for g in CYCLES] + [nx.Graph(g, label=1) for g in STARS]
    train = tmp_path / "train.json"
    write_graphs_json(labelled, train)
    assert graph_labels(read_graphs(train)) == [0] * len(CYCLES) + [1] * len(STARS)
    run = tmp_path / "run"
    tiny = ["--hidden", "8", "--layers", "1", "--num-negatives", "4", "--batch-size", "8", "--no-progress"]
    assert main(["train", "--graphs", str(train), "--out", str(run), "--max-steps", "2", *tiny]) == 0
    model = GraphEBM.load(run)
    assert model.config.num_classes == 2
    assert torch.equal(model.training_data["labels"].bincount(), torch.tensor([len(CYCLES), len(STARS)]))

    samples = tmp_path / "stars.json"
    args = ["sample", "--checkpoint", str(run), "--num", "32", "--steps", "5", "--no-progress"]
    assert main([*args, "--out", str(samples), "--label", "1", "--guidance", "2"]) == 0
    assert {g.number_of_nodes() for g in read_graphs(samples)} <= {6, 7}
    assert {k: json.loads(samples.read_text())[k] for k in ("label", "guidance")} == {"label": 1, "guidance": 2.0}
    capsys.readouterr()
    assert main([*args, "--out", str(tmp_path / "bad.json"), "--label", "2"]) == 2
    assert "label must be a class in 0..1" in capsys.readouterr().err
    assert main([*args, "--out", str(tmp_path / "bad.json"), "--guidance", "1"]) == 2
    assert "guidance needs a label" in capsys.readouterr().err


@pytest.mark.parametrize(
    "records, message",
    [
        (
            [{"num_nodes": 3, "edges": [[0, 1]], "label": 0}, {"num_nodes": 3, "edges": [[0, 1]]}],
            "graph 1 has no label",
        ),
        ([{"num_nodes": 3, "edges": [[0, 1]], "label": -1}], "graph 0: label must be a non-negative integer"),
        ([{"num_nodes": 3, "edges": [[0, 1]], "label": "a"}], "graph 0: label must be a non-negative integer"),
    ],
)
def test_bad_labels_in_graph_files_are_named(records, message, tmp_path, capsys):
    from edgraph.cli import main

    train = tmp_path / "train.json"
    train.write_text(json.dumps({"graphs": records}))
    assert main(["train", "--graphs", str(train), "--out", str(tmp_path / "run"), "--max-steps", "1"]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_a_labelled_run_resumes_only_with_its_labels(tmp_path):
    labels = [0] * len(CYCLES) + [1] * len(STARS)
    options = dict(hidden=8, layers=1, num_negatives=2, num_classes=2)
    GraphEBM(7, **options).fit(CYCLES + STARS, tmp_path, labels=labels, max_steps=2, progress=False)
    resumed = GraphEBM(7, **options).fit(
        CYCLES + STARS, tmp_path, resume=True, labels=labels, max_steps=4, progress=False
    )
    assert resumed.steps_trained == 4
    with pytest.raises(ValueError, match="trained on other data"):
        GraphEBM(7, **options).fit(
            CYCLES + STARS, tmp_path, resume=True, labels=labels[::-1], max_steps=6, progress=False
        )


def test_a_labelled_graph_file_run_resumes_from_the_command_line(tmp_path):
    from edgraph.cli import main
    from edgraph.graphs import write_graphs_json

    train = tmp_path / "train.json"
    write_graphs_json([nx.Graph(g, label=0) for g in CYCLES] + [nx.Graph(g, label=1) for g in STARS], train)
    tiny = ["--hidden", "8", "--layers", "1", "--num-negatives", "2", "--no-progress"]
    run = tmp_path / "run"
    assert main(["train", "--graphs", str(train), "--out", str(run), "--max-steps", "2", *tiny]) == 0
    assert main(["train", "--out", str(run), "--resume", "--max-steps", "4", *tiny]) == 0
    model = GraphEBM.load(run)
    assert model.steps_trained == 4 and model.config.num_classes == 2
