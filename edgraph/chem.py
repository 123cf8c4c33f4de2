r"""Molecules as typed graphs: RDKit ``Mol`` <-> dense one-hot tensors <-> PyG ``Data``.

A molecule on :math:`n \le N` heavy atoms is held as

* ``atoms [B, N, Ka]``: one-hot atom types over a vocabulary ``atom_types`` (rows of padding
  atoms are all zero);
* ``bonds [B, D, Kb]``: one-hot bond types over the :math:`D = N(N-1)/2` atom pairs in
  :func:`torch.triu_indices` order (the edge-vector order of :mod:`edgraph.graphs`), with
  ``Kb = 4`` channels: channel :math:`k` is bond order :math:`k` (0 none, 1 single, 2 double,
  3 triple); pairs with a padding atom are "none";
* ``node_mask [B, N]``: True on real atoms (padding at the end).

Molecules are kekulized, so aromatic rings become alternating single and double bonds.
Hydrogens are implicit: RDKit recomputes them from the heavy-atom graph and formal charges.
Stereochemistry is not represented.

Atom vocabularies are tuples of tokens: an element symbol, optionally followed by its formal
charge as ``+``/``-`` signs (``"N+"``, ``"O-"``).

* :data:`QM9_ATOMS` ``("C", "N", "O", "F")`` is the vocabulary of GDSS/MoFlow: charges are
  dropped when encoding (a vocabulary without charged tokens means "element only"). 1,705 of
  QM9's 133,885 molecules carry charges (zwitterions such as ``[NH3+]CC([O-])=O``); they decode
  to a neutral or differently charged molecule.
* :data:`QM9_CHARGED_ATOMS` adds the four charged forms that occur in QM9 (``N+ O- N- C-``),
  and encodes every QM9 molecule exactly.

Decoding follows GDSS (Jo et al., 2022, ``construct_mol``): a neutral-typed N or O atom whose
bond orders sum to one more than its usual valence becomes a cation (N+ with four bonds, O+
with three). This is part of the plain conversion, so "validity without correction" means what
it means in the published tables. The optional correction (``correct=True``) is the valence
repair of MoFlow (Zang & Wang, 2020) and GDSS: while some atom exceeds its allowed valence,
lower by one the order of that atom's highest-order bond; then keep the largest fragment.

>>> atoms, bonds, node_mask = mols_to_dense(["C=O", "CCO"], max_atoms=4)
>>> atoms.shape, bonds.shape, node_mask.tolist()
(torch.Size([2, 4, 4]), torch.Size([2, 6, 4]), [[True, True, False, False], [True, True, True, False]])
>>> [canonical_smiles(m) for m in dense_to_mols(atoms, bonds, node_mask)]
['C=O', 'CCO']
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Callable, Sequence
from typing import overload

import numpy as np
import torch
from rdkit import Chem
from rdkit.Chem import QED, rdMolDescriptors
from rdkit.rdBase import BlockLogs
from torch import Tensor
from torch_geometric.data import Data

from edgraph.graphs import adj_to_edges, edges_to_adj, num_pairs
from edgraph.io import atomic_write

MolLike = Chem.Mol | str

#: Atom vocabulary of GDSS/MoFlow on QM9, elements only (formal charges are dropped when encoding).
QM9_ATOMS: tuple[str, ...] = ("C", "N", "O", "F")
#: :data:`QM9_ATOMS` plus the four charged forms that occur in QM9; encodes every QM9 molecule exactly.
QM9_CHARGED_ATOMS: tuple[str, ...] = ("C", "N", "O", "F", "N+", "O-", "N-", "C-")
#: Largest number of heavy atoms of a QM9 molecule.
QM9_MAX_ATOMS = 9

#: RDKit bond type of each bond channel; channel 0 is "no bond".
BOND_TYPES = (None, Chem.BondType.SINGLE, Chem.BondType.DOUBLE, Chem.BondType.TRIPLE)
NUM_BOND_TYPES = len(BOND_TYPES)
_BOND_ORDER = {bond_type: order for order, bond_type in enumerate(BOND_TYPES) if bond_type is not None}

# GDSS gives a +1 charge to these elements when they carry one bond too many.
_CATION_ELEMENTS = ("N", "O")
_TOKEN = re.compile(r"^([A-Z][a-z]?)(\++|-+)?$")
_PERIODIC_TABLE = Chem.GetPeriodicTable()


def _parse_token(token: str) -> tuple[str, int]:
    match = _TOKEN.match(token)
    if match is None:
        raise ValueError(f"atom type {token!r} is not an element symbol with optional +/- charge signs")
    element, signs = match.group(1), match.group(2) or ""
    _PERIODIC_TABLE.GetAtomicNumber(element)  # raises for unknown elements
    return element, signs.count("+") - signs.count("-")


def _token(element: str, charge: int) -> str:
    return element + ("+" * charge if charge > 0 else "-" * -charge)


def _max_valence(element: str, charge: int) -> int:
    # An ion takes the valence of its isoelectronic neutral element (N+ like C, O- like F),
    # the rule RDKit's sanitization applies to these elements.
    return max(_PERIODIC_TABLE.GetValenceList(_PERIODIC_TABLE.GetAtomicNumber(element) - charge))


def mol_from_smiles(smiles: str) -> Chem.Mol | None:
    """Parse and sanitize a SMILES string; ``None`` when RDKit rejects it (without log noise).

    >>> mol_from_smiles("C1=CC=CC=C1").GetNumAtoms(), mol_from_smiles("C(C)(C)(C)(C)C")
    (6, None)
    """
    with BlockLogs():
        return Chem.MolFromSmiles(smiles)


@overload
def canonical_smiles(mol: Chem.Mol) -> str: ...


@overload
def canonical_smiles(mol: MolLike | None) -> str | None: ...


def canonical_smiles(mol: MolLike | None) -> str | None:
    """RDKit canonical SMILES without stereochemistry; ``None`` for ``None`` or invalid input.

    >>> canonical_smiles("OCC"), canonical_smiles("C1=CC=CC=C1"), canonical_smiles("X")
    ('CCO', 'c1ccccc1', None)
    """
    if isinstance(mol, str):
        mol = mol_from_smiles(mol)
    if mol is None:
        return None
    return Chem.MolToSmiles(mol, isomericSmiles=False)


def in_canonical_order(molecule: MolLike, index: int = 0) -> Chem.Mol:
    """The molecule with its atoms renumbered in the order its canonical SMILES
    (:func:`canonical_smiles`) writes them: RDKit's canonical ranks pick the first atom and the
    branches, then a depth-first walk numbers the rest, so isomorphic molecules get the same
    numbering. ``index`` names the molecule in the error for an invalid one.

    >>> [atom.GetSymbol() for atom in in_canonical_order("OCC(=O)N").GetAtoms()]
    ['N', 'C', 'O', 'C', 'O']
    """
    mol = _as_mol(molecule, index)
    Chem.MolToSmiles(mol, isomericSmiles=False)  # records the order it writes the atoms in
    order = mol.GetPropsAsDict(includePrivate=True, includeComputed=True)["_smilesAtomOutputOrder"]
    return Chem.RenumberAtoms(mol, list(order))


#: RDKit properties of molecules by name, ``"qed"`` (the quantitative estimate of drug-likeness
#: in [0, 1], Bickerton et al., Nature Chemistry 2012) and ``"logp"`` (Crippen's octanol-water
#: partition coefficient, Wildman & Crippen, J. Chem. Inf. Comput. Sci. 1999).
PROPERTIES: dict[str, Callable[[Chem.Mol], float]] = {
    "qed": QED.qed,
    "logp": lambda mol: rdMolDescriptors.CalcCrippenDescriptors(mol)[0],
}


def molecule_properties(molecules: Sequence[MolLike | None], name: str) -> list[float | None]:
    """RDKit's property ``name`` (:data:`PROPERTIES`) of each molecule, ``None`` where a molecule
    is ``None`` or does not parse.

    >>> [round(v, 2) for v in molecule_properties(["CCO", "c1ccccc1"], "logp")]
    [-0.0, 1.69]
    """
    if name not in PROPERTIES:
        raise ValueError(f"unknown molecular property {name!r}; choose from {sorted(PROPERTIES)}")
    compute = PROPERTIES[name]
    values: list[float | None] = []
    for molecule in molecules:
        mol = mol_from_smiles(molecule) if isinstance(molecule, str) else molecule
        values.append(None if mol is None else float(compute(mol)))
    return values


def largest_fragment(mol: Chem.Mol) -> Chem.Mol:
    """The connected fragment with the most atoms (the first one on ties).

    >>> Chem.MolToSmiles(largest_fragment(Chem.MolFromSmiles("C.CCO.N")))
    'CCO'
    """
    fragments = Chem.GetMolFrags(mol, asMols=True, sanitizeFrags=False)
    return max(fragments, key=lambda fragment: fragment.GetNumAtoms())


def _as_mol(molecule: MolLike, index: int) -> Chem.Mol:
    mol = mol_from_smiles(molecule) if isinstance(molecule, str) else molecule
    if mol is None:
        raise ValueError(f"molecule {index} ({molecule!r}) is not a valid SMILES / RDKit molecule")
    return mol


def _atom_encoder(atom_types: Sequence[str]) -> Callable[[Chem.Atom], int | None]:
    """Map an RDKit atom to its index in ``atom_types`` (``None`` when it has no type)."""
    lookup = {token: k for k, token in enumerate(atom_types)}
    element_only = all(_parse_token(token)[1] == 0 for token in atom_types)

    def encode(atom: Chem.Atom) -> int | None:
        return lookup.get(_token(atom.GetSymbol(), 0 if element_only else atom.GetFormalCharge()))

    return encode


def mols_to_dense(
    molecules: Sequence[MolLike], atom_types: Sequence[str] = QM9_ATOMS, max_atoms: int | None = None
) -> tuple[Tensor, Tensor, Tensor]:
    """Typed dense graphs ``(atoms [B, N, Ka], bonds [B, D, Kb], node_mask [B, N])`` of molecules.

    ``molecules`` holds RDKit molecules or SMILES strings. Molecules are kekulized; atom ``i`` of
    a molecule is RDKit's atom ``i``. ``max_atoms`` (``N``) defaults to the largest molecule.
    Raises ``ValueError`` for an invalid SMILES, an atom outside ``atom_types``, a molecule
    larger than ``max_atoms``, or a bond that is not single/double/triple after kekulization.

    >>> atoms, bonds, node_mask = mols_to_dense(["C#N"])
    >>> atoms.argmax(-1).tolist(), bonds.argmax(-1).tolist()
    ([[0, 1]], [[3]])
    """
    mols = [_as_mol(molecule, i) for i, molecule in enumerate(molecules)]
    sizes = [mol.GetNumAtoms() for mol in mols]
    n_max = max(sizes, default=0) if max_atoms is None else max_atoms
    too_big = [i for i, size in enumerate(sizes) if size > n_max]
    if too_big:
        raise ValueError(f"molecule {too_big[0]} has {sizes[too_big[0]]} heavy atoms, more than max_atoms={n_max}")
    encode = _atom_encoder(atom_types)
    atom_index = np.zeros((len(mols), n_max), dtype=np.int64)
    orders = np.zeros((len(mols), n_max, n_max), dtype=np.int64)
    for b, mol in enumerate(mols):
        for atom in mol.GetAtoms():
            k = encode(atom)
            if k is None:
                raise ValueError(
                    f"atom {atom.GetIdx()} of molecule {b} ({Chem.MolToSmiles(mol)}) is "
                    f"{_token(atom.GetSymbol(), atom.GetFormalCharge())}, not in "
                    f"atom_types {tuple(atom_types)}"
                )
            atom_index[b, atom.GetIdx()] = k
        kekule = Chem.Mol(mol)
        try:
            Chem.Kekulize(kekule, clearAromaticFlags=True)
        except Exception as err:  # RDKit raises its own KekulizeException
            raise ValueError(f"molecule {b} ({Chem.MolToSmiles(mol)}) cannot be kekulized: {err}") from err
        for bond in kekule.GetBonds():
            order = _BOND_ORDER.get(bond.GetBondType())
            if order is None:
                raise ValueError(
                    f"molecule {b} ({Chem.MolToSmiles(mol)}) has a {bond.GetBondType()} "
                    "bond; only single, double and triple bonds are represented"
                )
            u, v = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
            orders[b, u, v] = orders[b, v, u] = order
    node_mask = torch.arange(n_max) < torch.tensor(sizes, dtype=torch.long).reshape(-1, 1)
    atoms = torch.nn.functional.one_hot(torch.from_numpy(atom_index), len(atom_types)).float()
    atoms = atoms * node_mask[..., None]
    bonds = torch.nn.functional.one_hot(adj_to_edges(torch.from_numpy(orders)), NUM_BOND_TYPES).float()
    return atoms, bonds, node_mask


def _graph_arrays(
    atoms: Tensor, bonds: Tensor, node_mask: Tensor | None, atom_types: Sequence[str]
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per molecule: atom type indices ``[n]`` and the bond-order matrix ``[n, n]``."""
    if atoms.dim() != 3 or atoms.shape[-1] != len(atom_types):
        raise ValueError(f"atoms must be [B, N, Ka={len(atom_types)}], got {tuple(atoms.shape)}")
    n_max = atoms.shape[1]
    if bonds.dim() != 3 or bonds.shape[:2] != (atoms.shape[0], num_pairs(n_max)) or bonds.shape[-1] != NUM_BOND_TYPES:
        raise ValueError(
            f"bonds must be [B, D={num_pairs(n_max)}, Kb={NUM_BOND_TYPES}] for atoms "
            f"{tuple(atoms.shape)}, got {tuple(bonds.shape)}"
        )
    if node_mask is None:
        node_mask = atoms.detach().abs().sum(-1) > 0
    orders = edges_to_adj(bonds.detach().argmax(-1).float(), n_max).long().cpu().numpy()
    types = atoms.detach().argmax(-1).cpu().numpy()
    keep = node_mask.bool().cpu().numpy()
    return (
        [types[b][keep[b]] for b in range(len(types))],
        [orders[b][np.ix_(keep[b], keep[b])] for b in range(len(types))],
    )


def _allowed_valence(element: str, charge: int) -> int:
    return _max_valence(element, charge) + (charge == 0 and element in _CATION_ELEMENTS)


def _build_mol(tokens: Sequence[tuple[str, int]], orders: np.ndarray) -> Chem.RWMol:
    mol = Chem.RWMol()
    valences = orders.sum(1)
    for (element, charge), valence in zip(tokens, valences):
        atom = Chem.Atom(element)
        if charge == 0 and element in _CATION_ELEMENTS and valence == _max_valence(element, 0) + 1:
            charge = 1
        atom.SetFormalCharge(charge)
        mol.AddAtom(atom)
    for u, v in zip(*np.nonzero(np.triu(orders, 1))):
        bond_type = BOND_TYPES[orders[u, v]]
        assert bond_type is not None  # orders[u, v] > 0 off the zeros of np.nonzero
        mol.AddBond(int(u), int(v), bond_type)
    return mol


def _sanitized(mol: Chem.RWMol) -> Chem.Mol | None:
    with BlockLogs():
        try:
            Chem.SanitizeMol(mol)
        except Exception:  # RDKit raises several exception types for invalid molecules
            return None
    return mol.GetMol()


def correct_valence(tokens: Sequence[tuple[str, int]], orders: np.ndarray) -> np.ndarray:
    """Lower bond orders until no atom exceeds its allowed valence (MoFlow/GDSS correction).

    ``tokens`` are ``(element, formal charge)`` per atom, ``orders [n, n]`` the symmetric
    bond-order matrix. While some atom (the first in index order) has a bond-order sum above its
    allowed valence (a neutral N or O may take one extra bond, as a cation), the order of its
    highest-order bond (lowest partner index on ties) drops by one. Returns a corrected copy.

    >>> correct_valence([("F", 0), ("C", 0)], np.array([[0, 2], [2, 0]])).tolist()
    [[0, 1], [1, 0]]
    """
    orders = orders.copy()
    allowed = np.array([_allowed_valence(element, charge) for element, charge in tokens])
    while True:
        excess = np.nonzero(orders.sum(1) > allowed)[0]
        if len(excess) == 0:
            return orders
        atom = excess[0]
        partner = int(np.argmax(orders[atom]))
        orders[atom, partner] -= 1
        orders[partner, atom] -= 1


def dense_to_mols(
    atoms: Tensor,
    bonds: Tensor,
    node_mask: Tensor | None = None,
    atom_types: Sequence[str] = QM9_ATOMS,
    correct: bool = False,
) -> list[Chem.Mol | None]:
    """RDKit molecules from typed dense graphs; ``None`` where a graph does not sanitize.

    Types are read by ``argmax`` over the last dimension, so relaxed (non one-hot) states decode
    too. ``node_mask`` defaults to the atom rows that are not all zero. With ``correct=True``
    the valence correction (:func:`correct_valence`) is applied first and the largest fragment
    is kept; without it the conversion is plain, and a disconnected graph gives a multi-fragment
    molecule.

    >>> atoms, bonds, node_mask = mols_to_dense(["CC"])
    >>> bonds[0, 0] = torch.tensor([0., 0., 0., 1.])  # C#C is fine, make it worse:
    >>> atoms[0, 1] = torch.tensor([0., 0., 0., 1.])  # F#C breaks F's valence
    >>> dense_to_mols(atoms, bonds, node_mask)
    [None]
    >>> canonical_smiles(dense_to_mols(atoms, bonds, node_mask, correct=True)[0])
    'CF'
    """
    tokens = [_parse_token(token) for token in atom_types]
    mols: list[Chem.Mol | None] = []
    for types, orders in zip(*_graph_arrays(atoms, bonds, node_mask, atom_types)):
        atom_tokens = [tokens[t] for t in types]
        if correct:
            orders = correct_valence(atom_tokens, orders)
        mol = _sanitized(_build_mol(atom_tokens, orders))
        if correct and mol is not None:
            mol = _sanitized(Chem.RWMol(largest_fragment(mol)))
        mols.append(mol)
    return mols


def dense_to_smiles(
    atoms: Tensor,
    bonds: Tensor,
    node_mask: Tensor | None = None,
    atom_types: Sequence[str] = QM9_ATOMS,
    correct: bool = False,
) -> list[str | None]:
    """Canonical SMILES of typed dense graphs (``None`` where a graph does not sanitize), the
    form generated samples are stored in; see :func:`dense_to_mols` for ``correct``.

    >>> atoms, bonds, node_mask = mols_to_dense(["OCC", "C=O"])
    >>> dense_to_smiles(atoms, bonds, node_mask)
    ['CCO', 'C=O']
    """
    return [canonical_smiles(mol) for mol in dense_to_mols(atoms, bonds, node_mask, atom_types, correct)]


def dense_to_data(atoms: Tensor, bonds: Tensor, node_mask: Tensor | None = None) -> list[Data]:
    """PyG graphs from typed dense graphs: ``x [n, Ka]`` one-hot atom types, ``edge_index
    [2, 2E]`` with both directions of every bond, ``edge_attr [2E, Kb]`` one-hot bond types
    (the dense bond channels; channel 0, "none", is never set).

    >>> data, = dense_to_data(*mols_to_dense(["C=O"]))
    >>> data.x.argmax(-1).tolist(), data.edge_index.tolist(), data.edge_attr.argmax(-1).tolist()
    ([0, 2], [[0, 1], [1, 0]], [2, 2])
    """
    if node_mask is None:
        node_mask = atoms.abs().sum(-1) > 0
    n_max = atoms.shape[1]
    orders = edges_to_adj(bonds.argmax(-1).float(), n_max).long()
    graphs = []
    for b in range(atoms.shape[0]):
        keep = node_mask[b].bool()
        sub = orders[b][keep][:, keep]
        edge_index = sub.nonzero().t()
        graphs.append(
            Data(
                x=atoms[b][keep],
                edge_index=edge_index,
                edge_attr=torch.nn.functional.one_hot(sub[edge_index[0], edge_index[1]], NUM_BOND_TYPES).to(
                    atoms.dtype
                ),
            )
        )
    return graphs


def data_to_dense(graphs: Sequence[Data], max_atoms: int | None = None) -> tuple[Tensor, Tensor, Tensor]:
    """Typed dense graphs ``(atoms, bonds, node_mask)`` from PyG graphs as :func:`dense_to_data`
    writes them. Raises ``ValueError`` for a bond without its reverse or with a different type.

    >>> atoms, bonds, node_mask = data_to_dense(dense_to_data(*mols_to_dense(["CO"])), max_atoms=3)
    >>> bonds.argmax(-1).tolist(), node_mask.tolist()
    ([[1, 0, 0]], [[True, True, False]])
    """
    sizes = [int(g.num_nodes) for g in graphs]
    n_max = max(sizes, default=0) if max_atoms is None else max_atoms
    if any(size > n_max for size in sizes):
        raise ValueError(f"a graph has {max(sizes)} atoms, more than max_atoms={n_max}")
    num_atom_types = graphs[0].x.shape[-1] if graphs else 0
    atoms = torch.zeros(len(graphs), n_max, num_atom_types)
    orders = torch.zeros(len(graphs), n_max, n_max, dtype=torch.long)
    for b, graph in enumerate(graphs):
        atoms[b, : sizes[b]] = graph.x.float()
        u, v = graph.edge_index
        order = graph.edge_attr.argmax(-1)
        orders[b, u, v] = order
        if not torch.equal(orders[b, v, u], order):
            raise ValueError(f"graph {b} is not undirected: a bond lacks its reverse edge of the same type")
    node_mask = torch.arange(n_max) < torch.tensor(sizes)[:, None]
    return atoms, torch.nn.functional.one_hot(adj_to_edges(orders), NUM_BOND_TYPES).float(), node_mask


def mol_to_data(mol: MolLike, atom_types: Sequence[str] = QM9_ATOMS) -> Data:
    """PyG graph of one molecule (RDKit ``Mol`` or SMILES); see :func:`dense_to_data`.

    >>> mol_to_data("CCO").edge_index.shape
    torch.Size([2, 4])
    """
    return dense_to_data(*mols_to_dense([mol], atom_types))[0]


def data_to_mol(data: Data, atom_types: Sequence[str] = QM9_ATOMS, correct: bool = False) -> Chem.Mol | None:
    """RDKit molecule of one PyG graph (``None`` where it does not sanitize); see :func:`dense_to_mols`.

    >>> canonical_smiles(data_to_mol(mol_to_data("OC=O")))
    'O=CO'
    """
    return dense_to_mols(*data_to_dense([data]), atom_types=atom_types, correct=correct)[0]


def draw_molecules(smiles: Sequence[str | None], path: str | os.PathLike, columns: int = 8, size: int = 160) -> None:
    """Save an RDKit grid drawing of molecules (PNG), each labelled with its SMILES; entries
    that are ``None`` or do not parse are drawn as empty cells labelled "invalid".

    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "grid.png"
    >>> draw_molecules(["CCO", None, "c1ccccc1"], out, columns=3); out.stat().st_size > 0
    True
    """
    from rdkit.Chem import Draw

    mols = [mol_from_smiles(s) if s is not None else None for s in smiles]
    legends = [s if mol is not None else "invalid" for s, mol in zip(smiles, mols)]
    image = Draw.MolsToGridImage(
        [mol if mol is not None else Chem.Mol() for mol in mols],
        molsPerRow=columns,
        subImgSize=(size, size),
        legends=legends,
    )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    atomic_write(path, buffer.getvalue())
