"""Toy data: 2-D densities, Gray-code quantisation and Ising lattice samples (exact checks)."""

import itertools
import math

import pytest
import torch

from edgraph.datasets.toys import (
    TOY_DENSITIES,
    gray_decode,
    gray_encode,
    ising_lattice_samples,
    toy_density_samples,
)


@pytest.mark.parametrize("name", sorted(TOY_DENSITIES))
def test_toy_density_is_seeded_and_bounded(name):
    x = toy_density_samples(name, 2000, seed=3)
    assert x.shape == (2000, 2) and x.dtype == torch.float32
    assert torch.equal(x, toy_density_samples(name, 2000, seed=3))
    assert not torch.equal(x, toy_density_samples(name, 2000, seed=4))
    assert torch.isfinite(x).all()
    # support inside the Gray-code box [-4, 4]^2 up to a few Gaussian-tail points
    assert (x.abs() > 4).any(1).float().mean() < 0.005
    assert x.std(0).min() > 0.5  # spread over the box, not collapsed


def test_checkerboard_lies_on_dark_squares():
    x = toy_density_samples("checkerboard", 5000, seed=0)
    cells = torch.floor(x / 2).long()
    assert bool(((cells[:, 0] + cells[:, 1]) % 2 == 0).all())
    assert bool((x.abs() <= 4).all())


def test_eight_gaussians_modes():
    x = toy_density_samples("8gaussians", 8000, seed=0)
    angles = torch.arange(8) * math.pi / 4
    centres = 4 / math.sqrt(2) * torch.stack([torch.cos(angles), torch.sin(angles)], 1)
    nearest = torch.cdist(x, centres).argmin(1)
    counts = torch.bincount(nearest, minlength=8).float()
    # equal weights: each mode has 1000 +- 3 sd (sd = sqrt(8000 * 1/8 * 7/8) ~ 30)
    assert bool(((counts - 1000).abs() < 90).all())
    # per-coordinate noise sd 0.5 / sqrt(2)
    residual = x - centres[nearest]
    assert abs(residual.std().item() - 0.5 / math.sqrt(2)) < 0.02


def test_rings_radii():
    x = toy_density_samples("rings", 4000, seed=0)
    radius = x.norm(dim=1)
    ring_radii = 3 * torch.tensor([0.25, 0.55, 0.8, 1.0])
    assert (radius[:, None] - ring_radii).abs().min(1).values.median() < 0.1


def test_unknown_density_and_bad_size():
    with pytest.raises(ValueError, match="unknown toy density"):
        toy_density_samples("spiral", 10)
    with pytest.raises(ValueError, match="num_samples"):
        toy_density_samples("moons", 0)


def test_gray_code_round_trip_within_cell():
    x = toy_density_samples("2spirals", 3000, seed=1).clamp(-3.99, 3.99)
    codes = gray_encode(x)
    assert codes.shape == (3000, 32)
    assert set(codes.unique().tolist()) <= {0.0, 1.0}
    cell = 8 / 2**16
    assert (gray_decode(codes) - x).abs().max() <= cell / 2 + 1e-6
    # decoding then encoding is the identity on codes (the map is a bijection on cells)
    random_codes = torch.randint(0, 2, (500, 32), generator=torch.Generator().manual_seed(0)).float()
    assert torch.equal(gray_encode(gray_decode(random_codes)), random_codes)


def test_gray_code_neighbouring_cells_differ_in_one_bit():
    bits = 6
    q = torch.arange(2**bits - 1, dtype=torch.float64)
    centres = (q + 0.5) * 8 / 2**bits - 4
    left = gray_encode(torch.stack([centres, centres], 1).float(), bits=bits)
    right = gray_encode(torch.stack([centres + 8 / 2**bits, centres], 1).float(), bits=bits)
    assert bool(((left != right).sum(1) == 1).all())
    # exact known value: q = 2 -> Gray 3 -> ...000011 (MSB first)
    x = torch.tensor([[2.5 * 8 / 2**bits - 4, -4.0]])
    assert gray_encode(x, bits=bits)[0].tolist() == [0, 0, 0, 0, 1, 1] + [0] * 6


def test_gray_code_bad_shapes():
    with pytest.raises(ValueError, match=r"\[B, 2\]"):
        gray_encode(torch.zeros(3, 3))
    with pytest.raises(ValueError, match=r"\[B, 32\]"):
        gray_decode(torch.zeros(3, 31))


def _lattice_couplings(dim: int, sigma: float) -> torch.Tensor:
    coupling = torch.zeros(dim * dim, dim * dim)
    for i, j in itertools.product(range(dim), repeat=2):
        for di, dj in ((1, 0), (0, 1)):
            a, b = i * dim + j, ((i + di) % dim) * dim + (j + dj) % dim
            coupling[a, b] = coupling[b, a] = sigma
    return coupling


@pytest.mark.parametrize("dim,sigma", [(3, 0.3), (4, 0.25)])
def test_ising_samples_match_exact_distribution(dim, sigma, tmp_path):
    """Colour-blocked Gibbs (odd dim: 4 colours; even: checkerboard) against enumeration."""
    n = 20000
    x = ising_lattice_samples(dim, sigma, num_samples=n, seed=1, sweeps=40, root=tmp_path)
    assert x.shape == (n, dim * dim) and set(x.unique().tolist()) <= {0.0, 1.0}
    spins = 2 * x - 1
    coupling = _lattice_couplings(dim, sigma)
    # exact neighbour correlation E[s_a s_b] by enumeration (dim 3: 512 states; dim 4: 65536)
    states = torch.tensor(list(itertools.product([-1.0, 1.0], repeat=dim * dim)))
    log_p = torch.einsum("si,ij,sj->s", states, coupling, states)
    p = torch.softmax(log_p, 0)
    exact = torch.einsum("s,si,sj->ij", p, states, states)
    empirical = spins.T @ spins / n
    neighbours = coupling > 0
    # standard error of a mean of +-1 products is <= 1/sqrt(n); 5 sd over all pairs
    assert (empirical - exact)[neighbours].abs().max() < 5 / math.sqrt(n)
    assert exact[neighbours].mean() > 0.3  # the check has power: correlations are strong
    if dim == 3:
        index = ((x * 2 ** torch.arange(8, -1, -1)).sum(1)).long()
        freq = torch.bincount(index, minlength=512).float() / n
        exact_p = torch.softmax(
            torch.einsum("si,ij,sj->s", states, coupling, states), 0
        )  # states enumerated MSB first, matching index
        tv = 0.5 * (freq - exact_p).abs().sum()
        exact_draw = torch.multinomial(exact_p, n, replacement=True, generator=torch.Generator().manual_seed(0))
        floor = 0.5 * (torch.bincount(exact_draw, minlength=512).float() / n - exact_p).abs().sum()
        assert tv < floor + 0.02


def test_ising_samples_are_cached(tmp_path):
    first = ising_lattice_samples(3, 0.2, num_samples=50, seed=5, sweeps=7, root=tmp_path)
    files = list(tmp_path.glob("*.npz"))
    assert [f.name for f in files] == ["ising_d3_s0.2_n50_seed5_sw7.npz"]
    assert torch.equal(first, ising_lattice_samples(3, 0.2, num_samples=50, seed=5, sweeps=7, root=tmp_path))
    other = ising_lattice_samples(3, 0.2, num_samples=50, seed=6, sweeps=7, root=tmp_path)
    assert not torch.equal(first, other) and len(list(tmp_path.glob("*.npz"))) == 2


def test_ising_default_cache_dir_and_bad_input(tmp_path, monkeypatch):
    monkeypatch.setenv("EDGRAPH_CACHE", str(tmp_path))
    ising_lattice_samples(3, 0.1, num_samples=2, sweeps=2)
    assert (tmp_path / "ising" / "ising_d3_s0.1_n2_seed0_sw2.npz").exists()
    with pytest.raises(ValueError, match="dim must be >= 3"):
        ising_lattice_samples(2, 0.1, root=tmp_path)
    with pytest.raises(ValueError, match="sweeps"):
        ising_lattice_samples(3, 0.1, sweeps=0, root=tmp_path)
