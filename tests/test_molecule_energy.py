"""MoleculeEnergy: permutation and padding invariance, gradients, type sensitivity."""

import pytest
import torch

from edgraph.chem import mols_to_dense
from edgraph.energies.molecule import MoleculeEnergy

N, KA, KB = 9, 4, 4


def _energy() -> MoleculeEnergy:
    torch.manual_seed(0)
    return MoleculeEnergy(max_atoms=N, num_atom_types=KA, num_bond_types=KB, hidden=32, layers=3).double()


def _random_typed_graphs(batch: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    sizes = torch.randint(1, N + 1, (batch,), generator=generator)
    node_mask = torch.arange(N) < sizes[:, None]
    atoms = torch.nn.functional.one_hot(torch.randint(KA, (batch, N), generator=generator), KA).double()
    bond_types = torch.randint(KB, (batch, N * (N - 1) // 2), generator=generator)
    bonds = torch.nn.functional.one_hot(bond_types, KB).double()
    return atoms, bonds, node_mask


def _permute(atoms, bonds, node_mask, perm):
    """Relabel atom i as perm[i] (padding moves too): same graphs, other atom order."""
    row, col = torch.triu_indices(N, N, offset=1)
    types = torch.zeros(bonds.shape[0], N, N, dtype=torch.long)
    types[:, row, col] = bonds.argmax(-1)
    types = types + types.transpose(1, 2)
    inverse = torch.argsort(perm)
    types = types[:, inverse][:, :, inverse]
    new_bonds = torch.nn.functional.one_hot(types[:, row, col], KB).to(bonds.dtype)
    return atoms[:, inverse], new_bonds, node_mask[:, inverse]


def test_energy_is_permutation_invariant_including_padding_positions():
    generator = torch.Generator().manual_seed(1)
    energy = _energy()
    atoms, bonds, node_mask = _random_typed_graphs(16, generator)
    reference = energy(atoms, bonds, node_mask)
    for _ in range(3):
        perm = torch.randperm(N, generator=generator)
        assert torch.allclose(energy(*_permute(atoms, bonds, node_mask, perm)), reference, atol=1e-10)


def test_energy_ignores_what_padding_rows_and_pairs_hold():
    generator = torch.Generator().manual_seed(2)
    energy = _energy()
    atoms, bonds, node_mask = _random_typed_graphs(16, generator)
    other_atoms, other_bonds, _ = _random_typed_graphs(16, generator)
    pairs = torch.triu_indices(N, N, offset=1)
    real_pairs = (node_mask[:, pairs[0]] & node_mask[:, pairs[1]])[..., None]
    mixed_atoms = torch.where(node_mask[..., None], atoms, other_atoms)
    mixed_bonds = torch.where(real_pairs, bonds, other_bonds)
    assert not torch.equal(mixed_bonds, bonds) and not torch.equal(mixed_atoms, atoms)
    assert torch.allclose(energy(mixed_atoms, mixed_bonds, node_mask), energy(atoms, bonds, node_mask), atol=1e-12)


def test_energy_is_differentiable_in_both_one_hot_inputs_and_not_in_padding():
    atoms, bonds, node_mask = mols_to_dense(["CC(=O)N", "C#N"], max_atoms=N)
    atoms, bonds = atoms.double().requires_grad_(), bonds.double().requires_grad_()
    _energy()(atoms, bonds, node_mask).sum().backward()
    assert torch.isfinite(atoms.grad).all() and torch.isfinite(bonds.grad).all()
    assert atoms.grad[0, :4].abs().sum() > 0 and atoms.grad[0, 4:].abs().sum() == 0
    pairs = torch.triu_indices(N, N, offset=1)
    real_pairs = node_mask[:, pairs[0]] & node_mask[:, pairs[1]]
    assert bonds.grad[..., 1:][real_pairs].abs().sum() > 0
    assert bonds.grad[~real_pairs].abs().sum() == 0


def test_energy_sees_atom_and_bond_types():
    energy = _energy()
    atoms, bonds, node_mask = mols_to_dense(["CC", "C=C", "CO", "C#C"], max_atoms=N)
    values = energy(atoms.double(), bonds.double(), node_mask)
    assert len(set(values.tolist())) == 4


def test_energy_rejects_wrong_shapes():
    energy = _energy()
    atoms, bonds, node_mask = mols_to_dense(["CC"], max_atoms=5)
    with pytest.raises(ValueError, match=r"atoms must be \[B, 9, 4\]"):
        energy(atoms.double(), bonds.double(), node_mask)
    with pytest.raises(ValueError, match="num_bond_types"):
        MoleculeEnergy(max_atoms=N, num_atom_types=KA, num_bond_types=1)
