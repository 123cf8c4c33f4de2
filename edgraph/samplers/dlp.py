r"""Discrete Langevin proposal samplers DULA and DMALA (Zhang, Liu, Liu 2022,
"A Langevin-like Sampler for Discrete Distributions", ICML)."""

from __future__ import annotations

import torch
from torch import Tensor

from edgraph.samplers.base import GradientMetropolisSampler, check_positive, gumbel_argmax
from edgraph.samplers.discrete import (
    check_discrete_state,
    from_onehot,
    log_ratio_estimate,
    onehot_grad,
    site_log_prob,
    squared_move_length,
    to_onehot,
)


class DULA(GradientMetropolisSampler):
    r"""Discrete unadjusted Langevin algorithm: every free site moves independently, no MH test.

    The discrete Langevin proposal (Zhang et al. 2022, eq. 3) factorises over sites::

        q_i(x'_i | x) ∝ exp( ½ ∇log p(x)_i · (x'_i - x_i) - ||x'_i - x_i||² / (2α) ).

    For binary states ``||x'_i - x_i||² = 1`` and site ``i`` flips with probability
    ``sigmoid(d_i / 2 - 1 / (2α))`` where ``d_i = -(1 - 2 x_i) dE/dx_i / T``. For one-hot states
    ``||x'_i - x_i||² = 2`` when the category changes, so
    ``q_i(k | x) ∝ exp(d_{i,k} / 2 - [k != cur] / α)`` with ``d_{i,k} = -(dE/dx_{i,k} - dE/dx_{i,cur}) / T``.
    Without the MH test the chain is biased by ``O(α)``; see :class:`DMALA`.

    Args:
        step_size: ``α`` > 0; larger moves more sites per step.
        temperature: ``T`` in ``p(x) ∝ exp(-E(x) / T)``.

    Example:
        >>> energy = lambda x: -(x * torch.tensor([1.0, -1.0, 2.0])).sum(-1)
        >>> x = DULA(0.2).sample(energy, torch.zeros(4, 3), steps=10, generator=torch.Generator().manual_seed(0))
        >>> x.shape
        torch.Size([4, 3])
    """

    metropolis = False

    def __init__(self, step_size: float, temperature: float = 1.0) -> None:
        super().__init__(temperature)
        self.step_size = check_positive("step_size", step_size)

    def _check_state(self, x0: Tensor) -> None:
        check_discrete_state(x0)

    def _site_log_probs(self, h: Tensor, grad: Tensor, like: Tensor) -> Tensor:
        """``log q_i(k | x)`` [B, D, K] of the factorised proposal."""
        penalty = squared_move_length(like) / (2 * self.step_size)
        logits = log_ratio_estimate(h, onehot_grad(grad), self.temperature) / 2 - penalty * (1 - h)
        return torch.log_softmax(logits, dim=-1)

    def _propose(self, x, grad, free, generator):
        h = to_onehot(x)
        log_probs = self._site_log_probs(h, grad, x)
        h_new = torch.nn.functional.one_hot(gumbel_argmax(log_probs, generator), h.shape[-1])
        h_new = torch.where(free.unsqueeze(-1), h_new.to(h.dtype), h)
        return from_onehot(h_new, x), _sum_over_free(log_probs, h_new, free)

    def _log_proposal(self, target, origin, grad_origin, free):
        log_probs = self._site_log_probs(to_onehot(origin), grad_origin, origin)
        return _sum_over_free(log_probs, to_onehot(target), free)


def _sum_over_free(log_probs: Tensor, h_target: Tensor, free: Tensor) -> Tensor:
    """``log q(target|x) = sum_i log q_i(target_i|x)`` over free sites, [B]."""
    per_site = site_log_prob(log_probs, h_target)
    return torch.where(free, per_site, torch.zeros_like(per_site)).sum(1)


class DMALA(DULA):
    r"""Discrete Metropolis-adjusted Langevin algorithm: the :class:`DULA` proposal plus MH.

    Accepts ``y`` with probability ``min(1, exp((E(x) - E(y)) / T) q(x|y) / q(y|x))`` where
    ``q(y|x) = prod_i q_i(y_i | x)`` over free sites (Zhang et al. 2022, Alg. 1), so the chain
    targets ``p`` exactly for every step size.

    Args:
        step_size: ``α`` > 0.
        temperature: ``T`` in ``p(x) ∝ exp(-E(x) / T)``.

    Example:
        >>> energy = lambda x: -(x * torch.tensor([1.0, -1.0, 2.0])).sum(-1)
        >>> sampler = DMALA(0.2)
        >>> x = sampler.sample(energy, torch.zeros(4, 3), steps=10, generator=torch.Generator().manual_seed(0))
        >>> 0.0 <= sampler.acceptance_rate <= 1.0
        True
    """

    metropolis = True
