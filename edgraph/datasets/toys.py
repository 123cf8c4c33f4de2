"""Toy data: 2-D densities, their 32-bit Gray-code quantisation, and Ising lattice samples.

The 2-D densities are the standard toy set of the continuous-EBM / normalising-flow literature
(Grathwohl et al., "FFJORD", ICLR 2019; Dai et al., "Learning discrete energy-based models via
auxiliary-variable local exploration", NeurIPS 2020), written here from their published
descriptions. The Gray-code quantisation (16 bits per coordinate) is the discrete version used by
Dai et al. (2020), Grathwohl et al. (2021) and Zhang et al. (2022) for discrete density
estimation. The Ising lattice data follows Grathwohl et al. (2021, "Oops I took a gradient"):
a periodic ``dim x dim`` lattice with couplings ``J = sigma * A`` sampled by long Gibbs chains.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from edgraph.datasets.download import cache_dir, read_cache, write_cache

__all__ = [
    "TOY_DENSITIES",
    "toy_density_samples",
    "gray_encode",
    "gray_decode",
    "ising_lattice_samples",
]

GRAY_BITS_PER_COORDINATE = 16
GRAY_RANGE = 4.0  # coordinates are quantised on [-GRAY_RANGE, GRAY_RANGE)


# --------------------------------------------------------------------------------------------
# 2-D densities
# --------------------------------------------------------------------------------------------


def _uniform(n: int, g: torch.Generator) -> Tensor:
    return torch.rand(n, generator=g, dtype=torch.float64)


def _normal(shape: tuple[int, ...], g: torch.Generator) -> Tensor:
    return torch.randn(shape, generator=g, dtype=torch.float64)


def _eight_gaussians(n: int, g: torch.Generator) -> Tensor:
    angles = torch.arange(8, dtype=torch.float64) * (math.pi / 4)
    centers = 4.0 * torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)
    which = torch.randint(0, 8, (n,), generator=g)
    return (centers[which] + 0.5 * _normal((n, 2), g)) / math.sqrt(2.0)


def _two_spirals(n: int, g: torch.Generator) -> Tensor:
    t = torch.sqrt(_uniform(n, g)) * (3 * math.pi)  # up to 540 degrees
    arm = torch.stack([-torch.cos(t) * t, torch.sin(t) * t], dim=1)
    arm = arm + 0.5 * torch.rand(arm.shape, generator=g, dtype=torch.float64)
    sign = torch.where(torch.arange(n) < n // 2, -1.0, 1.0).double()[:, None]
    return sign * arm / 3.0 + 0.1 * _normal((n, 2), g)


def _checkerboard(n: int, g: torch.Generator) -> Tensor:
    x1 = 4.0 * _uniform(n, g) - 2.0
    x2 = _uniform(n, g) - 2.0 * torch.randint(0, 2, (n,), generator=g).double()
    x2 = x2 + torch.floor(x1) % 2
    return 2.0 * torch.stack([x1, x2], dim=1)


def _pinwheel(n: int, g: torch.Generator) -> Tensor:
    num_arms, radial_std, tangential_std, rate = 5, 0.3, 0.1, 0.25
    arm = torch.randint(0, num_arms, (n,), generator=g)
    features = _normal((n, 2), g) * torch.tensor([radial_std, tangential_std], dtype=torch.float64)
    features[:, 0] += 1.0
    angle = arm.double() * (2 * math.pi / num_arms) + rate * torch.exp(features[:, 0])
    cos, sin = torch.cos(angle), torch.sin(angle)
    rotated = torch.stack(
        [cos * features[:, 0] - sin * features[:, 1], sin * features[:, 0] + cos * features[:, 1]],
        dim=1,
    )
    return 2.0 * rotated


def _rings(n: int, g: torch.Generator) -> Tensor:
    radii = torch.tensor([0.25, 0.55, 0.8, 1.0], dtype=torch.float64)
    ring = torch.randint(0, 4, (n,), generator=g)
    angle = 2 * math.pi * _uniform(n, g)
    points = radii[ring, None] * torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)
    return 3.0 * points + 0.08 * _normal((n, 2), g)


def _moons(n: int, g: torch.Generator) -> Tensor:
    upper = torch.rand(n, generator=g) < 0.5
    angle = math.pi * _uniform(n, g)
    outer = torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)
    inner = torch.stack([1.0 - torch.cos(angle), 0.5 - torch.sin(angle)], dim=1)
    points = torch.where(upper[:, None], outer, inner) + 0.1 * _normal((n, 2), g)
    return 2.0 * points + torch.tensor([-1.0, -0.2], dtype=torch.float64)


def _swissroll(n: int, g: torch.Generator) -> Tensor:
    t = 1.5 * math.pi * (1.0 + 2.0 * _uniform(n, g))
    points = torch.stack([t * torch.cos(t), t * torch.sin(t)], dim=1)
    return (points + _normal((n, 2), g)) / 5.0


def _circles(n: int, g: torch.Generator) -> Tensor:
    inner = torch.rand(n, generator=g) < 0.5
    angle = 2 * math.pi * _uniform(n, g)
    radius = torch.where(inner, 0.5, 1.0).double()
    points = radius[:, None] * torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)
    return 3.0 * (points + 0.08 * _normal((n, 2), g))


#: The 2-D toy densities by name; each maps ``(n, generator)`` to ``n`` points ``[n, 2]``.
#:
#: :meta hide-value:
TOY_DENSITIES: dict[str, Callable[[int, torch.Generator], Tensor]] = {
    "8gaussians": _eight_gaussians,
    "2spirals": _two_spirals,
    "checkerboard": _checkerboard,
    "pinwheel": _pinwheel,
    "rings": _rings,
    "moons": _moons,
    "swissroll": _swissroll,
    "circles": _circles,
}


def toy_density_samples(
    name: str,
    num_samples: int,
    seed: int | None = None,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Draw ``num_samples`` points ``[num_samples, 2]`` (float32) from a named 2-D toy density.

    Densities (FFJORD toy set): ``8gaussians`` (eight N(c_k, 0.5^2 I) on a circle of radius 4,
    scaled by 1/sqrt 2), ``2spirals``, ``checkerboard`` (uniform on the dark squares of a 4x4
    board on [-4, 4]^2), ``pinwheel`` (5 arms), ``rings`` (4 concentric rings), ``moons``,
    ``swissroll`` and ``circles``. All have support essentially inside [-4, 4]^2.

    Randomness comes from ``generator`` if given, else from a generator seeded with ``seed``
    (default 0): the same seed gives the same points.

    >>> x = toy_density_samples("8gaussians", 5, seed=0)
    >>> tuple(x.shape)
    (5, 2)
    """
    if name not in TOY_DENSITIES:
        raise ValueError(f"unknown toy density {name!r}; choose one of {sorted(TOY_DENSITIES)}")
    if num_samples < 1:
        raise ValueError(f"num_samples must be positive, got {num_samples}")
    if generator is None:
        generator = torch.Generator().manual_seed(0 if seed is None else seed)
    return TOY_DENSITIES[name](num_samples, generator).float()


# --------------------------------------------------------------------------------------------
# Gray-code quantisation
# --------------------------------------------------------------------------------------------


def gray_encode(points: Tensor, bits: int = GRAY_BITS_PER_COORDINATE, bound: float = GRAY_RANGE) -> Tensor:
    """Quantise 2-D points to binary Gray codes ``[B, 2 * bits]`` (float 0/1).

    Each coordinate is clipped to ``[-bound, bound)`` and mapped to the integer
    ``q = floor((x + bound) / (2 bound) * 2^bits)``; its reflected Gray code ``q XOR (q >> 1)``
    is written most significant bit first, so one bit flip moves to a neighbouring cell in the
    high-resolution bits (Dai et al., 2020). With the defaults a cell is 8 / 2^16 ~ 1.2e-4 wide.

    >>> codes = gray_encode(torch.tensor([[0.0, -4.0]]))
    >>> codes.shape, codes[0, 16:].sum().item()
    (torch.Size([1, 32]), 0.0)
    """
    if points.dim() != 2 or points.shape[1] != 2:
        raise ValueError(f"points must have shape [B, 2], got {tuple(points.shape)}")
    if not 1 <= bits <= 30:
        raise ValueError(f"bits must be in [1, 30], got {bits}")
    levels = 2**bits
    scaled = (points.double() + bound) / (2 * bound) * levels
    q = torch.clamp(torch.floor(scaled), 0, levels - 1).long()
    gray = q ^ (q >> 1)
    shifts = torch.arange(bits - 1, -1, -1)
    code_bits = (gray[..., None] >> shifts) & 1  # [B, 2, bits]
    return code_bits.reshape(points.shape[0], 2 * bits).float()


def gray_decode(codes: Tensor, bits: int = GRAY_BITS_PER_COORDINATE, bound: float = GRAY_RANGE) -> Tensor:
    """Inverse of :func:`gray_encode`: binary codes ``[B, 2 * bits]`` -> cell centres ``[B, 2]``.

    The Gray code g is turned back into the integer q by the prefix XOR
    ``q_k = g_0 XOR ... XOR g_k`` (most significant bit first), and q to the cell centre
    ``(q + 1/2) * 2 bound / 2^bits - bound``.

    >>> x = torch.tensor([[1.25, -0.5]])
    >>> torch.allclose(gray_decode(gray_encode(x)), x, atol=1e-4)
    True
    """
    if codes.dim() != 2 or codes.shape[1] != 2 * bits:
        raise ValueError(f"codes must have shape [B, {2 * bits}], got {tuple(codes.shape)}")
    gray_bits = codes.reshape(codes.shape[0], 2, bits).round().long()
    binary_bits = torch.cumsum(gray_bits, dim=-1) % 2
    weights = 2 ** torch.arange(bits - 1, -1, -1)
    q = (binary_bits * weights).sum(-1).double()
    return ((q + 0.5) * (2 * bound) / 2**bits - bound).float()


# --------------------------------------------------------------------------------------------
# Ising lattice data
# --------------------------------------------------------------------------------------------

MIN_SITE_UPDATES_PER_CHAIN = 1_000_000  # Grathwohl et al. (2021) ran Gibbs for 1e6 steps


def _lattice_neighbour_sum(spins: Tensor) -> Tensor:
    """Sum of the four periodic-lattice neighbours of every site of ``spins [B, dim, dim]``."""
    return (
        torch.roll(spins, 1, dims=1)
        + torch.roll(spins, -1, dims=1)
        + torch.roll(spins, 1, dims=2)
        + torch.roll(spins, -1, dims=2)
    )


def _lattice_colouring(dim: int) -> Tensor:
    """A proper colouring ``[dim, dim]`` of the periodic lattice (greedy, row-major).

    For even ``dim`` it is the checkerboard (2 colours); for odd ``dim`` the wrap-around edges
    join sites of equal parity and the greedy pass uses 3 or 4 colours. Sites of one colour have
    no neighbour in common colour, so they can be resampled together exactly.
    """
    colour = -torch.ones(dim, dim, dtype=torch.long)
    for i in range(dim):
        for j in range(dim):
            used = {
                int(colour[(i - 1) % dim, j]),
                int(colour[(i + 1) % dim, j]),
                int(colour[i, (j - 1) % dim]),
                int(colour[i, (j + 1) % dim]),
            }
            colour[i, j] = next(c for c in range(5) if c not in used)
    return colour


def lattice_gibbs_sweeps(spins: Tensor, sigma: float, sweeps: int, generator: torch.Generator) -> Tensor:
    """Run ``sweeps`` colour-blocked Gibbs sweeps on spins ``[B, dim, dim]`` in {-1, +1}.

    Model: ``log p(s) = s^T J s + const`` with ``J = sigma * A`` (A the periodic-lattice
    adjacency, both (i, j) and (j, i) set), so a site's conditional log-odds are
    ``log p(s_i = +1 | rest) / p(s_i = -1 | rest) = 4 sigma sum_{j ~ i} s_j``.
    Every sweep resamples each colour class of :func:`_lattice_colouring` in turn.
    """
    dim = spins.shape[-1]
    colouring = _lattice_colouring(dim)
    classes = [colouring == c for c in range(int(colouring.max()) + 1)]
    spins = spins.clone()
    for _ in range(sweeps):
        # s_i = +1 iff logistic noise < logit: one noise draw per site and sweep (classes are disjoint)
        uniform = torch.rand(spins.shape, generator=generator, dtype=spins.dtype)
        noise = torch.log(uniform) - torch.log1p(-uniform)
        for members in classes:
            logit = (4.0 * sigma) * _lattice_neighbour_sum(spins)
            spins = torch.where(members, torch.where(logit > noise, 1.0, -1.0), spins)
    return spins


def ising_lattice_samples(
    dim: int,
    sigma: float,
    num_samples: int = 2000,
    seed: int = 0,
    sweeps: int | None = None,
    root: str | os.PathLike | None = None,
) -> Tensor:
    """Samples ``x [num_samples, dim*dim]`` (float 0/1, ``s = 2x - 1``) of a periodic lattice Ising model.

    Ground truth (Grathwohl et al., 2021): ``log p(x) = s^T J s + const``, ``J = sigma * A``,
    A the adjacency of the periodic ``dim x dim`` lattice (site index ``i * dim + j``), no bias.
    Each of the ``num_samples`` independent chains starts uniformly at random and runs
    ``sweeps`` Gibbs sweeps (default: the fewest giving >= 1,000,000 single-site updates per
    chain, the published length); its final state is the sample.

    The result is cached as ``ising_d{dim}_s{sigma}_n{num_samples}_seed{seed}_sw{sweeps}.npz`` in
    ``root`` (default: the edgraph cache directory, ``$EDGRAPH_CACHE`` or ``~/.cache/edgraph``),
    written atomically; a cached file is read instead of sampling again.

    >>> import tempfile
    >>> x = ising_lattice_samples(3, 0.2, num_samples=4, sweeps=10, root=tempfile.mkdtemp())
    >>> tuple(x.shape)
    (4, 9)
    """
    if dim < 3:
        raise ValueError(f"dim must be >= 3 (a periodic lattice of side < 3 has repeated edges), got {dim}")
    if num_samples < 1:
        raise ValueError(f"num_samples must be positive, got {num_samples}")
    if sweeps is None:
        sweeps = math.ceil(MIN_SITE_UPDATES_PER_CHAIN / dim**2)
    if sweeps < 1:
        raise ValueError(f"sweeps must be positive, got {sweeps}")
    directory = Path(root) if root is not None else cache_dir() / "ising"
    path = directory / f"ising_d{dim}_s{float(sigma):g}_n{num_samples}_seed{seed}_sw{sweeps}.npz"
    cached = read_cache(path)
    if cached is not None:
        with np.load(io.BytesIO(cached), allow_pickle=False) as stored:
            return torch.from_numpy(stored["x"].astype(np.float32))
    generator = torch.Generator().manual_seed(seed)
    start = torch.randint(0, 2, (num_samples, dim, dim), generator=generator).float() * 2 - 1
    spins = lattice_gibbs_sweeps(start, float(sigma), sweeps, generator)
    x = ((spins + 1) / 2).reshape(num_samples, dim * dim)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, x=x.numpy().astype(np.uint8), dim=dim, sigma=sigma, seed=seed, sweeps=sweeps)
    write_cache(path, buffer.getvalue())
    return x
