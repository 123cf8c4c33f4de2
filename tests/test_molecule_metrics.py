"""Molecule metrics on hand-made cases with known answers."""

import functools
import math
import sys

import networkx as nx
import numpy as np
import pytest
import scipy.linalg
import torch
from rdkit import Chem

from edgraph.chem import dense_to_mols, mols_to_dense
from edgraph.datasets.download import data_root
from edgraph.metrics.molecular import (
    chemnet_activations,
    frechet_chemnet_distance,
    frechet_distance,
    molecule_metrics,
    novelty,
    nspdk_features,
    nspdk_mmd,
    uniqueness,
    validity,
)

PENTAVALENT_CARBON = "C(C)(C)(C)(C)C"


@pytest.fixture(scope="module")
def qm9_sample() -> list[str]:
    lines = (data_root() / "qm9_smiles.csv").read_text().splitlines()[1:]
    return lines[1::331][:400]


def test_validity_counts_invalid_smiles_and_none():
    assert Chem.MolFromSmiles(PENTAVALENT_CARBON) is None
    assert validity(["CCO", PENTAVALENT_CARBON, None, Chem.MolFromSmiles("N")]) == 0.5
    with pytest.raises(ValueError, match="empty"):
        validity([])


def test_uniqueness_sees_duplicates_through_different_smiles():
    assert uniqueness(["CCO", "OCC", "C(O)C", "CCN"]) == 0.5
    assert uniqueness(["c1ccccc1", "C1=CC=CC=C1", None, PENTAVALENT_CARBON]) == 1 / 2


def test_novelty_counts_distinct_molecules_absent_from_training():
    assert novelty(["CCO", "OCC", "CCN", "CCC"], ["C(C)O", "CCCC"]) == 2 / 3
    assert novelty(["CCO"], ["OCC"]) == 0.0


# ----- NSPDK against an independent enumeration of its features ------------------------------
#
# The NSPDK feature map (Costa & De Grave 2010, as EDeN's discrete vectorizer computes it and GDSS
# evaluates it with complexity 4), spelled out with explicit features instead of hashes:
# bonds become vertices labelled int(bond order) (aromatic: 1), so atom distances double; the
# neighbourhood of radius r of an atom is the sequence, over distances 0..2r in the expanded graph,
# of the multisets of (label, degree) of the vertices at that distance (it exists when some vertex
# lies at distance >= 2r); every ordered pair of atoms (v, u) at atom distance d <= 4 and every
# r <= 4 at which both neighbourhoods exist count the feature {N_r(v), N_r(u)} and the "half"
# feature N_r(u) in block (r, d); each block is L2-normalised, then the whole vector.


@functools.cache
def _exact_nspdk(smiles: str, radius: int = 4, distance: int = 4) -> dict:
    mol = Chem.MolFromSmiles(smiles)
    graph = nx.Graph()
    for atom in mol.GetAtoms():
        graph.add_node(("atom", atom.GetIdx()), label=atom.GetSymbol())
    for bond in mol.GetBonds():
        vertex = ("bond", bond.GetIdx())
        graph.add_node(vertex, label=int(bond.GetBondTypeAsDouble()))
        graph.add_edges_from([(("atom", bond.GetBeginAtomIdx()), vertex), (vertex, ("atom", bond.GetEndAtomIdx()))])
    lengths = dict(nx.all_pairs_shortest_path_length(graph))
    atoms = [v for v in graph if v[0] == "atom"]

    def neighbourhood(root, r):
        if max(lengths[root].values()) < 2 * r:
            return None
        return tuple(
            tuple(
                sorted(
                    (
                        (graph.nodes[w]["label"], graph.degree(w))
                        for w, length in lengths[root].items()
                        if length == level
                    ),
                    key=repr,
                )
            )
            for level in range(2 * r + 1)
        )

    neighbourhoods = {(v, r): neighbourhood(v, r) for v in atoms for r in range(radius + 1)}
    blocks = {}
    for v in atoms:
        for u in atoms:
            if u not in lengths[v] or lengths[v][u] > 2 * distance:
                continue
            d = lengths[v][u] // 2
            for r in range(radius + 1):
                first, second = neighbourhoods[v, r], neighbourhoods[u, r]
                if first is None or second is None:
                    continue
                block = blocks.setdefault((r, d), {})
                for feature in (("pair", frozenset([first, second])), ("half", second)):
                    block[feature] = block.get(feature, 0) + 1
    vector = {}
    for key, block in blocks.items():
        norm = math.sqrt(sum(c * c for c in block.values()))
        vector.update({(key, feature): count / norm for feature, count in block.items()})
    total = math.sqrt(sum(x * x for x in vector.values()))
    return {feature: x / total for feature, x in vector.items()}


def _exact_kernel(a: str, b: str) -> float:
    phi_a, phi_b = _exact_nspdk(a), _exact_nspdk(b)
    return sum(value * phi_b[feature] for feature, value in phi_a.items() if feature in phi_b)


def _exact_mmd(first: list[str], second: list[str]) -> float:
    """Biased MMD^2 with explicit double loops over the exact kernel."""

    def mean_kernel(xs, ys):
        return sum(_exact_kernel(x, y) for x in xs for y in ys) / (len(xs) * len(ys))

    return mean_kernel(first, first) + mean_kernel(second, second) - 2 * mean_kernel(first, second)


SMALL_MOLECULES = [
    "C",
    "N",
    "CC",
    "CO",
    "OCC",
    "C=O",
    "C#N",
    "CC(C)C",
    "C1CC1",
    "c1ccccc1",
    "c1ccncc1",
    "CC(=O)O",
    "OCCCCCCCCCO",
    "C[N+](C)(C)C",
    "CC(C)(C)CC(C)(C)C",
    "[Na+].[Cl-]",
]


def test_nspdk_kernel_equals_exact_feature_enumeration():
    # 30 bits: hash collisions between the few features of these molecules are out of the question
    x = nspdk_features(SMALL_MOLECULES, nbits=30)
    rows = [
        dict(zip(x.indices[x.indptr[i] : x.indptr[i + 1]].tolist(), x.data[x.indptr[i] : x.indptr[i + 1]].tolist()))
        for i in range(x.shape[0])
    ]  # (x @ x.T would build a 2^30-long index)
    library = np.array([[sum(value * b.get(column, 0.0) for column, value in a.items()) for b in rows] for a in rows])
    exact = np.array([[_exact_kernel(a, b) for b in SMALL_MOLECULES] for a in SMALL_MOLECULES])
    np.testing.assert_allclose(library, exact, rtol=0, atol=1e-12)
    assert 0.1 < exact[SMALL_MOLECULES.index("c1ccccc1"), SMALL_MOLECULES.index("c1ccncc1")] < 0.9
    assert (exact == 0).sum() > 50 and ((exact > 0) & (exact < 0.9)).sum() > 50


def test_nspdk_hand_computed_kernels():
    x = nspdk_features(["CC", "CO", "C", "N"])
    kernel = (x @ x.T).toarray()
    assert np.allclose(np.diag(kernel), 1.0)  # unit-normalized feature vectors
    # Ethane C-b-C: both carbons (C, deg 1), neighbourhoods exist for r = 0, 1. Each of the four
    # blocks (r, d) in {0, 1}^2 holds a pair feature (count 2) and a half feature (count 2): two
    # entries 1/sqrt(2); with four unit blocks the vector has norm 2. Methanol C-b-O: block (0, 0)
    # holds pair {C,C}, pair {O,O}, half C, half O (each 1/2); block (0, 1) pair {C,O} (count 2),
    # half C, half O: (2, 1, 1)/sqrt(6); r = 1 neighbourhoods see the other end, so they differ
    # from ethane's. Shared: (0, 0) pair {C,C} and half C: 2 * 1/sqrt(2) * 1/2 = 1/sqrt(2);
    # (0, 1) half C: 1/sqrt(2) * 1/sqrt(6) = 1/sqrt(12). Divided by both global norms, 2 * 2.
    expected = (1 / math.sqrt(2) + 1 / math.sqrt(12)) / 4
    assert kernel[0, 1] == pytest.approx(expected, abs=1e-12)
    assert _exact_kernel("CC", "CO") == pytest.approx(expected, abs=1e-12)
    assert kernel[0, 2] == 0.0  # a carbon with no bond differs from one with a bond (degree)
    assert kernel[2, 3] == 0.0


def test_nspdk_mmd_closed_forms():
    """MMD^2 = mean k(x, x') + mean k(y, y') - 2 mean k(x, y) with k(a, a) = 1: singletons give
    2 - 2 k(a, b) (2 when no feature is shared), a set against itself or its duplicates 0."""
    assert nspdk_mmd(["C"], ["N"]) == pytest.approx(2.0, abs=1e-15)
    assert nspdk_mmd(["C"], ["CC"]) == pytest.approx(2.0, abs=1e-15)
    assert nspdk_mmd(["CC"], ["CO"]) == pytest.approx(2 - 2 * (1 / math.sqrt(2) + 1 / math.sqrt(12)) / 4, abs=1e-12)
    for a, b in [("CCO", "CCC"), ("c1ccccc1", "c1ccncc1"), ("CC(=O)O", "OCCCCCCCCCO")]:
        assert nspdk_mmd([a], [b]) == pytest.approx(2 - 2 * _exact_kernel(a, b), abs=1e-12)
    assert nspdk_mmd(["CCO"], ["OCC", "C(O)C", "CCO"]) == pytest.approx(0.0, abs=1e-15)
    assert nspdk_mmd(["CCO", "CC"], ["CC", "OCC"]) == pytest.approx(0.0, abs=1e-15)
    # The default 16-bit hashing sends a few features of different molecules to one column (here
    # ethane and benzene share one, pyridine and tetramethylammonium another; EDeN's 16-bit hashing
    # collides elsewhere); these sets have no such collision, so the hashed value is the exact one.
    generated = ["C", "N", "CO", "OCC", "C=O", "C#N", "CC(C)C"]
    reference = ["C=O", "C#N", "CC(C)C", "C1CC1", "CC(=O)O", "OCCCCCCCCCO", "c1ccccc1"]
    assert nspdk_mmd(generated, reference) == pytest.approx(_exact_mmd(generated, reference), abs=1e-12)


def test_nspdk_is_permutation_invariant_and_zero_on_the_same_set(qm9_sample):
    mols = [Chem.MolFromSmiles(s) for s in qm9_sample[:50]]
    generator = torch.Generator().manual_seed(0)
    shuffled = [Chem.RenumberAtoms(m, torch.randperm(m.GetNumAtoms(), generator=generator).tolist()) for m in mols]
    x, y = nspdk_features(mols), nspdk_features(shuffled)
    assert (x != 0).nnz == (y != 0).nnz and (x != 0).multiply(y != 0).nnz == (x != 0).nnz
    assert abs(x - y).max() < 1e-12  # same features; values equal up to summation order
    assert nspdk_mmd(qm9_sample, list(reversed(qm9_sample))) == pytest.approx(0.0, abs=1e-15)


def test_nspdk_mmd_equals_the_biased_kernel_matrix_estimate(qm9_sample):
    generated, reference = qm9_sample[:150], qm9_sample[150:400]
    x, y = nspdk_features(generated), nspdk_features(reference)
    explicit = (x @ x.T).mean() + (y @ y.T).mean() - 2 * (x @ y.T).mean()
    mmd = nspdk_mmd(generated, reference)
    assert mmd == pytest.approx(explicit, rel=1e-9)
    assert 0 < mmd < nspdk_mmd(generated, ["CCCCCCCCC", "OCCCCCCCO"])


def test_nspdk_rejects_invalid_molecules():
    with pytest.raises(ValueError, match="entry 1"):
        nspdk_features(["CC", PENTAVALENT_CARBON])


def test_molecule_metrics_uses_corrected_molecules_for_distribution_metrics():
    # three graphs: ethanol, ethanol again, and carbon with five neighbours
    atoms, bonds, node_mask = mols_to_dense(["CCO", "OCC", "CC(C)(C)C"], max_atoms=6)
    atoms[2, 5, 0] = 1  # a sixth carbon ...
    node_mask[2, 5] = True
    row, col = torch.triu_indices(6, 6, offset=1)
    pair = ((row == 1) & (col == 5)).nonzero().item()
    bonds[2, pair] = torch.tensor([0.0, 1.0, 0.0, 0.0])  # ... bonded to the already full centre
    plain = dense_to_mols(atoms, bonds, node_mask)
    corrected = dense_to_mols(atoms, bonds, node_mask, correct=True)
    assert plain[2] is None and corrected[2] is not None
    scores = molecule_metrics(plain, ["CCO"], ["CCO", "CCC"], corrected=corrected, fcd=False)
    assert scores["num_generated"] == 3 and scores["num_evaluated"] == 3
    assert scores["validity"] == pytest.approx(2 / 3)
    assert scores["validity_corrected"] == 1.0
    assert scores["uniqueness"] == pytest.approx(2 / 3)
    assert scores["novelty"] == 0.5
    assert scores["nspdk_mmd"] > 0
    uncorrected = molecule_metrics(plain, ["CCO"], ["CCO", "CCC"], nspdk=False, fcd=False)
    assert uncorrected["num_evaluated"] == 2 and uncorrected["uniqueness"] == 0.5
    assert "validity_corrected" not in uncorrected and "nspdk_mmd" not in uncorrected
    with pytest.raises(ValueError, match="one corrected entry per generated graph"):
        molecule_metrics(plain, ["CCO"], ["CCO"], corrected=corrected[:2], fcd=False)


def test_frechet_distance_matches_closed_forms():
    # commuting (diagonal) covariances: d^2 = |mu1 - mu2|^2 + sum (sqrt(a) - sqrt(b))^2
    a, b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 4.0, 0.0])
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    expected = 5.0 + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expected, rel=1e-12)
    # general covariances: against the matrix square root of sigma1 @ sigma2
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(40, 6)), rng.normal(size=(50, 6)) @ rng.normal(size=(6, 6))
    c1, c2 = np.cov(x.T), np.cov(y.T)
    reference = np.sum((x.mean(0) - y.mean(0)) ** 2) + np.trace(c1 + c2 - 2 * scipy.linalg.sqrtm(c1 @ c2).real)
    assert frechet_distance(x.mean(0), c1, y.mean(0), c2) == pytest.approx(reference, rel=1e-9)
    assert frechet_distance(x.mean(0), c1, x.mean(0), c1) == pytest.approx(0.0, abs=1e-9)


def test_fcd_without_the_package_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "fcd", None)  # makes `import fcd` raise ImportError
    with pytest.raises(ImportError, match=r"pip install 'edgraph\[molecules\]'"):
        frechet_chemnet_distance(["CCO", "CCN"], ["CCO", "CCN"])
    with pytest.raises(ImportError, match="fcd"):
        molecule_metrics(["CCO", "CCN"], ["CC"], ["CCO", "CCN"], nspdk=False)


@pytest.mark.slow  # ChemNet inference: 0.3-18 s here, depending on load
def test_fcd_of_a_set_to_itself_is_zero_and_grows_with_distance(qm9_sample, single_thread):
    pytest.importorskip("fcd", reason="FCD needs the optional extra: pip install 'edgraph[molecules]'")
    sample = qm9_sample[:20]
    assert frechet_chemnet_distance(sample, list(reversed(sample)), device="cpu") == pytest.approx(0.0, abs=1e-4)
    qm9 = chemnet_activations(qm9_sample[:40], device="cpu")
    chains = chemnet_activations(["C" * k + "O" for k in range(10, 30)], device="cpu")
    assert qm9.shape == (40, 512) and chains.shape == (20, 512)

    def distance(first, second):
        return frechet_distance(first.mean(0), np.cov(first.T), second.mean(0), np.cov(second.T))

    assert 0 < distance(qm9[:20], qm9[20:]) < distance(qm9[:20], chains)
