r"""Class-conditional energies at sampling time: one label, with or without guidance.

A class-conditional energy :math:`E_\theta(x, c)` trained together with its unlabelled version
:math:`E_\theta(x, \varnothing)` (labels dropped at random during training) gives, at guidance
weight :math:`w \ge 0`,

.. math::
    E_w(x) = (1 + w)\, E_\theta(x, c) - w\, E_\theta(x, \varnothing),
    \qquad p_w(x) \propto p(x \mid c)^{1+w}\, p(x)^{-w} \propto p(x \mid c)\, p(c \mid x)^{w},

the energy form of classifier-free guidance (Ho & Salimans, "Classifier-Free Diffusion
Guidance", 2022). For an energy-based model the mixture is an energy like any other, so every
sampler targets :math:`p_w` exactly (with its Metropolis test where it has one); ``w = 0`` is the
plain conditional :math:`p(x \mid c)`, and larger ``w`` sharpens towards what tells class
:math:`c` apart from the others.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor, nn


class GuidedEnergy(nn.Module):
    r"""The energy :math:`E_w(x) = (1 + w) E(x, c) - w E(x, \varnothing)` of one label ``c``.

    ``energy(x, mask, labels) -> [B]`` reads labels ``0..K``, ``K`` meaning no label
    (:class:`~edgraph.energies.GraphEnergy` with ``num_classes=K``); ``label=None`` gives the
    unlabelled energy :math:`E(x, \varnothing)` (guidance must then be 0).

    >>> energy = lambda x, mask, labels: x.sum(-1) * labels   # E(x, c) = c * sum(x); label 2 = no label
    >>> x = torch.ones(1, 3)
    >>> GuidedEnergy(energy, num_classes=2, label=1, guidance=0.5)(x, None)  # 1.5 * 3 - 0.5 * 6
    tensor([1.5000])
    """

    def __init__(
        self, energy: Callable[..., Tensor], num_classes: int, label: int | None, guidance: float = 0.0
    ) -> None:
        super().__init__()
        guidance = float(guidance)
        if not (math.isfinite(guidance) and guidance >= 0):
            raise ValueError(f"guidance must be a non-negative number, got {guidance}")
        if label is None and guidance:
            raise ValueError("guidance needs a label: it weighs E(x, label) against E(x, no label)")
        if label is not None and not (
            isinstance(label, int) and not isinstance(label, bool) and 0 <= label < num_classes
        ):
            raise ValueError(f"label must be a class in 0..{num_classes - 1}, got {label!r}")
        self.energy = energy
        self.num_classes = num_classes
        self.label = num_classes if label is None else label
        self.guidance = guidance

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        r"""Energies :math:`E_w(x)` ``[B]`` of states ``x [B, D]`` with pair masks ``mask [B, D]``."""
        labels = torch.full((len(x),), self.label, dtype=torch.long, device=x.device)
        conditional = self.energy(x, mask, labels)
        if not self.guidance:
            return conditional
        unlabelled = self.energy(x, mask, torch.full_like(labels, self.num_classes))
        return (1 + self.guidance) * conditional - self.guidance * unlabelled

    def extra_repr(self) -> str:
        return f"label={self.label}, guidance={self.guidance}"
