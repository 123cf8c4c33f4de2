"""Single-site Gibbs sampling with exact conditionals."""

from __future__ import annotations

import torch
from torch import Tensor

from edgraph.energies.base import evaluate_energy
from edgraph.samplers.base import Sampler, gumbel_argmax
from edgraph.samplers.discrete import check_discrete_state, from_onehot, to_onehot


class Gibbs(Sampler):
    r"""Gibbs sampler: each step redraws one site from its exact conditional.

    For the chosen site ``i`` the energies of all ``K`` alternatives ``x^{(i=k)}`` are computed in
    one batched call on ``B * K`` states, and the new value is drawn from::

        p(x_i = k | x_{-i}) = softmax_k(-E(x^{(i=k)}) / T).

    ``scan="random"`` picks the site uniformly among the free sites of each chain;
    ``scan="systematic"`` visits sites ``0, 1, ..., D-1, 0, ...`` (a frozen site is left as is).
    One step updates one site, so ``D`` steps make one sweep. Every draw is accepted.

    Args:
        scan: ``"random"`` or ``"systematic"``.
        temperature: ``T`` in ``p(x) ∝ exp(-E(x) / T)``.

    Example:
        >>> energy = lambda x: -(x * torch.tensor([1.0, -1.0, 2.0])).sum(-1)
        >>> x = Gibbs().sample(energy, torch.zeros(4, 3), steps=30, generator=torch.Generator().manual_seed(0))
        >>> x.shape
        torch.Size([4, 3])
    """

    def __init__(self, scan: str = "random", temperature: float = 1.0) -> None:
        super().__init__(temperature)
        if scan not in ("random", "systematic"):
            raise ValueError(f"scan must be 'random' or 'systematic'; got {scan!r}")
        self.scan = scan

    def _check_state(self, x0: Tensor) -> None:
        check_discrete_state(x0)

    def _run(self, energy, x, steps, mask, free, generator):
        h = to_onehot(x)
        batch, sites, categories = h.shape
        rows = torch.arange(batch, device=h.device)
        candidates_onehot = torch.eye(categories, dtype=h.dtype, device=h.device)
        repeated_mask = None if mask is None else mask.repeat(categories, *(1,) * (mask.dim() - 1))
        for step in steps:
            if self.scan == "random":
                logits = torch.zeros(free.shape, dtype=h.dtype, device=h.device)
                site = gumbel_argmax(logits.masked_fill(~free, -torch.inf), generator)
                updated = free.any(1)
            else:
                site = torch.full((batch,), step % sites, dtype=torch.long, device=h.device)
                updated = free[:, step % sites]
            # candidates[k, b] = chain b with its chosen site set to category k
            candidates = h.unsqueeze(0).repeat(categories, 1, 1, 1)
            candidates[:, rows, site] = candidates_onehot.unsqueeze(1)
            states = from_onehot(candidates.reshape(categories * batch, sites, categories), x)
            energies = evaluate_energy(energy, states, repeated_mask).view(categories, batch)
            category = gumbel_argmax(-energies.t() / self.temperature, generator)
            new_h = candidates[category, rows]
            h = torch.where(updated.view(-1, 1, 1), new_h, h)
        return from_onehot(h, x), 1.0
