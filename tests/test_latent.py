"""LatentGraphEBM: the BFS node order, the ED prior against a known density, reconstruction,
save/load, the prior's independence from the autoencoder, the CLI path, and errors."""

from __future__ import annotations

import json
import math

import networkx as nx
import pytest
import torch

import edgraph.models.graph as graph_models
from edgraph.cli import main
from edgraph.graphs import bfs_order, renumbered, write_graphs_json
from edgraph.models import LatentGraphEBM
from edgraph.models.latent import LatentNetwork
from edgraph.samplers import MALA

TINY = {"latent_dim": 4, "hidden": 16, "layers": 2, "decoder_hidden": 32, "prior_hidden": 16, "prior_layers": 2}
GRAPHS = [nx.cycle_graph(4), nx.path_graph(5), nx.star_graph(4), nx.complete_graph(4), nx.path_graph(3)]


@pytest.mark.parametrize(
    "graph",
    [
        nx.path_graph(6),
        nx.star_graph(5),
        nx.barbell_graph(3, 1),
        nx.union(nx.cycle_graph(3), nx.path_graph(range(3, 7))),
    ],
)
def test_bfs_order_is_breadth_first_from_the_hub(graph):
    order = bfs_order(graph)
    assert sorted(order) == sorted(graph)
    position = {v: i for i, v in enumerate(order)}
    degree = dict(graph.degree)
    assert degree[order[0]] == max(degree.values())
    for component in nx.connected_components(graph):
        first = min(position[v] for v in component)
        assert sorted(position[v] for v in component) == list(range(first, first + len(component)))  # contiguous
        root = order[first]
        assert degree[root] == max(degree[v] for v in component)
        depth = nx.single_source_shortest_path_length(graph, root)
        # breadth first: positions never go back to a smaller distance from the root
        depths = [depth[v] for v in order[first : first + len(component)]]
        assert depths == sorted(depths)
        for v in component - {root}:  # each node follows one of its neighbours
            assert any(position[u] < position[v] for u in graph[v])


def test_renumbered_graph_is_isomorphic_and_ordered():
    graph = nx.relabel_nodes(nx.star_graph(4), {0: 4, 4: 0})  # the hub is node 4
    ordered = renumbered(graph, bfs_order)
    assert nx.is_isomorphic(ordered, graph)
    assert list(ordered) == list(range(5)) and ordered.degree(0) == 4


def gaussian_mixture(num: int, generator: torch.Generator) -> torch.Tensor:
    centres = torch.tensor([[1.5, 1.5], [-1.5, 1.5], [1.5, -1.5], [-1.5, -1.5]])
    pick = torch.randint(4, (num,), generator=generator)
    return centres[pick] + 0.35 * torch.randn(num, 2, generator=generator)


def mixture_log_density(z: torch.Tensor) -> torch.Tensor:
    centres = torch.tensor([[1.5, 1.5], [-1.5, 1.5], [1.5, -1.5], [-1.5, -1.5]])
    squared = ((z[:, None, :] - centres) ** 2).sum(-1) / 0.35**2
    return torch.logsumexp(-0.5 * squared, dim=1)


def total_variation_on_grid(log_p: torch.Tensor, log_q: torch.Tensor) -> float:
    return 0.5 * float((log_p.softmax(0) - log_q.softmax(0)).abs().sum())


def test_ed_prior_recovers_a_gaussian_mixture_density():
    """The prior's own loss (Gaussian ED, the model's defaults) on codes from a known 2-D mixture:
    the learned density exp(-U(z)) is close to the mixture in total variation on a grid, and much
    closer than the Gaussian base density alone."""
    torch.manual_seed(0)
    model = LatentGraphEBM(4, latent_dim=2, prior_hidden=64, prior_layers=3)
    network = model.energy
    assert isinstance(network, LatentNetwork) and network.prior is not None
    optimiser = torch.optim.Adam(network.prior.parameters(), lr=2e-3)
    generator = torch.Generator().manual_seed(1)
    for _ in range(3000):
        loss = model._prior_loss(network, gaussian_mixture(256, generator))
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    side = torch.linspace(-4, 4, 81)
    grid = torch.stack(torch.meshgrid(side, side, indexing="xy"), -1).reshape(-1, 2)
    with torch.no_grad():
        learned = total_variation_on_grid(-network(grid), mixture_log_density(grid))
    base = total_variation_on_grid(-0.5 * (grid**2).sum(-1), mixture_log_density(grid))
    assert learned < 0.1, learned  # measured: 0.076
    assert learned < base / 3, (learned, base)


def test_encode_decode_round_trip_reconstructs_training_graphs():
    model = LatentGraphEBM(5, kl_weight=0.01, **TINY)
    model.fit(GRAPHS * 20, max_steps=800, batch_size=20, seed=0, val_fraction=0, progress=False)
    x, mask = model._training_tensors()
    x, mask = x[: len(GRAPHS)], mask[: len(GRAPHS)]
    network = model.sampling_energy
    with torch.no_grad():
        mean, _ = network.posterior(x, mask)
        out = network.decoder(mean)
        count_logits, edge_logits = out.split([5, x.shape[1]], dim=-1)
        rebuilt = model.decode(model.generate(out, torch.Generator().manual_seed(0)))
    # the decoder is sure of every training graph: its node count and each of its pairs
    assert (count_logits.softmax(-1).max(-1).values > 0.9).all()
    assert (count_logits.argmax(-1) + 1).tolist() == [g.number_of_nodes() for g in GRAPHS]
    assert ((torch.sigmoid(edge_logits) - x).abs() * mask).max() < 0.2  # measured: 0.11
    assert all(nx.is_isomorphic(a, b) for a, b in zip(rebuilt, GRAPHS))
    # init="data" starts at those codes: without chain steps, training graphs come back
    assert all(any(nx.is_isomorphic(g, t) for t in GRAPHS) for g in model.sample(8, steps=0, init="data", seed=0))


@pytest.mark.parametrize("prior", ["ed", "mcmc", "gaussian"])
def test_save_and_load_give_identical_samples(tmp_path, prior):
    model = LatentGraphEBM(5, prior=prior, mcmc_steps=3, **TINY)
    model.fit(GRAPHS, run_dir=tmp_path / "run", max_steps=6, seed=0, progress=False)
    loaded = LatentGraphEBM.load(tmp_path / "run")
    first, second = model.sample_tensors(16, seed=3, steps=20), loaded.sample_tensors(16, seed=3, steps=20)
    assert all(torch.equal(a, b) for a, b in zip(first, second))
    assert loaded.config == model.config


def test_gaussian_prior_samples_do_not_depend_on_chain_steps():
    model = LatentGraphEBM(5, prior="gaussian", **TINY).fit(GRAPHS, max_steps=3, progress=False)
    first, second = model.sample_tensors(8, seed=1, steps=0), model.sample_tensors(8, seed=1, steps=50)
    assert all(torch.equal(a, b) for a, b in zip(first, second))


def test_mala_chains_move_codes_under_a_learned_prior():
    model = LatentGraphEBM(5, **TINY).fit(GRAPHS, max_steps=3, progress=False)
    starts = model.noise_states(64, torch.Generator().manual_seed(0), torch.device("cpu"))[0]
    chain = MALA(model.config.step_size)  # on the prior's energy: the network called on codes
    ends = chain.sample(model.sampling_energy, starts, 20, generator=torch.Generator().manual_seed(0))
    assert 0 < chain.acceptance_rate <= 1 and not torch.equal(starts, ends)


def test_the_prior_never_changes_the_autoencoders_gradients():
    """The codes enter the prior's loss detached and the two parts are clipped apart, so the
    autoencoder's gradient is the same with an ED prior as with none."""
    from edgraph.training import TrainConfig

    x = torch.tensor([[1.0, 0, 1, 1, 0, 1], [1.0, 1, 0, 0, 0, 0]])
    mask = torch.tensor([[True] * 6, [True, True, False, True, False, False]])
    grads = []
    for prior in ("ed", "gaussian"):
        torch.manual_seed(0)
        model = LatentGraphEBM(4, prior=prior, **TINY)
        loss = model.training_loss(TrainConfig())
        torch.manual_seed(1)
        loss(model.energy, x, mask).backward()
        grads.append([p.grad.clone() for p in model.energy.parameter_groups()[0]])
    assert all(torch.allclose(a, b) for a, b in zip(*grads))


def test_training_reduces_the_loss_and_reports_finite_values(tmp_path):
    model = LatentGraphEBM(5, **TINY)
    model.fit(GRAPHS, run_dir=tmp_path, max_steps=60, batch_size=5, seed=0, progress=False, log_every=1)
    rows = [line.split(",") for line in next(tmp_path.glob("logs/version_0/metrics.csv")).read_text().splitlines()]
    column = rows[0].index("loss")
    losses = [float(r[column]) for r in rows[1:] if r[column]]
    assert all(math.isfinite(v) for v in losses)
    assert sum(losses[-10:]) < sum(losses[:10])


def test_fit_defaults_hold_out_a_fifth_and_can_be_overridden(tmp_path):
    from edgraph.models.latent import FIT_DEFAULTS

    model = LatentGraphEBM(5, **TINY).fit(GRAPHS * 2, run_dir=tmp_path / "a", max_minutes=0.002, progress=False)
    saved = json.loads((tmp_path / "a" / "config.json").read_text())
    assert {key: saved[key] for key in FIT_DEFAULTS} == FIT_DEFAULTS and FIT_DEFAULTS["val_fraction"] > 0
    assert saved["kl_weight"] == 1.0 and 0 < model.steps_trained < FIT_DEFAULTS["max_steps"]
    model = LatentGraphEBM(5, **TINY).fit(GRAPHS, run_dir=tmp_path / "b", max_steps=2, val_fraction=0, progress=False)
    saved = json.loads((tmp_path / "b" / "config.json").read_text())
    assert model.steps_trained == 2 and saved["val_fraction"] == 0 and saved["max_steps"] == 2
    with pytest.raises(ValueError, match=r"got 1 \(val_fraction=0 trains on all of them\)"):
        LatentGraphEBM(5, **TINY).fit(GRAPHS[:1], max_steps=1, progress=False)


def test_posterior_chains_sample_the_exact_posterior_of_a_one_dimensional_latent():
    """p(z | x) ∝ N(z; 0, 1) p(x | z) by quadrature on a grid, against long posterior chains."""
    torch.manual_seed(0)
    model = LatentGraphEBM(3, latent_dim=1, decoder_hidden=8, prior="gaussian", training="joint")
    model.config.posterior_steps, model.config.posterior_step_size = 1500, 0.01
    network = model._new_energy()
    x, mask = torch.tensor([[1.0, 0.0, 1.0]]), torch.ones(1, 3, dtype=torch.bool)
    with torch.no_grad():
        grid = torch.linspace(-7, 7, 4001)[:, None]
        log_posterior = -network(grid) - model.reconstruction_nll(
            network.decoder(grid), x.expand(4001, 3), mask.expand(4001, 3)
        )
        weights = (log_posterior - log_posterior.max()).exp()
        weights /= weights.sum()
        mean = (weights * grid[:, 0]).sum()
        std = (weights * (grid[:, 0] - mean) ** 2).sum().sqrt()
    chains = 4000
    z = model.posterior_samples(
        network, x.expand(chains, 3), mask.expand(chains, 3), generator=torch.Generator().manual_seed(1)
    )
    # Monte Carlo error about std / sqrt(4000) = 0.016 std; unadjusted Langevin's bias is O(h)
    assert abs(z.mean() - mean) < 0.06 * std
    assert abs(z.std() / std - 1) < 0.06


def test_joint_training_fits_the_decoder_to_posterior_samples_without_an_encoder(tmp_path):
    model = LatentGraphEBM(5, training="joint", **TINY)
    model.fit(GRAPHS * 4, run_dir=tmp_path / "run", max_steps=800, seed=0, progress=False)
    network = model.sampling_energy
    assert network.encoder is None
    with pytest.raises(ValueError, match="no encoder"):
        network.posterior(*model._training_tensors())
    x, mask = model._training_tensors()
    generator = torch.Generator().manual_seed(0)
    before = LatentGraphEBM(5, training="joint", **TINY)
    before.fit(GRAPHS * 4, max_steps=1, seed=0, progress=False)

    def nll(m: LatentGraphEBM) -> float:
        z = m.posterior_samples(m.sampling_energy, x, mask, generator=generator)
        with torch.no_grad():
            return m.reconstruction_nll(m.sampling_energy.decoder(z), x, mask).mean().item()

    assert nll(model) < 0.3 * nll(before)  # the decoder explains the graphs at their posterior samples (measured: 0.19)
    samples = model.sample(64, seed=0)
    assert sum(any(nx.is_isomorphic(g, t) for t in GRAPHS) for g in samples) > 16  # measured: 32 of 64
    assert len(model.sample(4, init="data", steps=0, seed=0)) == 4
    loaded = LatentGraphEBM.load(tmp_path / "run")
    first, second = model.sample_tensors(16, seed=3, steps=20), loaded.sample_tensors(16, seed=3, steps=20)
    assert loaded.config.training == "joint" and all(torch.equal(a, b) for a, b in zip(first, second))


@pytest.mark.parametrize(
    "options, message",
    [
        ({"training": "em"}, "unknown training 'em'"),
        ({"posterior_steps": 0}, "posterior_steps must be at least 1"),
        ({"prior": "flow"}, "unknown prior 'flow'"),
        ({"sampler": "gwg"}, "unknown sampler 'gwg'"),
        ({"latent_dim": 0}, "latent_dim must be at least 1"),
        ({"kl_weight": -1.0}, "kl_weight must be a finite number >= 0"),
        ({"prior_noise": 0.0}, "prior_noise must be a finite number > 0"),
        ({"features": ["orbits"]}, "features must be a non-empty subset"),
    ],
)
def test_bad_options_are_refused(options, message):
    with pytest.raises(ValueError, match=message):
        LatentGraphEBM(5, **options)


def test_bad_uses_are_refused():
    from edgraph.energies.terms import EdgeCount

    model = LatentGraphEBM(5, **TINY)
    with pytest.raises(ValueError, match=r"unknown training options \['labels'\]"):
        model.fit(GRAPHS, labels=[0] * 5, max_steps=1, progress=False)
    with pytest.raises(ValueError, match="objective 'pcd' is for GraphEBM"):
        model.fit(GRAPHS, objective="pcd", max_steps=1, progress=False)
    with pytest.raises(ValueError, match="has 6 nodes, more than max_nodes=5"):
        model.fit([nx.path_graph(6)], max_steps=1, progress=False)
    model.fit(GRAPHS, max_steps=1, progress=False)
    with pytest.raises(ValueError, match="samples latent vectors with"):
        model.sample(2, sampler="gwg")
    with pytest.raises(ValueError, match="energy terms act on graphs"):
        model.sample(2, terms=[EdgeCount(target=3, weight=1.0)])
    with pytest.raises(ValueError, match="not class-conditional"):
        model.sample(2, label=0)


def test_cli_trains_samples_and_evaluates_a_latent_model(tmp_path, capsys):
    graphs = tmp_path / "graphs.json"
    write_graphs_json(GRAPHS * 2, graphs)
    run = tmp_path / "run"
    options = ["--latent-dim", "4", "--hidden", "16", "--layers", "2", "--kl-weight", "0.1", "--prior", "ed"]
    assert (
        main(["train", "--model", "latent", "--graphs", str(graphs), "--out", str(run), "--max-steps", "5", *options])
        == 0
    )
    saved = json.loads((run / "config.json").read_text())
    assert saved["model"] == "latent" and saved["kl_weight"] == 0.1 and saved["latent_dim"] == 4
    out = tmp_path / "samples.json"
    assert (
        main(["sample", "--checkpoint", str(run), "--num", "7", "--out", str(out), "--sampler", "mala", "--steps", "5"])
        == 0
    )
    payload = json.loads(out.read_text())
    assert len(payload["graphs"]) == 7 and payload["sampler"] == "mala"
    assert payload["decoder_temperature"] == LatentGraphEBM.load(run).decoder_temperature
    cold = ["sample", "--checkpoint", str(run), "--num", "7", "--out", str(tmp_path / "cold.json"), "--steps", "5"]
    assert main([*cold, "--decoder-temperature", "0.5"]) == 0
    assert json.loads((tmp_path / "cold.json").read_text())["decoder_temperature"] == 0.5
    capsys.readouterr()
    for bad in ("0", "-1", "inf", "warm"):
        with pytest.raises(SystemExit) as refused:
            main([*cold, "--overwrite", "--decoder-temperature", bad])
        assert refused.value.code == 2 and "argument --decoder-temperature" in capsys.readouterr().err
    # resuming keeps the model kind without --model
    assert main(["train", "--graphs", str(graphs), "--out", str(run), "--resume", "--max-steps", "8"]) == 0
    assert LatentGraphEBM.load(run).steps_trained == 8
    capsys.readouterr()
    assert (
        main(["sample", "--checkpoint", str(run), "--num", "2", "--out", str(tmp_path / "s.json"), "--sampler", "gwg"])
        == 2
    )
    assert "samples latent vectors" in capsys.readouterr().err
    joint = tmp_path / "joint"
    train = ["train", "--model", "latent", "--graphs", str(graphs), "--out", str(joint), "--max-steps", "2"]
    assert main([*train, "--latent-training", "joint", *options]) == 0
    assert LatentGraphEBM.load(joint).config.training == "joint"


def test_cli_trains_samples_and_evaluates_a_latent_molecule_model(tmp_path, capsys):
    from edgraph.models import LatentMoleculeEBM, checkpoint_format

    run = tmp_path / "run"
    tiny = ["--latent-dim", "4", "--hidden", "8", "--layers", "1", "--no-progress"]
    assert (
        main(["train", "--model", "latent", "--dataset", "nci_small", "--out", str(run), "--max-steps", "3", *tiny])
        == 0
    )
    assert checkpoint_format(run) == "edgraph.LatentMoleculeEBM"
    assert json.loads((run / "config.json").read_text())["model"] == "latent"
    samples = tmp_path / "samples.json"
    assert main(["sample", "--checkpoint", str(run), "--num", "6", "--out", str(samples), "--steps", "5"]) == 0
    written = json.loads(samples.read_text())
    assert written["smiles"] == LatentMoleculeEBM.load(run).sample(6, seed=0, steps=5)
    assert len(written["smiles_corrected"]) == 6 and all(s is not None for s in written["smiles_corrected"])
    assert main(["evaluate", "--samples", str(samples), "--dataset", "nci_small", "--no-fcd"]) == 0
    assert main(["train", "--out", str(run), "--resume", "--max-steps", "5", "--no-progress"]) == 0
    assert LatentMoleculeEBM.load(run).steps_trained == 5  # resuming keeps the model kind without --model
    capsys.readouterr()
    assert main(["sample", "--checkpoint", str(run), "--out", str(tmp_path / "t.json"), "--term", "qed=5:0.6"]) == 2
    assert "samples latent vectors" in capsys.readouterr().err


def test_cli_refuses_latent_models_of_labelled_graphs_and_graph_options(tmp_path, capsys):
    labelled = tmp_path / "labelled.json"
    labelled.write_text(json.dumps({"graphs": [{"num_nodes": 3, "edges": [[0, 1]], "label": 0}] * 2}))
    assert main(["train", "--model", "latent", "--graphs", str(labelled), "--out", str(tmp_path / "b")]) == 2
    assert "not class-conditional" in capsys.readouterr().err
    graphs = tmp_path / "graphs.json"
    write_graphs_json(GRAPHS, graphs)
    assert (
        main(["train", "--model", "latent", "--graphs", str(graphs), "--out", str(tmp_path / "c"), "--rewire", "0.5"])
        == 2
    )
    assert "unknown options ['rewire']: not options of a latent model" in capsys.readouterr().err


def test_latent_molecule_model_round_trip_and_save_load(tmp_path):
    from edgraph.models import LatentMoleculeEBM

    smiles = ["CCO", "CC=O", "C#N", "OCCO"]
    model = LatentMoleculeEBM(max_atoms=4, latent_dim=4, hidden=16, layers=2, decoder_hidden=64, kl_weight=0.01)
    model.fit(smiles * 10, run_dir=tmp_path / "run", max_steps=600, batch_size=20, seed=0, progress=False)
    # posterior means decode to the training molecules
    atoms, bonds, node_mask = (t[: len(smiles)] for t in model._training_tensors())
    network = model.sampling_energy
    with torch.no_grad():
        mean, _ = network.posterior(atoms, bonds, node_mask)
        rebuilt = model.decode(model.generate(network.decoder(mean), torch.Generator().manual_seed(0)))
    assert rebuilt == ["CCO", "CC=O", "C#N", "OCCO"]
    loaded = LatentMoleculeEBM.load(tmp_path / "run")
    assert model.sample(8, seed=1, steps=10) == loaded.sample(8, seed=1, steps=10)
    with pytest.raises(ValueError, match="not dense tensors"):
        model.fit(model._training_tensors(), max_steps=1, progress=False)
    # jointly trained, the molecule model learns its decoder from posterior samples, with no encoder
    joint = LatentMoleculeEBM(max_atoms=4, latent_dim=4, decoder_hidden=64, training="joint")
    joint.fit(smiles * 10, max_steps=600, batch_size=20, seed=0, progress=False)
    assert joint.sampling_energy.encoder is None
    assert sum(s in smiles for s in joint.sample(64, seed=0)) > 16  # measured: 54 of 64


def test_decoder_temperature_divides_the_edge_logits():
    """Each pair of the drawn graphs is an edge with probability sigmoid(logit / T), exactly."""
    model = LatentGraphEBM(4, **TINY)
    logits = torch.tensor([2.0, -1.0, 0.5, 1.0, -2.0, 0.0])
    out = torch.cat([torch.tensor([-50.0, -50.0, -50.0, 50.0]), logits]).repeat(20_000, 1)  # always 4 nodes
    for temperature in (1.0, 0.5, 2.0):
        model.decoder_temperature = temperature
        adj, node_mask = model.generate(out, torch.Generator().manual_seed(0))
        rows, cols = torch.triu_indices(4, 4, 1)
        frequency = adj[:, rows, cols].float().mean(0)
        expected = torch.sigmoid(logits / temperature)
        assert node_mask.all() and (frequency - expected).abs().max() < 4 * (0.25 / 20_000) ** 0.5


def test_the_temperature_is_chosen_by_the_validation_rank_without_losing_novelty(monkeypatch):
    """Canned checks per temperature: colder ones score better but lose novelty; the coldest
    that stays within the allowed drop of T = 1's novelty wins, and ties keep the warmer."""
    import edgraph.models.latent as latent

    model = LatentGraphEBM(5, **TINY)
    cases = [
        ({1.0: (0.60, 0.30), 0.85: (0.57, 0.20), 0.7: (0.56, 0.15), 0.6: (0.50, 0.10), 0.5: (0.40, 0.05)}, 0.7),
        ({1.0: (0.60, 0.30), 0.85: (0.50, 0.20), 0.7: (0.40, 0.10), 0.6: (0.30, 0.05), 0.5: (0.20, 0.01)}, 1.0),
        ({t: (0.60, 0.30) for t in latent.DECODER_TEMPERATURES}, 1.0),
    ]
    for checks, chosen in cases:

        def canned(model, num, targets, stats, train, checks=checks):
            novelty, total = checks[model.decoder_temperature]
            return {"degree": total, "clustering": 0.0, "orbit": 0.0, "novelty": novelty}

        monkeypatch.setattr(latent, "validation_metrics", canned)
        # held-out graphs that copy the training graphs require no novelty of their own
        assert model.choose_decoder_temperature(GRAPHS, GRAPHS) == chosen == model.decoder_temperature
    # held-out graphs all new to the training graphs require 90 % novelty: the least short wins
    checks = {1.0: (0.60, 0.30), 0.85: (0.62, 0.40), 0.7: (0.61, 0.10), 0.6: (0.50, 0.05), 0.5: (0.40, 0.01)}
    monkeypatch.setattr(
        latent,
        "validation_metrics",
        lambda model, *args: dict(
            zip(("novelty", "degree"), checks[model.decoder_temperature]), clustering=0.0, orbit=0.0
        ),
    )
    assert model.choose_decoder_temperature(GRAPHS, [nx.complete_graph(5)]) == 0.85


def test_fit_chooses_and_saves_the_decoder_temperature(tmp_path, monkeypatch):
    import edgraph.models.latent as latent

    scored = []  # the temperatures scored, in order: T = 1 during training, all of them after it

    def canned(model, num, targets, stats, train=None, energy=None):
        scored.append(model.decoder_temperature)
        return {"degree": abs(model.decoder_temperature - 0.6), "clustering": 0.0, "orbit": 0.0, "novelty": 1.0}

    monkeypatch.setattr(latent, "validation_metrics", canned)
    monkeypatch.setattr(graph_models, "validation_metrics", canned)
    model = LatentGraphEBM(5, **TINY)
    model.decoder_temperature = 0.85
    model.fit(GRAPHS * 4, run_dir=tmp_path / "a", max_steps=4, val_every=2, val_graphs=16, progress=False)
    assert scored == [1.0, 1.0, *latent.DECODER_TEMPERATURES]
    loaded = LatentGraphEBM.load(tmp_path / "a")
    assert model.decoder_temperature == 0.6 == loaded.decoder_temperature
    assert loaded.steps_trained == 4
    assert all(torch.equal(a, b) for a, b in zip(model.sample_tensors(8, seed=0), loaded.sample_tensors(8, seed=0)))
    # a fit that fails keeps the temperature; one without held-out graphs trains and samples at 1
    with pytest.raises(ValueError, match="already holds a run"):
        model.fit(GRAPHS * 4, run_dir=tmp_path / "a", max_steps=4, progress=False)
    assert model.decoder_temperature == 0.6
    model.fit(GRAPHS, max_steps=2, val_fraction=0, progress=False)
    assert model.decoder_temperature == 1.0
    with pytest.raises(ValueError, match="at least one held_out graph"):
        model.choose_decoder_temperature(GRAPHS, [])
    assert model.decoder_temperature == 1.0
    for bad in (0, -0.5, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="decoder_temperature must be a positive number"):
            model.decoder_temperature = bad
