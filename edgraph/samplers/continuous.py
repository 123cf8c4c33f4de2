"""Langevin samplers for continuous states: unadjusted (ULA) and Metropolis-adjusted (MALA)."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from edgraph.samplers.base import GradientMetropolisSampler, check_positive


class Langevin(GradientMetropolisSampler):
    r"""Unadjusted Langevin algorithm (ULA) on continuous states ``x [B, D]``.

    One step: ``y = x - h ∇E(x) / T + sqrt(2h) ξ``, ``ξ ~ N(0, I)``, on free entries only.
    Without a Metropolis-Hastings test its stationary law is biased by ``O(h)``
    (for a Gaussian target with precision ``P`` the stationary covariance is
    ``2 (2P - hP²)^{-1}``, i.e. ``T = 1``); see :class:`MALA`.

    Args:
        step_size: ``h`` > 0.
        temperature: ``T`` in ``p(x) ∝ exp(-E(x) / T)``.

    Example:
        >>> energy = lambda x: 0.5 * (x ** 2).sum(-1)
        >>> x = Langevin(0.1).sample(energy, torch.zeros(8, 2), steps=5, generator=torch.Generator().manual_seed(0))
        >>> x.shape
        torch.Size([8, 2])
    """

    metropolis = False

    def __init__(self, step_size: float, temperature: float = 1.0) -> None:
        super().__init__(temperature)
        self.step_size = check_positive("step_size", step_size)

    def _check_state(self, x0: Tensor) -> None:
        if x0.dim() != 2:
            raise ValueError(f"continuous samplers take states [B, D]; got shape {tuple(x0.shape)}")

    def _mean(self, x: Tensor, grad: Tensor, free: Tensor) -> Tensor:
        """Mean of the Gaussian proposal: a gradient step on free entries."""
        return x - free * (self.step_size / self.temperature) * grad

    def _propose(self, x, grad, free, generator):
        noise = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        proposal = self._mean(x, grad, free) + free * math.sqrt(2 * self.step_size) * noise
        return proposal, self._log_proposal(proposal, x, grad, free)

    def _log_proposal(self, target, origin, grad_origin, free):
        # log N(target; mean, 2h I) over free entries, dropping the constant
        residual = free * (target - self._mean(origin, grad_origin, free))
        return -(residual**2).sum(1) / (4 * self.step_size)


class MALA(Langevin):
    r"""Metropolis-adjusted Langevin algorithm (Roberts & Tweedie 1996).

    The :class:`Langevin` proposal ``q(y|x) = N(y; x - h ∇E(x) / T, 2h I)`` accepted with
    probability ``min(1, exp((E(x) - E(y)) / T) q(x|y) / q(y|x))``; exact for every ``h``.

    Args:
        step_size: ``h`` > 0.
        temperature: ``T`` in ``p(x) ∝ exp(-E(x) / T)``.

    Example:
        >>> energy = lambda x: 0.5 * (x ** 2).sum(-1)
        >>> sampler = MALA(0.5)
        >>> x = sampler.sample(energy, torch.zeros(8, 2), steps=5, generator=torch.Generator().manual_seed(0))
        >>> 0.0 <= sampler.acceptance_rate <= 1.0
        True
    """

    metropolis = True
