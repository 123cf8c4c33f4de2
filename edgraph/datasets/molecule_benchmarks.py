"""Molecule datasets: QM9 with the GDSS split, and a small offline NCI set for tests.

* ``qm9``: 133,885 molecules of up to 9 heavy atoms (C, N, O, F), GDB-17 SMILES in QM9 id
  order (Ramakrishnan et al., 2014), as in the ``qm9.csv`` of MoFlow/GDSS. Test split: the
  13,082 ids of ``valid_idx_qm9.json`` read as GDSS reads them, ``int(id)`` = 0-based row;
  train = the other 120,803 rows. (MoFlow/GraphNVP read ``int(id) - 1``; numbers published
  by GDSS and its successors use GDSS's reading.)
* ``nci_small``: RDKit's bundled ``Data/NCI/first_5K.smi`` kept to single-fragment molecules
  of at most 9 heavy atoms, all C, N, O or F (431 molecules); offline, no split.

Invalid SMILES in a file are left out with a warning that gives their count, never silently.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import urllib.request
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from rdkit import Chem, RDConfig
from torch import Tensor

from edgraph.chem import NUM_BOND_TYPES, QM9_ATOMS, QM9_MAX_ATOMS, canonical_smiles, mol_from_smiles, mols_to_dense
from edgraph.datasets.download import cache_dir, data_root, fetch, read_cache, sha256_file, write_cache
from edgraph.datasets.graph_benchmarks import BUILDER_VERSION, MOLECULE_DATASETS
from edgraph.io import atomic_write

QM9_SMILES_FILE = "qm9_smiles.csv"  # one column "smiles": the SMILES1 column of GDSS's qm9.csv
QM9_SMILES_SHA256 = "80c060e299a44112b89be3fc6d95145dfeda97aa3eab1e2662aafdfbb00f7929"
# GDSS ships MoFlow's QM9 csv and split in its repository (Jo et al., 2022).
QM9_CSV_URL = "https://raw.githubusercontent.com/harryjo97/GDSS/master/data/qm9.csv"
QM9_SPLIT_FILE = "valid_idx_qm9.json"
QM9_SPLIT_SHA256 = "889fd232a33d8a2c00f057c807b119e72abd5baa48f6fab93e8d8b7a79340f4d"
QM9_SPLIT_URL = "https://raw.githubusercontent.com/harryjo97/GDSS/master/data/valid_idx_qm9.json"

NCI_FILE = Path(RDConfig.RDDataDir) / "NCI" / "first_5K.smi"
NCI_ELEMENTS = frozenset("CNOF")

SPLITS = ("train", "test", "all")


def _check(name: str, split: str) -> None:
    if name not in MOLECULE_DATASETS:
        raise ValueError(f"unknown molecule dataset {name!r}; choose from {MOLECULE_DATASETS}")
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose from {SPLITS}")
    if name == "nci_small" and split != "all":
        raise ValueError("nci_small has no train/test split; use split='all'")


def _smiles_column(text: str, source: str) -> list[str]:
    rows = csv.reader(io.StringIO(text))
    header = next(rows, [])
    column = next((c for c in ("smiles", "SMILES1") if c in header), None)
    if column is None:
        raise ValueError(f"{source} has no 'smiles' or 'SMILES1' column (header: {header[:5]})")
    index = header.index(column)
    return [row[index] for row in rows if row]


def _qm9_from_gdss_csv(root: str | os.PathLike | None) -> Path:
    """Derive ``qm9_smiles.csv`` from GDSS's ``qm9.csv`` (under the data root, else downloaded),
    verified by the checksum of the derived file, and cache it."""
    target = cache_dir() / "raw" / QM9_SMILES_FILE
    if target.is_file() and sha256_file(target) == QM9_SMILES_SHA256:
        return target
    local = next((p for p in (data_root(root) / "qm9.csv", data_root(root) / "raw" / "qm9.csv") if p.is_file()), None)
    if local is not None:
        text = local.read_text()
    else:
        try:
            with urllib.request.urlopen(QM9_CSV_URL, timeout=60) as response:
                text = response.read().decode()
        except OSError as err:
            raise RuntimeError(
                f"QM9 is not under {data_root(root)} and could not be downloaded from "
                f"{QM9_CSV_URL} ({err}); put {QM9_SMILES_FILE} or GDSS's qm9.csv there "
                "or set EDGRAPH_DATA"
            ) from err
    derived = "smiles\n" + "".join(s + "\n" for s in _smiles_column(text, "qm9.csv"))
    if hashlib.sha256(derived.encode()).hexdigest() != QM9_SMILES_SHA256:
        raise ValueError(
            f"the SMILES1 column of {local or QM9_CSV_URL} is not the expected QM9 "
            f"(sha256 of the derived {QM9_SMILES_FILE} differs from {QM9_SMILES_SHA256})"
        )
    atomic_write(target, derived)
    return target


def qm9_smiles_file(root: str | os.PathLike | None = None) -> Path:
    """Local, checksum-verified ``qm9_smiles.csv``: from the data root if it is there, else
    derived from GDSS's ``qm9.csv`` (found under the root or downloaded)."""
    try:
        return fetch(QM9_SMILES_FILE, None, QM9_SMILES_SHA256, root)
    except FileNotFoundError:
        return _qm9_from_gdss_csv(root)


def qm9_split(root: str | os.PathLike | None = None) -> tuple[list[int], list[int]]:
    """QM9 ``(train_rows, test_rows)``, 0-based csv rows, by GDSS's reading of the split file.

    Test rows are ``int(id)`` for the ids of ``valid_idx_qm9.json`` (in file order); train rows
    are all other rows in order. Parses no molecule.
    """
    with open(fetch(QM9_SPLIT_FILE, QM9_SPLIT_URL, QM9_SPLIT_SHA256, root)) as handle:
        test = [int(i) for i in json.load(handle)["valid_idxs"]]
    with open(qm9_smiles_file(root)) as handle:
        num_rows = sum(1 for line in handle if line.strip()) - 1  # minus the header
    test_set = set(test)
    return [r for r in range(num_rows) if r not in test_set], test


def _parse(smiles: Sequence[str], source: str) -> list[Chem.Mol]:
    """RDKit molecules of the valid SMILES; warns with the count of invalid ones."""
    mols = [mol_from_smiles(s) for s in smiles]
    invalid = [i for i, mol in enumerate(mols) if mol is None]
    if invalid:
        warnings.warn(
            f"{source}: {len(invalid)} of {len(smiles)} SMILES are invalid (RDKit cannot parse "
            f"them) and were left out, e.g. entry {invalid[0]}: {smiles[invalid[0]]}",
            stacklevel=3,
        )
    return [mol for mol in mols if mol is not None]


def read_smiles(smiles: Sequence[str], source: str) -> list[str]:
    """Canonical SMILES (no stereochemistry) of the valid entries; warns with the invalid count.

    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     read_smiles(["OCC", "C1CC", "N"], "example")
    ['CCO', 'N']
    >>> str(caught[0].message)
    'example: 1 of 3 SMILES are invalid (RDKit cannot parse them) and were left out, e.g. entry 1: C1CC'
    """
    return [canonical_smiles(mol) for mol in _parse(smiles, source)]


def _load_mols(name: str, split: str, root: str | os.PathLike | None) -> list[Chem.Mol]:
    _check(name, split)
    if name == "nci_small":
        raw = [line.split()[0] for line in NCI_FILE.read_text().splitlines() if line.strip()]
        return [
            mol
            for mol in _parse(raw, str(NCI_FILE))
            if mol.GetNumAtoms() <= QM9_MAX_ATOMS
            and len(Chem.GetMolFrags(mol)) == 1
            and all(atom.GetSymbol() in NCI_ELEMENTS for atom in mol.GetAtoms())
        ]
    path = qm9_smiles_file(root)
    with open(path) as handle:
        smiles = _smiles_column(handle.read(), str(path))
    if split != "all":
        train, test = qm9_split(root)
        smiles = [smiles[r] for r in (train if split == "train" else test)]
    return _parse(smiles, f"{path} ({split})")


def load_molecules(name: str = "qm9", split: str = "all", root: str | os.PathLike | None = None) -> list[str]:
    """Canonical SMILES (RDKit, no stereochemistry) of a molecule dataset split.

    ``name``: ``"qm9"`` or ``"nci_small"``; ``split``: ``"train"``, ``"test"`` or ``"all"``
    (QM9 in csv row order; the split is GDSS's, see :func:`qm9_split`). ``root``: argument,
    else ``$EDGRAPH_DATA``, else ``<repo>/datasets``.

    >>> len(load_molecules("nci_small"))
    431
    """
    return [canonical_smiles(mol) for mol in _load_mols(name, split, root)]


def load_molecule_tensors(
    name: str = "qm9",
    split: str = "train",
    root: str | os.PathLike | None = None,
    atom_types: Sequence[str] = QM9_ATOMS,
    max_atoms: int = QM9_MAX_ATOMS,
) -> tuple[Tensor, Tensor, Tensor]:
    """Typed dense graphs ``(atoms [B, N, Ka], bonds [B, D, Kb], node_mask [B, N])`` of a split.

    See :mod:`edgraph.chem` for the representation and the atom vocabularies. The tensors
    are cached (compact integer npz) in the cache folder, keyed by the split, vocabulary, the
    raw file's checksum and the builder's version, and verified by their own checksum when read.
    The first QM9 train load parses 120k SMILES.
    """
    _check(name, split)  # before any file is touched
    source = QM9_SMILES_SHA256 if name == "qm9" else sha256_file(NCI_FILE)
    recipe = (name, split, tuple(atom_types), max_atoms, source, BUILDER_VERSION)
    key = hashlib.sha256(repr(recipe).encode()).hexdigest()[:16]
    cache = cache_dir() / "processed" / f"{name}-{split}-{key}.npz"
    cached = read_cache(cache)
    if cached is not None:
        try:
            with np.load(io.BytesIO(cached), allow_pickle=False) as stored:
                return _from_indices(stored["atoms"], stored["bonds"], len(atom_types))
        except (OSError, ValueError, KeyError):
            pass  # a cache this version cannot read is rebuilt below
    atoms, bonds, node_mask = mols_to_dense(_load_mols(name, split, root), atom_types, max_atoms)
    atom_index = torch.where(node_mask, atoms.argmax(-1), -1).to(torch.int8).numpy()
    buffer = io.BytesIO()
    np.savez_compressed(buffer, atoms=atom_index, bonds=bonds.argmax(-1).to(torch.int8).numpy())
    write_cache(cache, buffer.getvalue())
    return atoms, bonds, node_mask


def _from_indices(atom_index: np.ndarray, bond_order: np.ndarray, num_atom_types: int) -> tuple[Tensor, Tensor, Tensor]:
    atom_types = torch.from_numpy(atom_index.astype(np.int64))
    node_mask = atom_types >= 0
    atoms = torch.nn.functional.one_hot(atom_types.clamp(min=0), num_atom_types).float() * node_mask[..., None]
    bonds = torch.nn.functional.one_hot(torch.from_numpy(bond_order.astype(np.int64)), NUM_BOND_TYPES).float()
    return atoms, bonds, node_mask
