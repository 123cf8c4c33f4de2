r"""Perturbations :math:`q(y \mid x)` for Energy Discrepancy.

Energy Discrepancy compares the energy of a data point with the energies of states reached by
perturbing it twice (see :func:`edgraph.objectives.energy_discrepancy`). Every perturbation here
is *symmetric*, :math:`q(y \mid x) = q(x \mid y)`, so the same ``sample`` draws both the noisy
point :math:`y \sim q(\cdot \mid x)` and the negatives :math:`x' \sim q(\cdot \mid y)`.

All perturbations work on any leading shape (``[B, D]`` batches or ``[B, M, D]`` stacks of
negatives; categorical states carry one more trailing axis ``K``) and take

- ``mask``: broadcastable to the state's *site shape* (``[B, D]`` or ``[B, 1, D]``; the
  trailing ``K`` of a categorical state is not part of it), bool or 0/1. True = the entry may
  change, False = it is frozen (e.g. node pairs of a graph that involve padding nodes).
- ``generator``: a :class:`torch.Generator` on the state's device; same seed, same result.

References:
    T. Schröder et al., "Energy Discrepancies: A Score-Independent Loss for Energy-Based
    Models", NeurIPS 2023 (arXiv:2307.06431) — Gaussian perturbation.
    T. Schröder, Z. Ou, Y. Li, A. B. Duncan, "Training Discrete Energy-Based Models with Energy
    Discrepancy", arXiv:2307.07595 (2023) — Bernoulli perturbation.
    M. E. J. Newman, S. H. Strogatz, D. J. Watts, "Random graphs with arbitrary degree
    distributions and their applications", Phys. Rev. E 64 (2001) — double-edge swaps.
    T. Schröder, Z. Ou, Y. Li, A. B. Duncan, "Energy-Based Modelling for Discrete and Mixed Data
    via Heat Equations on Structured Spaces", NeurIPS 2024 (arXiv:2412.01019) — uniform
    categorical perturbation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import torch
from torch import Tensor

from edgraph.graphs import adj_to_edges, edges_to_adj, nodes_from_pairs

__all__ = ["Perturbation", "BernoulliFlip", "ScaledBernoulliFlip", "EdgeSwap", "UniformCategorical", "Gaussian"]


class Perturbation(Protocol):
    """Anything that draws :math:`y \\sim q(\\cdot \\mid x)` for a symmetric kernel ``q``."""

    def sample(self, x: Tensor, mask: Tensor | None = None, generator: torch.Generator | None = None) -> Tensor:
        r"""Draw :math:`y \sim q(\cdot \mid x)`.

        Args:
            x: states ``[..., D]`` (one-hot categorical states ``[..., D, K]``).
            mask: broadcastable to the site shape ``[..., D]``; nonzero entries may change, zeros
                are frozen. ``None`` frees every entry.
            generator: the random stream, on ``x``'s device.

        Returns:
            ``y``, with the shape and dtype of ``x``.
        """
        ...


def _free_sites(mask: Tensor | None, site_shape: torch.Size) -> Tensor | None:
    """``mask != 0`` broadcast to ``site_shape``; a clear error if it cannot be."""
    if mask is None:
        return None
    try:
        broadcast = torch.broadcast_shapes(mask.shape, site_shape)
    except RuntimeError:
        broadcast = None
    if broadcast != site_shape:
        raise ValueError(
            f"mask of shape {tuple(mask.shape)} does not broadcast to the state's site shape "
            f"{tuple(site_shape)} (for a [B, M, D] stack pass a [B, 1, D] mask)"
        )
    return (mask != 0).expand(site_shape)


def _check_probability(name: str, value: float) -> None:
    if not (isinstance(value, (int, float)) and 0.0 < value < 1.0):
        raise ValueError(f"{name} must be a probability strictly between 0 and 1, got {value!r}")


@dataclass(frozen=True)
class BernoulliFlip:
    r"""Flip each free bit of a binary state independently with probability ``eps``.

    .. math::
        y = x \oplus \xi, \qquad \xi_d \sim \mathrm{Bernoulli}(\varepsilon),
        \qquad q(y \mid x) = \varepsilon^{|y - x|}(1 - \varepsilon)^{D - |y - x|}

    (Schröder, Ou, Li, Duncan, arXiv:2307.07595). States are float tensors of 0/1.

    Args:
        eps: flip probability, in (0, 1).

    Example:
        >>> flip = BernoulliFlip(0.5)
        >>> x = torch.zeros(2, 4)
        >>> y = flip.sample(x, mask=torch.tensor([[1, 1, 0, 0]]), generator=torch.Generator().manual_seed(0))
        >>> y[:, 2:].abs().sum().item()
        0.0
    """

    eps: float

    def __post_init__(self) -> None:
        _check_probability("BernoulliFlip eps", self.eps)

    def sample(self, x: Tensor, mask: Tensor | None = None, generator: torch.Generator | None = None) -> Tensor:
        r"""Draw :math:`y \sim q(\cdot \mid x)`, shaped as ``x`` (arguments as :meth:`Perturbation.sample`)."""
        return _flip(x, self.eps, _free_sites(mask, x.shape), generator)


def _flip(x: Tensor, prob: float | Tensor, free: Tensor | None, generator: torch.Generator | None) -> Tensor:
    flip = torch.rand(x.shape, generator=generator, device=x.device) < prob
    if free is not None:
        flip &= free
    return torch.where(flip, 1 - x, x)


@dataclass(frozen=True)
class ScaledBernoulliFlip:
    r"""Flip each free bit with a probability that gives every state about ``flips`` flips, or
    fewer where that would take a flip probability above ``max_eps``.

    .. math::
        \varepsilon_i = \min\big(\text{flips} / D_i,\ \varepsilon_\max\big), \qquad
        y = x \oplus \xi, \quad \xi_d \sim \mathrm{Bernoulli}(\varepsilon_i)

    with :math:`D_i` the number of free bits of state :math:`i` (its valid node pairs, for a
    graph). :math:`\varepsilon_i` depends on the mask only, never on :math:`x`, so the kernel
    stays symmetric and Energy Discrepancy applies unchanged. A fixed ``eps`` flips
    :math:`\varepsilon D_i` bits: under 1 for a 4-node graph and 14 for an 18-node graph at
    ``eps = 0.1``, so the perturbation is local for small graphs and global for large ones; this
    one is equally local for all states of at least :math:`\text{flips}/\varepsilon_\max` bits,
    and smaller states flip a share :math:`\varepsilon_\max` of their bits.

    Args:
        flips: expected number of flipped bits per state, > 0.
        max_eps: the largest flip probability, in (0, 1) (default 1/2).

    Example:
        >>> flip = ScaledBernoulliFlip(2.0)
        >>> mask = torch.tensor([[1.0] * 6 + [0.0] * 94, [1.0] * 100])
        >>> y = flip.sample(torch.zeros(2, 100).expand(20000, 2, 100), mask, torch.Generator().manual_seed(0))
        >>> [round(v, 1) for v in y.sum(-1).mean(0).tolist()]
        [2.0, 2.0]

        With ``max_eps = 0.2`` the 6-bit state flips :math:`0.2 \times 6 = 1.2` bits:

        >>> capped = ScaledBernoulliFlip(2.0, max_eps=0.2)
        >>> y = capped.sample(torch.zeros(20000, 2, 100), mask, torch.Generator().manual_seed(0))
        >>> [round(v, 1) for v in y.sum(-1).mean(0).tolist()]
        [1.2, 2.0]
    """

    flips: float
    max_eps: float = 0.5

    def __post_init__(self) -> None:
        if not (isinstance(self.flips, (int, float)) and self.flips > 0):
            raise ValueError(f"ScaledBernoulliFlip flips must be a positive number, got {self.flips!r}")
        _check_probability("ScaledBernoulliFlip max_eps", self.max_eps)

    def sample(self, x: Tensor, mask: Tensor | None = None, generator: torch.Generator | None = None) -> Tensor:
        r"""Draw :math:`y \sim q(\cdot \mid x)`, shaped as ``x`` (arguments as :meth:`Perturbation.sample`)."""
        free = _free_sites(mask, x.shape)
        count = free.sum(-1, keepdim=True) if free is not None else torch.tensor(float(x.shape[-1]))
        return _flip(x, (self.flips / count.clamp(min=1)).clamp(max=self.max_eps), free, generator)


@dataclass(frozen=True)
class EdgeSwap:
    r"""Rewire a graph without changing any node's degree: :math:`k = \lceil \text{share} \cdot m
    \rceil` attempted double-edge swaps on a graph of :math:`m` edges.

    Each attempt draws two edges with orientations, :math:`(a, b)` and :math:`(c, d)`, uniformly
    from the :math:`2m` oriented edges, and replaces them by :math:`(a, d)` and :math:`(c, b)`
    unless that would make a self-loop or an edge that exists, or change a frozen pair (then the
    graph stays). The reverse swap, :math:`(a, d), (c, b) \to (a, b), (c, d)`, is drawn with the
    same probability :math:`1/(2m)^2`, and :math:`m` (hence :math:`k`) is the same before and
    after, so every attempt and their :math:`k`-fold composition are symmetric kernels,
    :math:`q(y \mid x) = q(x \mid y)`, as Energy Discrepancy needs. Where Bernoulli flips change a
    few pairs anywhere, swaps keep the degree sequence and scramble what it does not fix
    (triangles, communities): negatives far from the data in structure, near it in degree.

    States are edge vectors ``x [..., D]`` (the upper triangle of ``adj [..., N, N]``, so
    :math:`D = N(N-1)/2`). Padding pairs never change: edges join real nodes only. The attempts
    run one after another, each over dense ``[*, N^2]`` adjacencies, so the cost grows as
    :math:`k N^2` per state: cheap for small graphs, slow for graphs of hundreds of nodes.

    Args:
        share: attempted swaps per edge, > 0.

    Example:
        >>> from edgraph.graphs import graphs_to_edges, edges_to_graphs
        >>> import networkx as nx
        >>> x, mask = graphs_to_edges([nx.cycle_graph(8)], max_nodes=10)
        >>> y = EdgeSwap(1.0).sample(x, mask, torch.Generator().manual_seed(0))
        >>> sorted(d for _, d in edges_to_graphs(y, mask, 10)[0].degree())
        [2, 2, 2, 2, 2, 2, 2, 2]
    """

    share: float

    def __post_init__(self) -> None:
        if not (isinstance(self.share, (int, float)) and math.isfinite(self.share) and self.share > 0):
            raise ValueError(f"EdgeSwap share (swaps per edge) must be a finite number > 0, got {self.share!r}")

    def sample(self, x: Tensor, mask: Tensor | None = None, generator: torch.Generator | None = None) -> Tensor:
        r"""Draw :math:`y \sim q(\cdot \mid x)`, shaped as ``x`` (arguments as :meth:`Perturbation.sample`)."""
        nodes = int(nodes_from_pairs(torch.tensor(x.shape[-1])))
        if nodes * (nodes - 1) // 2 != x.shape[-1]:
            raise ValueError(f"EdgeSwap expects edge vectors of N(N-1)/2 entries, got {x.shape[-1]}")
        free = _free_sites(mask, x.shape)
        adj = edges_to_adj(x, nodes).flatten(-2).flatten(0, -2).clone()  # [R, N*N]
        frozen = None if free is None else edges_to_adj((~free).to(x.dtype), nodes).flatten(-2).flatten(0, -2) > 0
        edges = adj.sum(-1) / 2
        attempts = torch.ceil(self.share * edges).long()
        rows = torch.arange(adj.shape[0], device=x.device)
        for attempt in range(int(attempts.max()) if adj.shape[0] else 0):
            active = (edges >= 2) & (attempt < attempts)
            # rows without an attempt draw from a uniform stand-in, discarded below
            pick = torch.multinomial(adj + (~active).unsqueeze(-1), 2, replacement=True, generator=generator)
            a, b, c, d = pick[:, 0] // nodes, pick[:, 0] % nodes, pick[:, 1] // nodes, pick[:, 1] % nodes
            new_ad, new_cb = a * nodes + d, c * nodes + b
            ok = active & (a != d) & (c != b) & (adj[rows, new_ad] == 0) & (adj[rows, new_cb] == 0)
            if frozen is not None:
                touched = torch.stack([pick[:, 0], pick[:, 1], new_ad, new_cb], dim=1)
                ok &= ~frozen.gather(1, touched).any(1)
            r = rows[ok]
            for (u, v), value in (((a, b), 0.0), ((c, d), 0.0), ((a, d), 1.0), ((c, b), 1.0)):
                adj[r, u[ok] * nodes + v[ok]] = value
                adj[r, v[ok] * nodes + u[ok]] = value
        return adj_to_edges(adj.view(*x.shape[:-1], nodes, nodes))


@dataclass(frozen=True)
class UniformCategorical:
    r"""Resample each free site of a one-hot state uniformly over its ``K`` categories with
    probability ``eps``.

    .. math::
        q(y_d \mid x_d) = (1 - \varepsilon)\,[y_d = x_d] + \varepsilon / K

    independently over sites (the uniform rate matrix of Schröder, Ou, Li, Duncan, NeurIPS 2024,
    with :math:`\varepsilon = 1 - e^{-Kt}`). A resampled site may keep its category, so a site
    changes with probability :math:`\varepsilon (K - 1) / K`.

    Args:
        eps: resampling probability, in (0, 1).
        num_categories: ``K`` >= 2, the size of the trailing one-hot axis.

    Example:
        >>> x = torch.nn.functional.one_hot(torch.zeros(2, 3, dtype=torch.long), 4).float()
        >>> y = UniformCategorical(0.3, num_categories=4).sample(x, generator=torch.Generator().manual_seed(0))
        >>> y.shape, bool((y.sum(-1) == 1).all())
        (torch.Size([2, 3, 4]), True)
    """

    eps: float
    num_categories: int

    def __post_init__(self) -> None:
        _check_probability("UniformCategorical eps", self.eps)
        if not (isinstance(self.num_categories, int) and self.num_categories >= 2):
            raise ValueError(f"UniformCategorical num_categories must be an integer >= 2, got {self.num_categories!r}")

    def sample(self, x: Tensor, mask: Tensor | None = None, generator: torch.Generator | None = None) -> Tensor:
        r"""Draw :math:`y \sim q(\cdot \mid x)`, shaped as ``x`` (arguments as :meth:`Perturbation.sample`)."""
        if x.dim() < 2 or x.shape[-1] != self.num_categories:
            raise ValueError(
                f"UniformCategorical expects one-hot states [..., D, {self.num_categories}], got shape {tuple(x.shape)}"
            )
        site_shape = x.shape[:-1]
        resample = torch.rand(site_shape, generator=generator, device=x.device) < self.eps
        free = _free_sites(mask, site_shape)
        if free is not None:
            resample &= free
        categories = torch.randint(self.num_categories, site_shape, generator=generator, device=x.device)
        fresh = (categories.unsqueeze(-1) == torch.arange(self.num_categories, device=x.device)).to(x.dtype)
        # arithmetic blend: several times faster on CPU than a broadcasting torch.where
        return x + resample.unsqueeze(-1) * (fresh - x)


@dataclass(frozen=True)
class Gaussian:
    r"""Add isotropic Gaussian noise of variance ``t`` to the free entries of a continuous state.

    .. math::
        y = x + \sqrt{t}\,\xi, \qquad \xi \sim \mathcal{N}(0, I)

    (Schröder et al., NeurIPS 2023: small ``t`` behaves like score matching, large ``t`` like
    maximum likelihood).

    Args:
        t: noise variance, > 0.

    Example:
        >>> y = Gaussian(0.5).sample(torch.zeros(1000, 2), generator=torch.Generator().manual_seed(0))
        >>> round(y.var().item(), 1)
        0.5
    """

    t: float

    def __post_init__(self) -> None:
        if not (isinstance(self.t, (int, float)) and math.isfinite(self.t) and self.t > 0):
            raise ValueError(f"Gaussian t (noise variance) must be a finite number > 0, got {self.t!r}")

    def sample(self, x: Tensor, mask: Tensor | None = None, generator: torch.Generator | None = None) -> Tensor:
        r"""Draw :math:`y \sim q(\cdot \mid x)`, shaped as ``x`` (arguments as :meth:`Perturbation.sample`)."""
        noise = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        free = _free_sites(mask, x.shape)
        if free is not None:
            noise = noise * free
        return x + math.sqrt(self.t) * noise
