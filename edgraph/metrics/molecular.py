r"""Molecule generation metrics as published for QM9/ZINC (MoFlow, GDSS, DiGress, ...).

* validity: fraction of generated graphs that RDKit sanitizes; reported without and with the
  valence correction of :func:`edgraph.chem.dense_to_mols`;
* uniqueness: distinct canonical SMILES / valid molecules;
* novelty: fraction of the distinct valid molecules that are not in the training set
  (the MOSES definition that GDSS reports);
* NSPDK MMD: biased :math:`\mathrm{MMD}^2` with the neighbourhood subgraph pairwise distance
  kernel (Costa & De Grave, 2010) as EDeN vectorizes it and GDSS evaluates it;
* FCD: Fréchet ChemNet distance (Preuer et al., 2018) through the optional ``fcd`` package.

Following GDSS, the distribution metrics (uniqueness, novelty, NSPDK, FCD) are computed on the
corrected molecules when they are given, else on the valid uncorrected ones, against canonical
SMILES of the training set (novelty) and the test set (NSPDK, FCD).

>>> scores = molecule_metrics(["CCO", "CCO", "C1CC", None], ["CCO"], ["CCN", "CCO"], fcd=False)
>>> scores["validity"], scores["uniqueness"], scores["novelty"]
(0.5, 0.5, 0.0)
"""

from __future__ import annotations

import warnings
import zlib
from collections import Counter, defaultdict
from collections.abc import Sequence

import numpy as np
import scipy.sparse
from rdkit import Chem

from edgraph.chem import canonical_smiles, mol_from_smiles

MoleculeLike = Chem.Mol | str | None


def _mol(molecule: MoleculeLike) -> Chem.Mol | None:
    return mol_from_smiles(molecule) if isinstance(molecule, str) else molecule


def validity(molecules: Sequence[MoleculeLike]) -> float:
    """Fraction of entries that are valid molecules (``None`` and unparsable SMILES are not).

    >>> validity(["CCO", "C(C)(C)(C)(C)C", None, "N"])
    0.5
    """
    if len(molecules) == 0:
        raise ValueError("validity of an empty list of molecules is undefined")
    return sum(_mol(m) is not None for m in molecules) / len(molecules)


def _valid_canonical(molecules: Sequence[MoleculeLike]) -> list[str]:
    return [s for s in (canonical_smiles(_mol(m)) for m in molecules) if s is not None]


def uniqueness(molecules: Sequence[MoleculeLike]) -> float:
    """Distinct canonical SMILES among the valid molecules, over their number.

    >>> uniqueness(["CCO", "OCC", "CCN", None])
    0.6666666666666666
    """
    valid = _valid_canonical(molecules)
    if not valid:
        raise ValueError("uniqueness needs at least one valid molecule")
    return len(set(valid)) / len(valid)


def canonical_set(smiles: Sequence[MoleculeLike]) -> frozenset[str]:
    """The canonical SMILES of the valid entries, as a set to test membership in.

    Canonicalising 120,000 training SMILES takes seconds; compute this once and pass it to
    :func:`novelty` or :func:`molecule_metrics` as often as needed.

    >>> sorted(canonical_set(["OCC", "C(C)O", "N", "X"]))
    ['CCO', 'N']
    """
    return frozenset(_valid_canonical(smiles))


def novelty(molecules: Sequence[MoleculeLike], train_smiles: Sequence[str] | frozenset[str]) -> float:
    """Fraction of the distinct valid molecules whose canonical SMILES is not in the training set.

    ``train_smiles`` is canonicalised here, unless it is a ``frozenset``, which is taken as
    canonical SMILES already (:func:`canonical_set`).

    >>> novelty(["CCO", "OCC", "CCN"], ["C(C)O"])
    0.5
    """
    distinct = set(_valid_canonical(molecules))
    if not distinct:
        raise ValueError("novelty needs at least one valid molecule")
    return _new_share(distinct, train_smiles)


def _new_share(distinct: set[str], train_smiles: Sequence[str] | frozenset[str]) -> float:
    reference = train_smiles if isinstance(train_smiles, frozenset) else canonical_set(train_smiles)
    return len(distinct - reference) / len(distinct)


def _code(*parts: object) -> int:
    # Python's hash of str is salted per process; tuples of ints hash deterministically.
    return hash(parts) & 0x7FFFFFFFFFFFFFFF


def _label_code(label: object) -> int:
    return zlib.crc32(repr(label).encode())


def _nspdk_vector(mol: Chem.Mol, radius: int, distance: int, mask: int) -> dict[int, float]:
    r"""Hashed, normalized NSPDK feature vector of one molecule (EDeN's discrete vectorizer).

    Bonds become vertices (labelled with their order), so atom distances double. For every
    atom the neighbourhood of radius ``r`` is encoded by hashing, level by level, the sorted
    (label, degree) codes of the vertices at each distance up to ``2r``. Every ordered pair of
    atoms at distance ``d <= distance`` and every ``r <= radius`` reached by both atoms count one
    feature hashing both neighbourhoods with (r, d), and one "half" feature of the second
    neighbourhood alone. Counts are L2-normalized per (r, d) block, then as a whole.
    """
    n = mol.GetNumAtoms()
    neighbours: list[list[int]] = [[] for _ in range(n)]
    labels = [_label_code(atom.GetSymbol()) for atom in mol.GetAtoms()]
    for bond in mol.GetBonds():
        vertex = len(labels)
        u, v = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
        labels.append(_label_code(int(bond.GetBondTypeAsDouble())))
        neighbours.append([u, v])
        neighbours[u].append(vertex)
        neighbours[v].append(vertex)
    vertex_codes = [_code(label, len(adjacent)) for label, adjacent in zip(labels, neighbours)]
    depth = 2 * max(radius, distance)
    hashes, atoms_at = [], []
    for root in range(n):
        levels, seen = [[root]], {root}
        while len(levels) <= depth:
            frontier = [w for v in levels[-1] for w in neighbours[v] if w not in seen]
            frontier = list(dict.fromkeys(frontier))
            if not frontier:
                break
            seen.update(frontier)
            levels.append(frontier)
        prefix, running = [], 0
        for level, members in enumerate(levels):
            running = _code(running, level, *sorted(vertex_codes[v] for v in members))
            prefix.append(running)
        hashes.append(prefix)
        atoms_at.append({d: levels[2 * d] for d in range(distance + 1) if 2 * d < len(levels)})
    blocks: dict[tuple[int, int], Counter] = defaultdict(Counter)
    for v in range(n):
        for d, partners in atoms_at[v].items():
            for u in partners:
                for r in range(min(radius, (len(hashes[v]) - 1) // 2, (len(hashes[u]) - 1) // 2) + 1):
                    hv, hu = hashes[v][2 * r], hashes[u][2 * r]
                    blocks[r, d][_code(min(hv, hu), max(hv, hu), r, d) & mask] += 1
                    blocks[r, d][_code(hu, r, d) & mask] += 1
    vector: dict[int, float] = defaultdict(float)
    for counts in blocks.values():
        norm = np.sqrt(sum(c * c for c in counts.values()))
        for feature, count in counts.items():
            vector[feature] += count / norm
    total = np.sqrt(sum(x * x for x in vector.values()))
    return {feature: x / total for feature, x in vector.items()}


def nspdk_features(
    molecules: Sequence[MoleculeLike], radius: int = 4, distance: int = 4, nbits: int = 16
) -> scipy.sparse.csr_matrix:
    r"""NSPDK feature vectors ``[n, 2^nbits]`` (unit L2 norm) of valid molecules.

    Node label: atom symbol; edge label: ``int(bond order)`` of the sanitized molecule (an
    aromatic bond counts as 1, as in GDSS's evaluation). The linear kernel of two rows is the
    NSPDK kernel of complexity ``radius = distance = 4`` (EDeN's default in GDSS).

    >>> x = nspdk_features(["CCO", "OCC", "CCN"])
    >>> x.shape, round(float(x[0].multiply(x[1]).sum()), 6), float(x[0].multiply(x[2]).sum()) < 1
    ((3, 65536), 1.0, True)
    """
    mols = [_mol(m) for m in molecules]
    invalid = [i for i, m in enumerate(mols) if m is None]
    if invalid:
        raise ValueError(f"NSPDK needs valid molecules; entry {invalid[0]} is not one")
    mask = (1 << nbits) - 1
    rows, cols, values = [], [], []
    for i, mol in enumerate(mols):
        assert mol is not None  # invalid molecules were refused above
        if mol.GetNumAtoms() == 0:
            continue  # an empty molecule has the zero vector
        for feature, value in _nspdk_vector(mol, radius, distance, mask).items():
            rows.append(i)
            cols.append(feature)
            values.append(value)
    return scipy.sparse.csr_matrix((values, (rows, cols)), shape=(len(mols), mask + 1))


def nspdk_mmd(generated: Sequence[MoleculeLike], reference: Sequence[MoleculeLike], **kernel: int) -> float:
    r"""Biased :math:`\mathrm{MMD}^2` with the linear NSPDK kernel (GDSS's ``compute_nspdk_mmd``).

    With a linear kernel the mean of the kernel matrices is an inner product of mean feature
    vectors: :math:`\mathrm{MMD}^2 = \lVert \bar\phi(X) - \bar\phi(Y) \rVert^2`, computed
    without the :math:`n \times m` kernel matrix.

    >>> nspdk_mmd(["CCO", "CCN"], ["OCC", "NCC"]), round(nspdk_mmd(["C"], ["N"]), 6)
    (0.0, 2.0)
    """
    if len(generated) == 0 or len(reference) == 0:
        raise ValueError("NSPDK MMD needs at least one molecule in each set")
    mean_generated = np.asarray(nspdk_features(generated, **kernel).mean(axis=0)).ravel()
    mean_reference = np.asarray(nspdk_features(reference, **kernel).mean(axis=0)).ravel()
    return float(np.sum((mean_generated - mean_reference) ** 2))


def frechet_distance(mean1: np.ndarray, cov1: np.ndarray, mean2: np.ndarray, cov2: np.ndarray) -> float:
    r"""Fréchet distance of two Gaussians (Heusel et al., 2017; Preuer et al., 2018):
    :math:`\lVert\mu_1-\mu_2\rVert^2 + \operatorname{tr}(\Sigma_1 + \Sigma_2 - 2(\Sigma_1\Sigma_2)^{1/2})`.

    :math:`\operatorname{tr}(\Sigma_1\Sigma_2)^{1/2}` is the sum of square roots of the
    eigenvalues of the symmetric :math:`F^\top\Sigma_2F` for any factor :math:`\Sigma_1 = FF^\top`:
    a Cholesky factor, or :math:`V\Lambda^{1/2}` from the eigendecomposition of a singular
    :math:`\Sigma_1` (fewer samples than dimensions). No complex round-off as with a general
    matrix square root.

    >>> round(frechet_distance(np.zeros(2), np.diag([1., 4.]), np.ones(2), np.diag([4., 1.])), 6)
    4.0
    """
    try:
        factor = np.linalg.cholesky(cov1)
    except np.linalg.LinAlgError:
        values, vectors = np.linalg.eigh(cov1)
        factor = vectors * np.sqrt(np.clip(values, 0, None))
    cross = np.sqrt(np.clip(np.linalg.eigvalsh(factor.T @ cov2 @ factor), 0, None)).sum()
    return float(np.sum((mean1 - mean2) ** 2) + np.trace(cov1) + np.trace(cov2) - 2 * cross)


def chemnet_activations(molecules: Sequence[MoleculeLike], device: str | None = None) -> np.ndarray:
    """ChemNet penultimate activations ``[n, 512]`` of the valid molecules (canonical SMILES).

    Needs the optional ``fcd`` package (``pip install 'edgraph[molecules]'``); its ChemNet
    weights ship inside the package, so no network is used. ``device`` defaults to CUDA when
    available.
    """
    try:
        import fcd as fcd_package
    except ImportError as err:
        raise ImportError("FCD needs the optional 'fcd' package: pip install 'edgraph[molecules]'") from err
    smiles = _valid_canonical(molecules)
    # A DataLoader worker overlaps tokenizing with the network on large sets, but costs a
    # process start (seconds) that dominates small ones.
    workers = 1 if len(smiles) >= 1000 else 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fcd uses numpy's deprecated row_stack
        activations = fcd_package.get_predictions(fcd_package.load_ref_model(), smiles, device=device, n_jobs=workers)
    return activations.astype(np.float64)


def frechet_chemnet_distance(
    generated: Sequence[MoleculeLike], reference: Sequence[MoleculeLike], device: str | None = None
) -> float:
    """Fréchet ChemNet distance (FCD) between two sets of molecules (their valid entries).

    Each set needs at least two valid molecules (the distance compares covariances).
    """
    if min(len(_valid_canonical(generated)), len(_valid_canonical(reference))) < 2:
        raise ValueError("FCD needs at least two valid molecules in each set")
    first, second = chemnet_activations(generated, device), chemnet_activations(reference, device)
    return frechet_distance(first.mean(0), np.cov(first.T), second.mean(0), np.cov(second.T))


def molecule_metrics(
    generated: Sequence[MoleculeLike],
    train_smiles: Sequence[str] | frozenset[str],
    test_smiles: Sequence[str],
    corrected: Sequence[MoleculeLike] | None = None,
    nspdk: bool = True,
    fcd: bool = True,
    device: str | None = None,
) -> dict[str, float]:
    """All molecule metrics of one generated set, as GDSS reports them.

    ``generated``: one entry per generated graph, converted without correction (RDKit ``Mol``,
    SMILES, or ``None`` where the graph did not sanitize); a bare string is refused.
    ``train_smiles``: a list, or a :func:`canonical_set` computed once. ``corrected``: optional, the same
    graphs converted with correction. Uniqueness, novelty (against ``train_smiles``), NSPDK MMD
    and FCD (against ``test_smiles``) are computed on the valid corrected molecules if given,
    else on the valid uncorrected ones. Returns ``num_generated``, ``validity``,
    ``validity_corrected`` (with ``corrected``), ``num_evaluated``, ``uniqueness``, ``novelty``,
    ``nspdk_mmd`` and ``fcd`` (the last two unless switched off).

    >>> molecule_metrics(["CCO", None], ["CC"], ["CCO", "CCN"], corrected=["CCO", "CO"], fcd=False)["nspdk_mmd"] > 0
    True
    """
    for name, value in (("generated", generated), ("corrected", corrected), ("test_smiles", test_smiles)):
        if isinstance(value, str):
            raise ValueError(f"{name} must be a list of molecules, got the single string {value[:40]!r}")
    scores: dict[str, float] = {"num_generated": len(generated), "validity": validity(generated)}
    evaluated = generated
    if corrected is not None:
        if len(corrected) != len(generated):
            raise ValueError(
                f"corrected has {len(corrected)} entries, generated {len(generated)}; "
                "give one corrected entry per generated graph"
            )
        scores["validity_corrected"] = validity(corrected)
        evaluated = corrected
    evaluated_smiles = _valid_canonical(evaluated)
    scores["num_evaluated"] = len(evaluated_smiles)
    if not evaluated_smiles:
        return scores
    distinct = set(evaluated_smiles)
    scores["uniqueness"] = len(distinct) / len(evaluated_smiles)
    scores["novelty"] = _new_share(distinct, train_smiles)
    if nspdk:
        scores["nspdk_mmd"] = nspdk_mmd(evaluated_smiles, _valid_canonical(test_smiles))
    if fcd:
        scores["fcd"] = frechet_chemnet_distance(evaluated_smiles, test_smiles, device=device)
    return scores
