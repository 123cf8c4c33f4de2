r"""Gibbs-with-Gradients (Grathwohl, Swersky, Hashemi, Duvenaud, Maddison 2021,
"Oops I Took A Gradient: Scalable Sampling for Discrete Distributions")."""

from __future__ import annotations

import torch
from torch import Tensor

from edgraph.samplers.base import GradientMetropolisSampler, gumbel_argmax
from edgraph.samplers.discrete import (
    check_discrete_state,
    from_onehot,
    log_ratio_estimate,
    onehot_grad,
    site_log_prob,
    to_onehot,
)


class GWG(GradientMetropolisSampler):
    r"""Gibbs-with-Gradients: a one-site move chosen by the gradient, then Metropolis-Hastings.

    With ``d_{i,k}(x)`` the first-order estimate of ``log p(x with site i = k) - log p(x)``
    (binary: ``d_i = -(1 - 2 x_i) dE/dx_i / T``), one step draws a move (site ``i``, new
    category ``k``) from ``q(i, k | x) = softmax(d(x) / 2)`` over all free sites and all
    non-current categories, and accepts ``y`` with probability::

        min(1, exp((E(x) - E(y)) / T) q(x|y) / q(y|x)).

    One step changes at most one site and costs one energy-and-gradient evaluation.

    Args:
        temperature: ``T`` in ``p(x) ∝ exp(-E(x) / T)``.

    Example:
        >>> energy = lambda x: -(x * torch.tensor([1.0, -1.0, 2.0])).sum(-1)
        >>> x = GWG().sample(energy, torch.zeros(4, 3), steps=10, generator=torch.Generator().manual_seed(0))
        >>> x.shape
        torch.Size([4, 3])
    """

    metropolis = True

    def _check_state(self, x0: Tensor) -> None:
        check_discrete_state(x0)

    def _move_log_probs(self, h: Tensor, grad: Tensor, free: Tensor) -> Tensor:
        """``log q(i, k | x)`` [B, D, K]; ``-inf`` at current categories and frozen sites."""
        logits = log_ratio_estimate(h, onehot_grad(grad), self.temperature) / 2
        logits = logits.masked_fill((h > 0) | ~free.unsqueeze(-1), -torch.inf)
        # a chain with nothing free gets a harmless finite row; its move is discarded
        logits = torch.where(free.any(1).view(-1, 1, 1), logits, torch.zeros_like(logits))
        batch = h.shape[0]
        return torch.log_softmax(logits.reshape(batch, -1), dim=-1).view_as(h)

    def _propose(self, x, grad, free, generator):
        h = to_onehot(x)
        log_probs = self._move_log_probs(h, grad, free)
        batch, sites, categories = h.shape
        move = gumbel_argmax(log_probs.reshape(batch, -1), generator)
        movable = free.any(1)
        rows = torch.arange(batch, device=h.device)[movable]
        h_new = h.clone()
        h_new[rows, (move // categories)[movable]] = torch.nn.functional.one_hot(
            (move % categories)[movable], categories
        ).to(h.dtype)
        return from_onehot(h_new, x), _log_prob_of_move(log_probs, h, h_new)

    def _log_proposal(self, target, origin, grad_origin, free):
        h_origin = to_onehot(origin)
        log_probs = self._move_log_probs(h_origin, grad_origin, free)
        return _log_prob_of_move(log_probs, h_origin, to_onehot(target))


def _log_prob_of_move(log_probs: Tensor, h_origin: Tensor, h_target: Tensor) -> Tensor:
    """``log q(target|origin)`` [B] of the one-site move between two one-hot states (0 if equal)."""
    per_site = site_log_prob(log_probs, h_target)
    changed = (h_origin != h_target).any(-1)
    return torch.where(changed, per_site, torch.zeros_like(per_site)).sum(1)
