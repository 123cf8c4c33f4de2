"""Typed molecular graphs: conversions, correction, and the QM9 / NCI datasets."""

import json
import warnings

import numpy as np
import pytest
import torch
from rdkit import Chem
from torch_geometric.data import Data

from edgraph.chem import (
    NUM_BOND_TYPES,
    QM9_ATOMS,
    QM9_CHARGED_ATOMS,
    canonical_smiles,
    correct_valence,
    data_to_dense,
    data_to_mol,
    dense_to_data,
    dense_to_mols,
    dense_to_smiles,
    mol_from_smiles,
    mol_to_data,
    mols_to_dense,
)
from edgraph.datasets.download import data_root
from edgraph.datasets.molecule_benchmarks import (
    load_molecule_tensors,
    load_molecules,
    qm9_split,
    read_smiles,
)

NCI_VOCABULARY = ("C", "N", "O", "F", "N+", "O-")


@pytest.fixture(scope="module")
def nci_small() -> list[str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_molecules("nci_small")


@pytest.fixture(scope="module")
def qm9_rows() -> list[Chem.Mol]:
    """Every 40th QM9 row and every row with a charged atom in its SMILES (about 5,000 molecules)."""
    lines = (data_root() / "qm9_smiles.csv").read_text().splitlines()[1:]
    return [mol_from_smiles(s) for i, s in enumerate(lines) if i % 40 == 0 or "+" in s or "-]" in s]


def _is_charged(mol: Chem.Mol) -> bool:
    return any(atom.GetFormalCharge() for atom in mol.GetAtoms())


def _round_trip(molecules: list, atom_types: tuple[str, ...]) -> list[tuple[str, str | None]]:
    """(original, decoded) canonical SMILES of the molecules that do not survive a round trip."""
    atoms, bonds, node_mask = mols_to_dense(molecules, atom_types, max_atoms=9)
    back = dense_to_mols(atoms, bonds, node_mask, atom_types)
    pairs = [(canonical_smiles(m), canonical_smiles(b)) for m, b in zip(molecules, back)]
    return [(a, b) for a, b in pairs if a != b]


def test_nci_small_is_the_filtered_bundled_set(nci_small):
    assert len(nci_small) == 431
    for smiles in nci_small:
        mol = mol_from_smiles(smiles)
        assert mol.GetNumAtoms() <= 9 and "." not in smiles
        assert {a.GetSymbol() for a in mol.GetAtoms()} <= {"C", "N", "O", "F"}
    with pytest.warns(UserWarning, match="8 of 4999 SMILES are invalid"):
        load_molecules("nci_small")


def test_round_trip_nci_small_is_exact_with_a_charge_aware_vocabulary(nci_small):
    assert _round_trip(nci_small, NCI_VOCABULARY) == []


def test_round_trip_nci_small_element_only_loses_only_charged_molecules(nci_small):
    mismatches = _round_trip(nci_small, QM9_ATOMS)
    # the nine nitro compounds: [N+](=O)[O-] decodes as [N+](=O)O under the GDSS rule
    assert len(mismatches) == 9
    assert all("[N+](=O)[O-]" in a or "[N+]([O-])" in a for a, _ in mismatches)


def test_round_trip_qm9_rows_exact_with_charged_vocabulary(qm9_rows):
    assert len(qm9_rows) > 4500
    assert _round_trip(qm9_rows, QM9_CHARGED_ATOMS) == []


def test_round_trip_qm9_rows_element_only_is_exact_on_neutral_molecules(qm9_rows):
    mismatches = dict(_round_trip(qm9_rows, QM9_ATOMS))
    charged = {canonical_smiles(m) for m in qm9_rows if _is_charged(m)}
    assert len(charged) > 1700
    assert set(mismatches) <= charged
    # zwitterions lose their charges: [NH3+]CC(=O)[O-] comes back as glycine
    assert mismatches["[NH3+]CC(=O)[O-]"] == "NCC(=O)O"


def test_dense_layout_matches_triu_order_and_padding():
    atoms, bonds, node_mask = mols_to_dense(["C=CO", "N#N"], max_atoms=4)
    assert atoms.shape == (2, 4, 4) and bonds.shape == (2, 6, NUM_BOND_TYPES)
    row, col = torch.triu_indices(4, 4, offset=1)
    orders = bonds.argmax(-1)
    expected = {(0, 1): 2, (1, 2): 1}
    for k, (u, v) in enumerate(zip(row.tolist(), col.tolist())):
        assert orders[0, k] == expected.get((u, v), 0)
    assert atoms[0].argmax(-1)[:3].tolist() == [0, 0, 2]
    assert atoms[0, 3].sum() == 0 and atoms[1, 2:].sum() == 0
    assert node_mask.tolist() == [[True, True, True, False], [True, True, False, False]]
    assert torch.all(bonds.sum(-1) == 1)  # every pair, padding included, is one-hot ("none")


def test_aromatic_rings_are_kekulized():
    atoms, bonds, node_mask = mols_to_dense(["c1ccccc1"])
    counts = torch.bincount(bonds.argmax(-1)[0], minlength=NUM_BOND_TYPES)
    assert counts.tolist() == [15 - 6, 3, 3, 0]
    assert canonical_smiles(dense_to_mols(atoms, bonds, node_mask)[0]) == "c1ccccc1"


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="not a valid SMILES"):
        mols_to_dense(["C1CC"])
    with pytest.raises(ValueError, match="Cl, not in atom_types"):
        mols_to_dense(["CCl"])
    with pytest.raises(ValueError, match="more than max_atoms=2"):
        mols_to_dense(["CCC"], max_atoms=2)
    with pytest.raises(ValueError, match="N\\+, not in atom_types"):
        mols_to_dense(["C[NH3+]"], ("C", "N", "O-"))
    with pytest.raises(ValueError, match="not an element symbol"):
        dense_to_mols(torch.zeros(1, 2, 1), torch.zeros(1, 1, 4), atom_types=("c1",))
    with pytest.raises(ValueError, match="bonds must be"):
        dense_to_mols(torch.zeros(1, 3, 4), torch.zeros(1, 2, 4))


def test_invalid_graph_is_none_without_correction_and_fixed_with_it():
    # a carbon with five single bonds (neopentane's centre plus one): no valid reading
    atoms = torch.zeros(1, 6, 4)
    atoms[0, :, 0] = 1
    orders = torch.zeros(6, 6, dtype=torch.long)
    orders[0, 1:] = orders[1:, 0] = 1
    row, col = torch.triu_indices(6, 6, offset=1)
    bonds = torch.nn.functional.one_hot(orders[row, col], 4).float()[None]
    assert dense_to_mols(atoms, bonds) == [None]
    fixed = dense_to_mols(atoms, bonds, correct=True)[0]
    # correction removes the first bond of the overfull atom; the lone methane is dropped
    assert canonical_smiles(fixed) == "CC(C)(C)C"


def test_correction_lowers_highest_order_bond_first_then_keeps_largest_fragment():
    orders = np.array([[0, 3, 1], [3, 0, 0], [1, 0, 0]])
    # oxygen (allowed 2, or 3 as a cation) with a triple and a single bond: the triple drops
    corrected = correct_valence([("O", 0), ("C", 0), ("C", 0)], orders)
    assert corrected.tolist() == [[0, 2, 1], [2, 0, 0], [1, 0, 0]]
    assert correct_valence([("F", 0), ("C", 0)], np.array([[0, 3], [3, 0]])).tolist() == [[0, 1], [1, 0]]
    # disconnected but valid: kept whole without correction, largest fragment with it
    atoms, bonds, node_mask = mols_to_dense(["CCO.N"])
    assert canonical_smiles(dense_to_mols(atoms, bonds, node_mask)[0]) == "CCO.N"
    assert canonical_smiles(dense_to_mols(atoms, bonds, node_mask, correct=True)[0]) == "CCO"
    assert dense_to_smiles(atoms, bonds, node_mask, correct=True) == ["CCO"]


def test_gdss_cation_rule_makes_four_bonded_nitrogen_valid():
    atoms, bonds, node_mask = mols_to_dense(["CN(C)C"])
    row, col = torch.triu_indices(4, 4, offset=1)
    pair = [k for k, (u, v) in enumerate(zip(row.tolist(), col.tolist())) if (u, v) == (0, 1)][0]
    bonds[0, pair] = torch.tensor([0.0, 0.0, 1.0, 0.0])  # C=N with two more carbons on N
    mol = dense_to_mols(atoms, bonds, node_mask)[0]
    assert canonical_smiles(mol) == "C=[N+](C)C"


def test_pyg_round_trip(nci_small):
    atoms, bonds, node_mask = mols_to_dense(nci_small[:50], NCI_VOCABULARY, max_atoms=9)
    graphs = dense_to_data(atoms, bonds, node_mask)
    assert all(g.edge_attr[:, 0].sum() == 0 for g in graphs)
    back = data_to_dense(graphs, max_atoms=9)
    for original, restored in zip((atoms, bonds, node_mask), back):
        assert torch.equal(original, restored)
    data = mol_to_data("CC=O")
    assert data.x.shape == (3, 4) and data.edge_index.shape == (2, 4)
    assert canonical_smiles(data_to_mol(data)) == "CC=O"
    with pytest.raises(ValueError, match="not undirected"):
        data_to_dense([Data(x=torch.eye(4)[:2], edge_index=torch.tensor([[0], [1]]), edge_attr=torch.eye(4)[[1]])])


def test_qm9_split_reads_ids_as_zero_based_rows():
    train, test = qm9_split()
    assert (len(test), len(train)) == (13_082, 120_803)
    assert set(train).isdisjoint(test) and sorted(train + test) == list(range(133_885))
    ids = json.loads((data_root() / "valid_idx_qm9.json").read_text())["valid_idxs"]
    assert test[:3] == [int(i) for i in ids[:3]] == [7278, 10763, 102219]
    assert 0 in train  # no id 000000 in the file: methane (row 0) trains


def test_qm9_test_split_loads_and_tensors_are_cached():
    smiles = load_molecules("qm9", "test")
    lines = (data_root() / "qm9_smiles.csv").read_text().splitlines()
    assert len(smiles) == 13_082
    assert smiles[0] == canonical_smiles(lines[1 + 7278])
    atoms, bonds, node_mask = load_molecule_tensors("qm9", "test", atom_types=QM9_CHARGED_ATOMS)
    again = load_molecule_tensors("qm9", "test", atom_types=QM9_CHARGED_ATOMS)  # from the npz cache
    assert atoms.shape == (13_082, 9, 8) and bonds.shape == (13_082, 36, 4)
    assert all(torch.equal(a, b) for a, b in zip((atoms, bonds, node_mask), again))
    decoded = dense_to_mols(atoms[:500], bonds[:500], node_mask[:500], QM9_CHARGED_ATOMS)
    assert [canonical_smiles(m) for m in decoded] == smiles[:500]


def test_invalid_smiles_are_counted_not_dropped_silently():
    with pytest.warns(UserWarning, match="2 of 5 SMILES are invalid"):
        kept = read_smiles(["CCO", "C1CC", "N", "C(C)(C)(C)(C)C", "OC=O"], "test file")
    assert kept == ["CCO", "N", "O=CO"]


def test_unknown_dataset_and_split_are_rejected():
    with pytest.raises(ValueError, match="unknown molecule dataset"):
        load_molecules("zinc")
    with pytest.raises(ValueError, match="unknown split"):
        load_molecules("qm9", "valid")
    with pytest.raises(ValueError, match="no train/test split"):
        load_molecules("nci_small", "train")


def test_qm9_is_derived_from_gdss_csv_and_verified(tmp_path, monkeypatch):
    """A data root holding GDSS's qm9.csv layout (index, SMILES1, SMILES2, properties) works offline."""
    from edgraph.datasets import molecule_benchmarks as datasets_molecules

    smiles = (data_root() / "qm9_smiles.csv").read_text().splitlines()[1:]
    root, cache = tmp_path / "data", tmp_path / "cache"
    (root / "raw").mkdir(parents=True)
    monkeypatch.setenv("EDGRAPH_CACHE", str(cache))
    rows = "".join(f"{i},{s},{s},1.0\n" for i, s in enumerate(smiles))
    (root / "raw" / "qm9.csv").write_text(",SMILES1,SMILES2,A\n" + rows)
    derived = datasets_molecules.qm9_smiles_file(root)
    assert derived.parent == cache / "raw"
    assert derived.read_bytes() == (data_root() / "qm9_smiles.csv").read_bytes()

    derived.unlink()
    (root / "raw" / "qm9.csv").write_text(",SMILES1,SMILES2,A\n" + rows.replace(",C,C,", ",N,N,", 1))
    with pytest.raises(ValueError, match="not the expected QM9"):
        datasets_molecules.qm9_smiles_file(root)

    (root / "raw" / "qm9.csv").unlink()

    def offline(*args, **kwargs):
        raise OSError("no network")

    monkeypatch.setattr(datasets_molecules.urllib.request, "urlopen", offline)
    with pytest.raises(RuntimeError, match="could not be downloaded"):
        datasets_molecules.qm9_smiles_file(root)
