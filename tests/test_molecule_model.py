import json
import math

import pytest
import torch

from edgraph.chem import NUM_BOND_TYPES, mol_from_smiles, mols_to_dense
from edgraph.cli import main
from edgraph.datasets import load_molecule_tensors, load_molecules
from edgraph.models.molecule import JointEnergy, MoleculeEBM, join_sites, split_sites
from edgraph.objectives import energy_discrepancy
from edgraph.perturbations import UniformCategorical
from edgraph.samplers import DMALA, DULA, GWG, Gibbs

TINY = dict(hidden=8, layers=1, num_negatives=4, sampler_steps=5)
FAST = dict(batch_size=32, progress=False, checkpoint_every=2)


@pytest.fixture(scope="module")
def nci():
    return load_molecule_tensors("nci_small", "all")


@pytest.fixture(scope="module")
def fitted(nci, tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("molecule-run")
    smiles = load_molecules("nci_small")
    model = MoleculeEBM(**TINY).fit(smiles, run_dir=run_dir, max_steps=4, **FAST)
    return model, run_dir


def test_fit_records_sizes_and_type_frequencies(fitted, nci):
    model, run_dir = fitted
    atoms, bonds, node_mask = nci
    sizes = node_mask.sum(1)
    assert torch.allclose(model.node_counts, torch.bincount(sizes, minlength=10).double() / len(sizes))
    assert torch.allclose(model.atom_frequency, atoms.double().sum((0, 1)) / sizes.sum())
    nine = sizes == 9
    pairs = bonds[nine].argmax(-1).flatten()
    assert torch.allclose(model.bond_frequency[9], torch.bincount(pairs, minlength=4).double() / len(pairs))
    assert model.steps_trained == 4
    assert (run_dir / "model.pt").is_file() and (run_dir / "checkpoints" / "last.ckpt").is_file()


def test_samples_are_smiles_or_none_with_training_sizes(fitted):
    model, _ = fitted
    smiles = model.sample(24, steps=10, seed=0)
    assert len(smiles) == 24
    for s in smiles:
        assert s is None or mol_from_smiles(s) is not None
    corrected = model.sample(24, steps=10, seed=0, correct=True)
    assert sum(s is not None for s in corrected) >= sum(s is not None for s in smiles)
    atoms, bonds, node_mask = model.sample_tensors(24, steps=10, seed=0)
    sizes = set(node_mask.sum(1).tolist())
    assert sizes <= {n for n in range(10) if model.node_counts[n] > 0}
    assert (atoms[~node_mask] == 0).all()  # padding atoms carry no type
    real_pairs = torch.triu(node_mask[:, :, None] & node_mask[:, None, :], 1)
    row, col = torch.triu_indices(9, 9, 1)
    real_pairs = real_pairs[:, row, col]
    assert (bonds[~real_pairs].argmax(-1) == 0).all()  # no bond touches a padding atom
    for sampler in ("gibbs", "dula", "dmala"):
        assert len(model.sample(4, sampler=sampler, steps=2, seed=0)) == 4


def test_save_load_round_trip_gives_identical_samples(fitted, tmp_path):
    model, run_dir = fitted
    model.save(tmp_path / "copy.pt")
    expected = model.sample(8, steps=5, seed=1)
    for source in (tmp_path / "copy.pt", run_dir, run_dir / "checkpoints" / "last.ckpt"):
        loaded = MoleculeEBM.load(source)
        assert loaded.config == model.config and loaded.steps_trained == 4
        assert loaded.sample(8, steps=5, seed=1) == expected


def test_resume_continues_and_graph_loader_refuses_molecules(fitted, nci, tmp_path):
    from edgraph import GraphEBM

    _, run_dir = fitted
    with pytest.raises(ValueError, match="not an edgraph GraphEBM checkpoint"):
        GraphEBM.load(run_dir)
    smiles = load_molecules("nci_small")
    with pytest.raises(ValueError, match="other data"):
        MoleculeEBM(**TINY).fit(smiles[:-1], run_dir=run_dir, resume=True, max_steps=6, **FAST)
    resumed = MoleculeEBM(**TINY).fit(smiles, run_dir=run_dir, resume=True, max_steps=6, **FAST)
    assert resumed.steps_trained == 6
    with pytest.raises(ValueError, match="another model"):
        MoleculeEBM(**{**TINY, "eps_bonds": 0.2}).fit(smiles, run_dir=run_dir, resume=True, max_steps=8, **FAST)
    with pytest.raises(ValueError, match="ED only"):
        MoleculeEBM(**TINY).fit(nci, objective="pcd", max_steps=1, progress=False)


def _one_hot(batch, sites, categories, generator):
    return torch.nn.functional.one_hot(
        torch.randint(categories, (batch, sites), generator=generator), categories
    ).float()


def test_ed_on_a_one_part_tuple_equals_the_single_tensor_case():
    x = _one_hot(16, 5, 3, torch.Generator().manual_seed(0))
    mask = torch.rand(16, 5, generator=torch.Generator().manual_seed(1)) < 0.7
    weights = torch.randn(5, 3, generator=torch.Generator().manual_seed(2))
    perturbation = UniformCategorical(0.3, 3)
    single = energy_discrepancy(
        lambda s, m: (s * weights).sum((1, 2)),
        x,
        perturbation,
        8,
        1.0,
        mask,
        torch.Generator().manual_seed(3),
        reduction="none",
    )
    parts = energy_discrepancy(
        lambda s, m: (s * weights).sum((1, 2)),
        (x,),
        (perturbation,),
        8,
        1.0,
        (mask,),
        torch.Generator().manual_seed(3),
        reduction="none",
    )
    assert torch.equal(single, parts)


def test_ed_on_two_parts_matches_the_estimator_and_perturbs_each_part_with_its_eps():
    batch, negatives, eps_a, eps_b = 1000, 20, 0.3, 0.05
    generator = torch.Generator().manual_seed(0)
    atoms, bonds = _one_hot(batch, 5, 4, generator), _one_hot(batch, 10, 3, generator)
    atom_mask = torch.ones(batch, 5, dtype=torch.bool)
    atom_mask[:, 4] = False  # a frozen site
    w_a, w_b = torch.randn(5, 4, generator=generator), torch.randn(10, 3, generator=generator)
    seen = {}

    def energy(a, b, mask_a, mask_b):
        seen.update(a=a, b=b, mask_a=mask_a, mask_b=mask_b)
        return (a * w_a).sum((1, 2)) + (b * w_b).sum((1, 2))

    terms = energy_discrepancy(
        energy,
        (atoms, bonds),
        (UniformCategorical(eps_a, 4), UniformCategorical(eps_b, 3)),
        negatives,
        0.5,
        (atom_mask, None),
        generator,
        reduction="none",
    )
    a = seen["a"].view(batch, negatives + 1, 5, 4)
    b = seen["b"].view(batch, negatives + 1, 10, 3)
    assert seen["mask_b"] is None and seen["mask_a"].shape == (batch * (negatives + 1), 5)
    assert torch.equal(a[:, 0], atoms) and torch.equal(b[:, 0], bonds)  # data first, then its negatives
    assert torch.equal(a[:, 1:, 4], atoms[:, None, 4].expand(-1, negatives, -1))  # frozen site never moves
    energies = (a * w_a).sum((2, 3)) + (b * w_b).sum((2, 3))
    by_hand = torch.log(0.5 / negatives + torch.exp(energies[:, :1] - energies[:, 1:]).mean(1))
    assert torch.allclose(terms, by_hand, atol=1e-5)
    # Two rounds of uniform resampling move a site with probability (1 - (1 - eps)^2) (K - 1) / K.
    moved_a = (a[:, 1:, :4] != atoms[:, None, :4]).any(-1).float().mean().item()
    moved_b = (b[:, 1:] != bonds[:, None]).any(-1).float().mean().item()
    assert moved_a == pytest.approx((1 - (1 - eps_a) ** 2) * 3 / 4, abs=0.03)
    assert moved_b == pytest.approx((1 - (1 - eps_b) ** 2) * 2 / 3, abs=0.01)
    with pytest.raises(ValueError, match="one perturbation"):
        energy_discrepancy(energy, (atoms, bonds), (UniformCategorical(eps_a, 4),), 2)


@pytest.mark.parametrize("atom_types", [("C", "O"), ("C", "N", "O", "F", "S")])
@pytest.mark.parametrize("sampler", [Gibbs(), GWG(), DULA(0.5), DMALA(0.5)], ids=["gibbs", "gwg", "dula", "dmala"])
def test_joint_sampling_keeps_padding_and_never_uses_missing_categories(atom_types, sampler):
    # Ka = 2 < Kb: atom sites lack categories 2, 3; Ka = 5 > Kb: bond sites lack category 4.
    # A flat energy makes every allowed move equally likely, so only the penalty keeps the
    # missing categories out.
    model = MoleculeEBM(max_atoms=5, atom_types=atom_types, hidden=8, layers=1)
    model.prepare(["CCO", "OCCO", "CC", "COC=O"])
    generator = torch.Generator().manual_seed(0)
    z0, mask = join_sites(*model.noise_states(64, generator, torch.device("cpu")))
    flat = JointEnergy(lambda atoms, bonds, node_mask: 0 * (atoms.sum((1, 2)) + bonds.sum((1, 2))), len(atom_types))
    z = sampler.sample(flat, z0, 30, mask, generator=generator)
    assert ((z.sum(-1) == 1) & ((z == 0) | (z == 1)).all(-1)).all()
    assert torch.equal(z[~mask], z0[~mask])  # padding atoms and their pairs never change
    assert (z[mask] != z0[mask]).any()  # the chains did move
    assert (z[:, :5, len(atom_types) :] == 0).all() and (z[:, 5:, NUM_BOND_TYPES:] == 0).all()
    atoms, bonds, node_mask = split_sites(z, mask, len(atom_types))
    assert torch.equal(join_sites(atoms, bonds, node_mask)[0], z)


def test_joint_energy_equals_the_molecule_energy_on_allowed_states():
    model = MoleculeEBM(max_atoms=6, hidden=8, layers=2)
    atoms, bonds, node_mask = mols_to_dense(["CCO", "c1ccoc1", "N#CC"], max_atoms=6)
    z, mask = join_sites(atoms, bonds, node_mask)
    assert torch.allclose(JointEnergy(model.energy, 4)(z, mask), model.energy(atoms, bonds, node_mask))


def test_cli_trains_samples_and_evaluates_a_molecule_model(tmp_path, capsys):
    run_dir = tmp_path / "run"
    assert (
        main(
            [
                "train",
                "--dataset",
                "nci_small",
                "--out",
                str(run_dir),
                "--max-steps",
                "3",
                "--hidden",
                "8",
                "--layers",
                "1",
                "--num-negatives",
                "2",
                "--sampler-steps",
                "4",
                "--eps-bonds",
                "0.1",
                "--no-progress",
            ]
        )
        == 0
    )
    assert json.loads((run_dir / "config.json").read_text())["eps_bonds"] == 0.1
    assert (run_dir / "samples.png").is_file() and (run_dir / "model.pt").is_file()
    samples = tmp_path / "samples.json"
    assert main(["sample", "--checkpoint", str(run_dir), "--num", "12", "--out", str(samples), "--seed", "2"]) == 0
    written = json.loads(samples.read_text())
    assert len(written["smiles"]) == len(written["smiles_corrected"]) == 12
    assert written["smiles"] == MoleculeEBM.load(run_dir).sample(12, seed=2)
    assert all(s is None or mol_from_smiles(s) is not None for s in written["smiles"])
    capsys.readouterr()
    termed = ["sample", "--checkpoint", str(run_dir), "--out", str(tmp_path / "t.json"), "--term", "connected=1"]
    assert main(termed) == 2
    assert "unknown molecule energy term 'connected'" in capsys.readouterr().err
    steered = tmp_path / "qed.json"
    assert main([*termed[:4], str(steered), "--term", "qed=5:0.6", "--num", "4", "--steps", "3", "--no-progress"]) == 0
    assert json.loads(steered.read_text())["terms"] == ["qed=5:0.6"]
    assert main(["evaluate", "--samples", str(samples), "--dataset", "nci_small", "--no-fcd"]) == 0
    assert "validity_corrected" in capsys.readouterr().out
    metrics = json.loads(samples.with_suffix(".metrics.json").read_text())["metrics"]
    assert metrics["num_generated"] == 12
    assert metrics["validity"] == sum(s is not None for s in written["smiles"]) / 12
    if metrics["num_evaluated"]:
        assert 0 <= metrics["nspdk_mmd"] and math.isfinite(metrics["nspdk_mmd"])
    assert (
        main(["train", "--dataset", "nci_small", "--out", str(tmp_path / "other"), "--eps", "0.1", "--max-steps", "1"])
        == 2
    )  # graph-model option on a molecule dataset
