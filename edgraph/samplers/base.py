"""Pieces every sampler shares: calling an energy, its gradient, validation and the MH test.

The target of every sampler is ``p(x) ∝ exp(-E(x) / T)`` with temperature ``T``.
"""

from __future__ import annotations

import math
import numbers
from abc import ABC, abstractmethod
from collections.abc import Iterable

import torch
from torch import Tensor

from edgraph.energies.base import Energy, evaluate_energy
from edgraph.progress import progress_range


def energy_and_grad(energy: Energy, x: Tensor, mask: Tensor | None) -> tuple[Tensor, Tensor]:
    r"""Energy ``energy [B]`` and its gradient ``dE/dx`` (shape of ``x``), both detached.

    The gradient is taken on a detached copy of ``x``, so no autograd graph survives the call
    and parameters of the energy receive no gradient.

    Example:
        >>> e, g = energy_and_grad(lambda x: (x ** 2).sum(-1), torch.tensor([[1.0, 2.0]]), None)
        >>> g
        tensor([[2., 4.]])
    """
    with torch.enable_grad():
        x_grad = x.detach().requires_grad_(True)
        value = evaluate_energy(energy, x_grad, mask)
        (grad,) = torch.autograd.grad(value.sum(), x_grad)
    return value.detach(), grad.detach()


def metropolis_hastings(log_ratio: Tensor, generator: torch.Generator | None) -> Tensor:
    r"""Accept each chain with probability ``min(1, exp(log_ratio))``; returns a bool ``[B]``.

    Example:
        >>> metropolis_hastings(torch.tensor([0.0, -float("inf")]), None)
        tensor([ True, False])
    """
    uniform = torch.rand(log_ratio.shape, generator=generator, device=log_ratio.device, dtype=log_ratio.dtype)
    return torch.log(uniform) < log_ratio


def gumbel_argmax(logits: Tensor, generator: torch.Generator | None) -> Tensor:
    r"""One draw from ``Categorical(softmax(logits))`` along the last dimension (Gumbel-max).

    Entries with logit ``-inf`` are never drawn.

    Example:
        >>> gumbel_argmax(torch.tensor([[0.0, -float("inf")]]), None)
        tensor([0])
    """
    uniform = torch.rand(logits.shape, generator=generator, device=logits.device, dtype=logits.dtype)
    gumbel = -torch.log(-torch.log(uniform.clamp_min(torch.finfo(logits.dtype).tiny)))
    return torch.argmax(logits + gumbel, dim=-1)


def check_positive(name: str, value: float) -> float:
    """Return ``value`` as a float, raising ValueError unless it is finite and > 0."""
    value = float(value)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive number; got {value}")
    return value


def free_entries(mask: Tensor | None, x0: Tensor) -> Tensor:
    """Bool ``[B, D]``: True where an entry of ``x0`` may change (all True without a mask)."""
    if mask is None:
        return torch.ones(x0.shape[:2], dtype=torch.bool, device=x0.device)
    if mask.shape != x0.shape[:2]:
        raise ValueError(f"mask must have shape [B, D] = {tuple(x0.shape[:2])} to match x0; got {tuple(mask.shape)}")
    return mask.to(device=x0.device) != 0


class Sampler(ABC):
    r"""Base class: an MCMC kernel run for ``steps`` steps on a batch of independent chains.

    Subclasses implement :meth:`_check_state` and :meth:`_run`. After :meth:`sample`,
    ``acceptance_rate`` holds the fraction of accepted proposals of that call (1.0 for samplers
    that always move, NaN for a Metropolis-Hastings sampler run for 0 steps).

    Args:
        temperature: ``T`` in the target ``p(x) ∝ exp(-E(x) / T)``.
    """

    def __init__(self, temperature: float = 1.0) -> None:
        self.temperature = check_positive("temperature", temperature)
        self.acceptance_rate = float("nan")

    def sample(
        self,
        energy: Energy,
        x0: Tensor,
        steps: int,
        mask: Tensor | None = None,
        generator: torch.Generator | None = None,
        progress: bool = False,
    ) -> Tensor:
        r"""Run every chain of ``x0`` for ``steps`` steps and return the final states.

        Args:
            energy: callable, ``energy(x) -> [B]`` (or ``energy(x, mask) -> [B]`` with a mask).
            x0: initial states; binary 0/1 ``[B, D]``, one-hot ``[B, D, K]`` or continuous ``[B, D]``.
            steps: number of MCMC steps (see each sampler for what one step does).
            mask: bool ``[B, D]`` (or 0/1), True where an entry may change, False where it is frozen;
                passed to ``energy``.
            generator: source of randomness; the same seed gives the same chains.
            progress: report the steps on stderr (a bar on a terminal, else a line every tenth).

        Returns:
            Tensor shaped like ``x0``.
        """
        if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 0:
            raise ValueError(f"steps must be a non-negative int; got {steps!r}")
        if not torch.is_tensor(x0) or not x0.is_floating_point():
            raise ValueError("x0 must be a floating-point tensor")
        self._check_state(x0)
        free = free_entries(mask, x0)
        with torch.no_grad():
            step_range = progress_range(int(steps), type(self).__name__, progress)
            x, acceptance = self._run(energy, x0.detach().clone(), step_range, mask, free, generator)
        self.acceptance_rate = acceptance
        return x

    @abstractmethod
    def _check_state(self, x0: Tensor) -> None:
        """Raise ValueError when ``x0`` is not a state this sampler handles."""

    @abstractmethod
    def _run(
        self,
        energy: Energy,
        x: Tensor,
        steps: Iterable[int],
        mask: Tensor | None,
        free: Tensor,
        generator: torch.Generator | None,
    ) -> tuple[Tensor, float]:
        """Run the chains for each step index in ``steps``; return the final states and the
        acceptance rate."""


class GradientMetropolisSampler(Sampler):
    r"""A gradient-informed proposal ``q(y|x)``, optionally corrected by Metropolis-Hastings.

    Each step proposes ``y ~ q(.|x)`` from ``E(x)`` and ``dE/dx``; with ``metropolis=True``
    it accepts with probability ``min(1, exp((E(x) - E(y)) / T) q(x|y) / q(y|x))``, otherwise
    it always moves. The energy and gradient of the current state are carried between steps,
    so one step costs one energy-and-gradient evaluation.
    """

    metropolis: bool

    @abstractmethod
    def _propose(
        self, x: Tensor, grad: Tensor, free: Tensor, generator: torch.Generator | None
    ) -> tuple[Tensor, Tensor]:
        """Draw ``y ~ q(.|x)``; return ``y`` and ``log q(y|x)`` [B] (up to a shared constant)."""

    @abstractmethod
    def _log_proposal(self, target: Tensor, origin: Tensor, grad_origin: Tensor, free: Tensor) -> Tensor:
        """``log q(target | origin)`` [B], up to the constant dropped by :meth:`_propose`."""

    def _run(self, energy, x, steps, mask, free, generator):
        value, grad = energy_and_grad(energy, x, mask)
        accepted = torch.zeros((), dtype=torch.float64, device=x.device)
        count = 0
        for _ in steps:
            count += 1
            proposal, log_forward = self._propose(x, grad, free, generator)
            value_new, grad_new = energy_and_grad(energy, proposal, mask)
            if not self.metropolis:
                x, value, grad = proposal, value_new, grad_new
                continue
            log_reverse = self._log_proposal(x, proposal, grad_new, free)
            log_ratio = (value - value_new) / self.temperature + log_reverse - log_forward
            accept = metropolis_hastings(log_ratio, generator)
            x = torch.where(_expand_like(accept, x), proposal, x)
            value = torch.where(accept, value_new, value)
            grad = torch.where(_expand_like(accept, grad), grad_new, grad)
            accepted += accept.double().mean()
        if not self.metropolis:
            return x, 1.0
        return x, float(accepted) / count if count else float("nan")


def _expand_like(flags: Tensor, x: Tensor) -> Tensor:
    """Reshape per-chain ``flags [B]`` to broadcast against ``x [B, ...]``."""
    return flags.view((-1,) + (1,) * (x.dim() - 1))
