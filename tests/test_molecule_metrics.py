"""Molecule metrics on hand-made cases with known answers."""

import math
import sys

import numpy as np
import pytest
import scipy.linalg
import torch
from rdkit import Chem

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
from edgraph.chem import dense_to_mols, mols_to_dense

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


def test_nspdk_hand_computed_kernels():
    x = nspdk_features(["CC", "CO", "C", "N"])
    kernel = (x @ x.T).toarray()
    assert np.allclose(np.diag(kernel), 1.0)  # unit-normalized feature vectors
    # ethane vs methanol: only the radius-0 blocks share features; by hand (see the module's
    # definition) the (r=0, d=0) block contributes 1/sqrt(2), the (r=0, d=1) block 1/sqrt(12),
    # and each molecule has four unit blocks (global norm 2).
    assert kernel[0, 1] == pytest.approx((1 / math.sqrt(2) + 1 / math.sqrt(12)) / 4, abs=1e-12)
    assert kernel[0, 2] == 0.0  # a carbon with no bond differs from one with a bond (degree)
    assert kernel[2, 3] == 0.0
    assert nspdk_mmd(["C"], ["N"]) == pytest.approx(2.0)


def test_nspdk_is_permutation_invariant_and_zero_on_the_same_set(qm9_sample):
    mols = [Chem.MolFromSmiles(s) for s in qm9_sample[:50]]
    generator = torch.Generator().manual_seed(0)
    shuffled = [Chem.RenumberAtoms(m, torch.randperm(m.GetNumAtoms(), generator=generator).tolist())
                for m in mols]
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
    bonds[2, pair] = torch.tensor([0., 1., 0., 0.])  # ... bonded to the already full centre
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
