r"""Training objectives for energy-based models :math:`p(x) \propto \exp(-E(x))`.

- :func:`energy_discrepancy`: Energy Discrepancy (ED), no MCMC and no score needed; works on
  binary, categorical and continuous states with the matching perturbation.
- :func:`contrastive_divergence` and :class:`PersistentChains`: the MCMC baseline ((P)CD), with
  model samples drawn by :mod:`edgraph.samplers`.
- :func:`denoising_score_matching`, :func:`score_matching`: continuous baselines.

An energy is any callable ``energy(x) -> [B]``, called as ``energy(x, mask)`` when a mask is given.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, cast

import torch
from torch import Tensor

from edgraph.energies.base import Energy, evaluate_energy
from edgraph.perturbations import Perturbation

__all__ = [
    "energy_discrepancy",
    "contrastive_divergence",
    "PersistentChains",
    "PersistentCD",
    "ChainBatch",
    "denoising_score_matching",
    "score_matching",
]


def _reduce(terms: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return terms.mean()
    if reduction == "none":
        return terms
    raise ValueError(f"reduction must be 'mean' or 'none', got {reduction!r}")


def energy_discrepancy(
    energy: Energy,
    x: Tensor | Sequence[Tensor],
    perturbation: Perturbation | Sequence[Perturbation],
    num_negatives: int = 32,
    w: float = 1.0,
    mask: Tensor | Sequence[Tensor | None] | None = None,
    generator: torch.Generator | None = None,
    reduction: str = "mean",
) -> Tensor:
    r"""Energy Discrepancy loss of ``energy`` on the data batch ``x``.

    For a perturbation :math:`q(y \mid x)`, Energy Discrepancy is

    .. math::
        \mathrm{ED}_q(p_\mathrm{data}, E) = \mathbb{E}_{x \sim p_\mathrm{data}}[E(x)]
        + \mathbb{E}_{x \sim p_\mathrm{data}} \mathbb{E}_{y \sim q(\cdot \mid x)}
          \Big[\log \sum_{x'} q(y \mid x')\, e^{-E(x')}\Big],

    uniquely minimised by :math:`E = -\log p_\mathrm{data} + c` (Schröder et al., "Energy
    Discrepancies: A Score-Independent Loss for Energy-Based Models", NeurIPS 2023; discrete
    states: Schröder, Ou, Li, Duncan, "Training Discrete Energy-Based Models with Energy
    Discrepancy", arXiv:2307.07595, and NeurIPS 2024, arXiv:2412.01019). For a symmetric ``q``
    it is estimated with :math:`y_i \sim q(\cdot \mid x_i)` and
    :math:`x'_{ij} \sim q(\cdot \mid y_i)`, :math:`j = 1..M`:

    .. math::
        \ell_i = \log\Big(\frac{w}{M} + \frac{1}{M}\sum_{j=1}^M e^{E(x_i) - E(x'_{ij})}\Big)

    computed as :math:`\operatorname{logsumexp}([E(x_i) - E(x'_{ij})]_j, \log w) - \log M`.
    The stabiliser :math:`w \ge 0` bounds the loss below by :math:`\log(w/M)`; ``w = 0`` gives the
    plain estimator, whose mean lies below the exact ED (log of a Monte-Carlo mean, Jensen).
    All :math:`B(M+1)` states go through ``energy`` in one batched call.

    A state may have several parts, e.g. the atom types and the bond types of a molecule:
    ``x = (x_1, ..., x_P)`` with one perturbation (and mask) per part, each part perturbed
    independently. The product :math:`q(y \mid x) = \prod_p q_p(y_p \mid x_p)` of symmetric
    kernels is symmetric, so the estimator is unchanged; the energy is then called as
    ``energy(x_1, ..., x_P)``, or ``energy(x_1, ..., x_P, mask_1, ..., mask_P)`` with masks.

    Args:
        energy: ``energy(x) -> [B]``, or ``energy(x, mask) -> [B]`` when ``mask`` is given.
        x: data batch: binary ``[B, D]``, one-hot ``[B, D, K]`` or continuous ``[B, D]``; or a
            tuple of such parts with the same ``B``.
        perturbation: a symmetric perturbation matching the state type, e.g.
            :class:`~edgraph.perturbations.BernoulliFlip`; a tuple of one per part for a tuple ``x``.
        num_negatives: ``M``, negatives per data point.
        w: stabiliser, ``>= 0``.
        mask: ``[B, D]`` (or ``[1, D]``) free entries; frozen entries are never perturbed. For a
            tuple ``x``: ``None`` or a tuple of one mask (or ``None``) per part.
        generator: random generator for the perturbations.
        reduction: ``"mean"`` for the scalar loss, ``"none"`` for the terms :math:`\ell_i`, ``[B]``.

    Example:
        >>> from edgraph.perturbations import BernoulliFlip
        >>> energy = lambda x: (x.sum(-1) - 2.0) ** 2
        >>> x = torch.tensor([[1.0, 1.0, 0.0, 0.0]]).repeat(8, 1)
        >>> loss = energy_discrepancy(energy, x, BernoulliFlip(0.1), num_negatives=4,
        ...                           generator=torch.Generator().manual_seed(0))
        >>> loss.shape
        torch.Size([])

        Two parts, e.g. one-hot atom types and bond types, each with its own eps:

        >>> from edgraph.perturbations import UniformCategorical
        >>> atoms = torch.eye(3)[torch.tensor([[0, 1]])]          # [1, 2, 3]
        >>> bonds = torch.eye(2)[torch.tensor([[1]])]             # [1, 1, 2]
        >>> pair_energy = lambda a, b: a[..., 0].sum(-1) + b[..., 1].sum(-1)
        >>> energy_discrepancy(pair_energy, (atoms, bonds), (UniformCategorical(0.2, 3), UniformCategorical(0.1, 2)),
        ...                    num_negatives=4).shape
        torch.Size([])
    """
    if not (isinstance(num_negatives, int) and num_negatives >= 1):
        raise ValueError(f"num_negatives must be an integer >= 1, got {num_negatives!r}")
    if not (isinstance(w, (int, float)) and math.isfinite(w) and w >= 0):
        raise ValueError(f"w (stabiliser) must be a finite number >= 0, got {w!r}")
    if reduction not in ("mean", "none"):
        raise ValueError(f"reduction must be 'mean' or 'none', got {reduction!r}")
    if isinstance(x, Tensor):
        if isinstance(perturbation, (list, tuple)):
            raise ValueError("a single state tensor x takes a single perturbation, not a sequence")
        if mask is not None and not isinstance(mask, Tensor):
            raise ValueError("a single state tensor x takes a single mask tensor, not a sequence")
        states, state_mask = _data_and_negatives(x, cast(Perturbation, perturbation), mask, num_negatives, generator)
        batch = x.shape[0]
        energies = evaluate_energy(energy, states, state_mask)
    else:
        parts, perturbations = (
            tuple(x),
            tuple(perturbation) if isinstance(perturbation, (list, tuple)) else (perturbation,),
        )
        masks = (None,) * len(parts) if mask is None else tuple(mask)
        if not parts or len(perturbations) != len(parts) or len(masks) != len(parts):
            raise ValueError(
                f"a state of {len(parts)} parts needs one perturbation and (if masked) one mask "
                f"per part; got {len(perturbations)} perturbations and "
                f"{'no' if mask is None else len(masks)} masks"
            )
        batch = parts[0].shape[0]
        if any(part.shape[0] != batch for part in parts):
            raise ValueError(f"all parts of x must hold the same batch, got sizes {[p.shape[0] for p in parts]}")
        stacked = [_data_and_negatives(*args, num_negatives, generator) for args in zip(parts, perturbations, masks)]
        part_states = [part for part, _ in stacked]
        energies = energy(*part_states) if mask is None else energy(*part_states, *(m for _, m in stacked))
        if energies.shape != (part_states[0].shape[0],):
            raise ValueError(
                f"energy must return one value per state, shape ({part_states[0].shape[0]},); "
                f"got {tuple(energies.shape)}"
            )
    energies = energies.view(batch, num_negatives + 1)

    log_ratios = energies[:, :1] - energies[:, 1:]
    if w > 0:
        log_ratios = torch.cat([log_ratios, log_ratios.new_full((batch, 1), math.log(w))], dim=1)
    terms = torch.logsumexp(log_ratios, dim=1) - math.log(num_negatives)
    return _reduce(terms, reduction)


def _data_and_negatives(
    x: Tensor, perturbation: Perturbation, mask: Tensor | None, num_negatives: int, generator: torch.Generator | None
) -> tuple[Tensor, Tensor | None]:
    r"""States ``[B(M+1), ...]``: each data point followed by its ``M`` negatives
    :math:`x'_{ij} \sim q(\cdot \mid y_i)`, :math:`y_i \sim q(\cdot \mid x_i)`; and their masks."""
    batch = x.shape[0]
    if mask is not None:
        if mask.dim() < 2 or mask.shape[0] not in (1, batch):
            raise ValueError(f"mask must have shape [B, D] (or [1, D]) with B = {batch}, got {tuple(mask.shape)}")
        mask = mask.expand(batch, *mask.shape[1:])
    noisy = perturbation.sample(x, mask, generator)
    stacked = noisy.unsqueeze(1).expand(batch, num_negatives, *noisy.shape[1:])
    negatives = perturbation.sample(stacked, None if mask is None else mask.unsqueeze(1), generator)
    states = torch.cat([x.unsqueeze(1), negatives], dim=1).flatten(0, 1)
    if mask is None:
        return states, None
    return states, mask.unsqueeze(1).expand(batch, num_negatives + 1, *mask.shape[1:]).flatten(0, 1)


def contrastive_divergence(
    energy: Energy,
    x_data: Tensor,
    x_model: Tensor,
    mask: Tensor | None = None,
    model_mask: Tensor | None = None,
    energy_penalty: float = 0.0,
) -> Tensor:
    r"""Contrastive-divergence surrogate loss :math:`\overline{E(x_\mathrm{data})} - \overline{E(x_\mathrm{model})}`.

    With ``energy_penalty`` :math:`\alpha > 0` it adds
    :math:`\alpha\,(\overline{E(x_\mathrm{data})^2} + \overline{E(x_\mathrm{model})^2})`, the
    regulariser that keeps CD-trained energies from drifting to huge magnitudes (Du & Mordatch,
    NeurIPS 2019).

    Its gradient is the Monte-Carlo estimate of the negative log-likelihood gradient
    :math:`\mathbb{E}_\mathrm{data}[\nabla_\theta E] - \mathbb{E}_{p_\theta}[\nabla_\theta E]`
    (Hinton, "Training Products of Experts by Minimizing Contrastive Divergence", Neural
    Computation 2002) when ``x_model`` are samples of the model; they are detached, so no
    gradient flows through the sampler.

    Args:
        energy: the energy, called with ``mask`` / ``model_mask`` when given.
        x_data: data batch ``[B, ...]``.
        x_model: model samples ``[B', ...]`` (e.g. from :class:`PersistentChains` + a sampler).
        mask: free entries of ``x_data``.
        model_mask: free entries of ``x_model``; defaults to ``mask``.

    Example:
        >>> energy = lambda x: x.sum(-1)
        >>> contrastive_divergence(energy, torch.ones(4, 3), torch.zeros(5, 3)).item()
        3.0
    """
    model_mask = mask if model_mask is None else model_mask
    data = evaluate_energy(energy, x_data, mask)
    model = evaluate_energy(energy, x_model.detach(), model_mask)
    return data.mean() - model.mean() + energy_penalty * (data.pow(2).mean() + model.pow(2).mean())


class ChainBatch(NamedTuple):
    """Chains drawn from :class:`PersistentChains`: their slots, states and (optional) masks."""

    indices: Tensor
    states: Tensor
    mask: Tensor | None


class PersistentChains:
    r"""Buffer of persistent Markov chains for persistent contrastive divergence (PCD).

    PCD keeps the sampler's chains alive between parameter updates instead of restarting them
    at the data (Tieleman, "Training Restricted Boltzmann Machines using Approximations to the
    Likelihood Gradient", ICML 2008). Each drawn chain is restarted from ``reinit`` with
    probability ``reinit_prob`` (the replay buffer of Du & Mordatch, "Implicit Generation and
    Generalization in Energy-Based Models", NeurIPS 2019, used 0.05). Entries frozen by ``mask``
    keep their buffered value on restart, so padding stays padding, unless ``reinit`` also returns
    new masks.

    Args:
        states: initial chains ``[C, ...]``, one slot per chain.
        mask: free entries per slot, ``[C, D]`` (site shape; fixed per slot), or ``None``.
        reinit: ``reinit(B, generator)`` returns ``B`` fresh states ``[B, ...]`` (frozen entries then
            keep the slot's value), or fresh states with their masks ``([B, ...], [B, D])``, which
            replace the slots' masks (a restarted graph chain may have another node count);
            needed when ``reinit_prob > 0``.
        reinit_prob: probability in [0, 1] of restarting a drawn chain.

    Example:
        >>> chains = PersistentChains(torch.zeros(10, 3))
        >>> batch = chains.sample(4, generator=torch.Generator().manual_seed(0))
        >>> chains.update(batch.indices, batch.states + 1)    # after running a sampler on them
        >>> int(chains.states.sum().item())
        12
    """

    def __init__(
        self,
        states: Tensor,
        mask: Tensor | None = None,
        reinit: Callable[[int, torch.Generator | None], Tensor | tuple[Tensor, Tensor]] | None = None,
        reinit_prob: float = 0.0,
    ) -> None:
        if states.dim() < 1 or states.shape[0] == 0:
            raise ValueError(f"states must be a non-empty batch [C, ...], got shape {tuple(states.shape)}")
        if mask is not None and (mask.shape[0] != states.shape[0] or mask.dim() > states.dim()):
            raise ValueError(
                f"mask must hold one row per chain, shape [{states.shape[0]}, ...] with at most "
                f"{states.dim()} dims; got {tuple(mask.shape)}"
            )
        if not (isinstance(reinit_prob, (int, float)) and 0.0 <= reinit_prob <= 1.0):
            raise ValueError(f"reinit_prob must be in [0, 1], got {reinit_prob!r}")
        if reinit_prob > 0 and reinit is None:
            raise ValueError("reinit_prob > 0 needs a reinit(n, generator) function for fresh states")
        self.states = states.detach().clone()
        self.mask = mask
        self.reinit = reinit
        self.reinit_prob = float(reinit_prob)

    def __len__(self) -> int:
        return self.states.shape[0]

    def __repr__(self) -> str:
        return (
            f"PersistentChains(num_chains={len(self)}, state_shape={tuple(self.states.shape[1:])}, "
            f"reinit_prob={self.reinit_prob})"
        )

    def sample(self, batch_size: int, generator: torch.Generator | None = None) -> ChainBatch:
        """Draw ``batch_size`` distinct chains (without replacement), restarting some of them."""
        if not (isinstance(batch_size, int) and 1 <= batch_size <= len(self)):
            raise ValueError(f"batch_size must be an integer in [1, {len(self)}], got {batch_size!r}")
        device = self.states.device
        indices = torch.randperm(len(self), generator=generator, device=device)[:batch_size]
        states = self.states[indices].clone()
        mask = None if self.mask is None else self.mask[indices]
        if self.reinit_prob > 0:
            restart = torch.rand(batch_size, generator=generator, device=device) < self.reinit_prob
            if restart.any():
                assert self.reinit is not None  # checked in __init__ when reinit_prob > 0
                fresh = self.reinit(int(restart.sum()), generator)
                if isinstance(fresh, tuple):  # a fresh chain with its own mask, e.g. a graph of another size
                    fresh, fresh_mask = fresh
                    if self.mask is None:
                        raise ValueError("reinit returned a mask, but the chains have none")
                    self.mask[indices[restart]] = fresh_mask.to(self.mask)
                    mask = self.mask[indices]
                else:
                    fresh = fresh.to(states)
                    if mask is not None:
                        free = mask[restart] != 0
                        free = free.reshape(*free.shape, *([1] * (fresh.dim() - free.dim())))
                        fresh = torch.where(free, fresh, states[restart])
                states[restart] = fresh.to(states)
        return ChainBatch(indices, states, mask)

    def update(self, indices: Tensor, states: Tensor) -> None:
        """Store the advanced ``states`` of the chains drawn at ``indices``."""
        if states.shape != (indices.shape[0], *self.states.shape[1:]):
            raise ValueError(
                f"states must have shape ({indices.shape[0]}, {', '.join(map(str, self.states.shape[1:]))}), "
                f"got {tuple(states.shape)}"
            )
        self.states[indices] = states.detach().to(self.states)


class PersistentCD:
    r"""Persistent contrastive divergence as a loss ``(energy, x, mask=None) -> scalar``.

    Each call draws ``batch_size`` chains (default: as many as data points) from ``chains``,
    advances them by ``steps`` steps of ``sampler`` under the current energy, stores them back,
    and returns :func:`contrastive_divergence` of the data against them (Tieleman, ICML 2008),
    with the optional ``energy_penalty``.
    Chains move to the data's device on first use.

    Example:
        >>> from edgraph.samplers import Gibbs
        >>> pcd = PersistentCD(Gibbs(), steps=2, chains=PersistentChains(torch.zeros(8, 3)))
        >>> pcd(lambda x: x.sum(-1), torch.ones(4, 3)).shape
        torch.Size([])
    """

    def __init__(
        self,
        sampler: Any,
        steps: int,
        chains: PersistentChains,
        batch_size: int | None = None,
        generator: torch.Generator | None = None,
        energy_penalty: float = 0.0,
    ) -> None:
        self.sampler, self.steps, self.chains = sampler, steps, chains
        self.batch_size, self.generator, self.energy_penalty = batch_size, generator, energy_penalty

    def __call__(self, energy: Energy, x: Tensor, mask: Tensor | None = None) -> Tensor:
        self.chains.states = self.chains.states.to(x.device)
        if self.chains.mask is not None:
            self.chains.mask = self.chains.mask.to(x.device)
        drawn = self.chains.sample(min(self.batch_size or len(x), len(self.chains)), self.generator)
        x_model = self.sampler.sample(energy, drawn.states, self.steps, drawn.mask, generator=self.generator)
        self.chains.update(drawn.indices, x_model)
        return contrastive_divergence(energy, x, x_model, mask, drawn.mask, self.energy_penalty)


def denoising_score_matching(
    energy: Energy,
    x: Tensor,
    sigma: float,
    generator: torch.Generator | None = None,
    reduction: str = "mean",
) -> Tensor:
    r"""Denoising score matching loss for a continuous energy (score :math:`s = -\nabla_x E`).

    .. math::
        \ell_i = \tfrac12 \big\| s(\tilde x_i) + \xi_i / \sigma \big\|^2, \qquad
        \tilde x_i = x_i + \sigma \xi_i, \quad \xi_i \sim \mathcal{N}(0, I)

    i.e. the score is regressed onto that of :math:`q_\sigma(\tilde x \mid x)` (Vincent, "A
    Connection Between Score Matching and Denoising Autoencoders", Neural Computation 2011); it
    fits the data convolved with :math:`\mathcal{N}(0, \sigma^2 I)`.

    Example:
        >>> energy = lambda x: 0.5 * (x ** 2).sum(-1)
        >>> denoising_score_matching(energy, torch.zeros(16, 2), sigma=0.1,
        ...                          generator=torch.Generator().manual_seed(0)).item() > 0
        True
    """
    if not (isinstance(sigma, (int, float)) and math.isfinite(sigma) and sigma > 0):
        raise ValueError(f"sigma must be a finite number > 0, got {sigma!r}")
    noise = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    noisy = (x.detach() + sigma * noise).requires_grad_(True)
    score = -torch.autograd.grad(evaluate_energy(energy, noisy, None).sum(), noisy, create_graph=True)[0]
    terms = 0.5 * (score + noise / sigma).flatten(1).pow(2).sum(1)
    return _reduce(terms, reduction)


def score_matching(energy: Energy, x: Tensor, reduction: str = "mean") -> Tensor:
    r"""Exact (Hyvärinen) score matching loss for a continuous energy.

    .. math::
        \ell_i = \tfrac12 \|\nabla_x E(x_i)\|^2 - \Delta_x E(x_i)

    which equals the Fisher divergence to the data up to a constant (Hyvärinen, "Estimation of
    Non-Normalized Statistical Models by Score Matching", JMLR 2005). The Laplacian is computed
    by one autograd pass per dimension: fine for low-dimensional states.

    Example:
        >>> energy = lambda x: 0.5 * (x ** 2).sum(-1)    # standard normal
        >>> score_matching(energy, torch.tensor([[0.0, 0.0], [1.0, 1.0]]), reduction="none")
        tensor([-2., -1.], grad_fn=<SubBackward0>)
    """
    x = x.detach().requires_grad_(True)
    gradient = torch.autograd.grad(evaluate_energy(energy, x, None).sum(), x, create_graph=True)[0].flatten(1)
    laplacian = gradient.new_zeros(gradient.shape[0])
    if gradient.requires_grad:  # an energy linear in x has no second derivative
        for d in range(gradient.shape[1]):
            second = torch.autograd.grad(gradient[:, d].sum(), x, create_graph=True, allow_unused=True)[0]
            if second is not None:
                laplacian = laplacian + second.flatten(1)[:, d]
    terms = 0.5 * gradient.pow(2).sum(1) - laplacian
    return _reduce(terms, reduction)
