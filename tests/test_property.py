"""Molecular property terms: RDKit values, the regressor, exact composed sampling, and the CLI."""

import pytest
import torch
from rdkit import Chem
from rdkit.Chem import QED, Crippen
from test_samplers import NUM_CHAINS, all_onehot_states, noise_floor, state_index, total_variation

from edgraph.chem import molecule_properties
from edgraph.datasets import load_molecules
from edgraph.energies.terms import ComposedEnergy, PropertyTarget
from edgraph.models import MoleculeEBM, PropertyRegressor
from edgraph.models.molecule import JointEnergy, join_sites
from edgraph.models.property import property_term_from_spec

pytestmark = pytest.mark.usefixtures("single_thread")


def test_properties_are_rdkits():
    smiles = ["CCO", "c1ccccc1O", "CC(=O)N"]
    mols = [Chem.MolFromSmiles(s) for s in smiles]
    assert molecule_properties(smiles, "qed") == pytest.approx([QED.qed(m) for m in mols])
    assert molecule_properties(mols, "logp") == pytest.approx([Crippen.MolLogP(m) for m in mols])
    assert molecule_properties([None, "C(C)(C)(C)(C)C"], "qed") == [None, None]
    with pytest.raises(ValueError, match="unknown molecular property 'tpsa'"):
        molecule_properties(smiles, "tpsa")


@pytest.fixture(scope="module")
def qm9_model():
    smiles = load_molecules("qm9", "train")[:1500]
    return MoleculeEBM(hidden=8, layers=1, num_negatives=2).fit(smiles, max_steps=1, progress=False)


def test_regressor_learns_the_property(qm9_model, tmp_path):
    """On held-out QM9 molecules the fitted logP regressor errs far less than predicting the mean."""
    regressor = PropertyRegressor.fit(qm9_model, "logp", steps=400, hidden=32, seed=0)
    values = torch.tensor(molecule_properties(qm9_model.decode(qm9_model._training_tensors()), "logp"))
    spread = (values - values.mean()).abs().mean().item()
    assert regressor.validation_mae.item() < 0.5 * spread
    regressor.save(tmp_path / "logp.pt")
    loaded = PropertyRegressor.load(tmp_path / "logp.pt")
    states = qm9_model._training_tensors()
    torch.testing.assert_close(loaded(*states), regressor(*states))
    assert loaded.name == "logp" and loaded.validation_mae == regressor.validation_mae
    torch.save({"weights": {}}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not an edgraph property regressor"):
        PropertyRegressor.load(tmp_path / "other.pt")


def test_property_target_is_the_weighted_square():
    regressor = lambda atoms, bonds, node_mask: atoms[..., 0].sum(-1) + bonds[..., 1].sum(-1)  # noqa: E731
    atoms = torch.eye(4)[torch.tensor([[0, 0, 2], [1, 1, 1]])]
    bonds = torch.eye(4)[torch.tensor([[1, 0, 1], [0, 0, 0]])]
    node_mask = torch.ones(2, 3, dtype=torch.bool)
    value = PropertyTarget(regressor, target=1.5, weight=3.0)(atoms, bonds, node_mask)
    torch.testing.assert_close(value, torch.tensor([3.0 * (4 - 1.5) ** 2, 3.0 * 1.5**2]))
    with pytest.raises(ValueError, match="finite"):
        PropertyTarget(regressor, target=float("nan"))


def test_molecule_samplers_draw_the_exact_composed_distribution():
    """Two-atom molecules (2 atom sites and 1 bond site of 4 categories: 64 joint states): Gibbs
    chains of a model plus a property term against the enumerated composed distribution."""
    model = MoleculeEBM(max_atoms=2, hidden=8, layers=1, num_negatives=2, sampler="gibbs")
    model.fit(["CC", "CO", "C=O", "N#N", "CF"], max_steps=2, progress=False)
    regressor = lambda atoms, bonds, node_mask: 2 * atoms[..., 2].sum(-1) + bonds[..., 2].sum(-1)  # noqa: E731
    term = PropertyTarget(regressor, target=3.0, weight=0.7)
    states = all_onehot_states(3, 4)
    mask = torch.ones(len(states), 3, dtype=torch.bool)
    joint = JointEnergy(ComposedEnergy(model.sampling_energy, [term]), num_atom_types=4)
    with torch.no_grad():
        probs = torch.softmax(-joint(states, mask), 0)
        plain = torch.softmax(-JointEnergy(model.sampling_energy, 4)(states, mask), 0)
    assert 0.5 * (probs - plain).abs().sum() > 0.3  # the term matters
    z, _ = join_sites(*model.sample_tensors(NUM_CHAINS, steps=200, seed=0, terms=[term]))
    assert total_variation(state_index(z), probs) < noise_floor(probs, NUM_CHAINS) + 0.02


def test_property_specs_are_checked(qm9_model):
    for spec, message in [
        ("qed=5", "needs a target"),
        ("tpsa=5:1", "unknown molecule energy term 'tpsa'"),
        ("qed=x:1", "NAME=WEIGHT"),
    ]:
        with pytest.raises(ValueError, match=message):
            property_term_from_spec(qm9_model, spec)
