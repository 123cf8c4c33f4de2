"""A multilayer-perceptron energy for vector states (binary or continuous)."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["MLPEnergy", "TiltedGaussianEnergy"]

_ACTIVATIONS = {
    "silu": nn.SiLU,
    "swish": nn.SiLU,
    "relu": nn.ReLU,
    "elu": nn.ELU,
    "tanh": nn.Tanh,
    "softplus": nn.Softplus,
}


class MLPEnergy(nn.Module):
    r"""Energy :math:`E_\theta(x) = f_\theta(x \odot m)` of vector states ``x [B, D]`` by an MLP.

    :math:`f_\theta` is ``layers`` hidden layers of width ``hidden`` with the given activation and
    a linear scalar output, the architecture of the toy-density experiments of Grathwohl et al.
    (2021) and Schröder et al. (2023). Binary states (float 0/1) and continuous states are used
    as they are. Lower energy means more probable: :math:`p(x) \propto e^{-E(x)}`.

    The optional ``mask [B, D]`` (bool or 0/1; True = free entry) is *applied*: frozen entries
    are zeroed before the network, so their value cannot change the energy.

    Args:
        dim: ``D``, the state dimension.
        hidden: hidden width.
        layers: number of hidden layers (>= 1).
        activation: one of ``silu``/``swish``, ``relu``, ``elu``, ``tanh``, ``softplus``. Smooth
            activations (the default ``silu``) are needed for score matching and Langevin.

    Example:
        >>> energy = MLPEnergy(2, hidden=16, layers=2)
        >>> energy(torch.zeros(5, 2)).shape
        torch.Size([5])
    """

    def __init__(self, dim: int, hidden: int = 256, layers: int = 3, activation: str = "silu") -> None:
        super().__init__()
        if dim < 1 or hidden < 1 or layers < 1:
            raise ValueError(f"dim, hidden and layers must be positive, got {dim}, {hidden}, {layers}")
        if activation not in _ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; choose one of {sorted(_ACTIVATIONS)}")
        widths = [dim] + [hidden] * layers
        blocks: list[nn.Module] = []
        for width_in, width_out in zip(widths[:-1], widths[1:]):
            blocks += [nn.Linear(width_in, width_out), _ACTIVATIONS[activation]()]
        blocks.append(nn.Linear(hidden, 1))
        self.net = nn.Sequential(*blocks)
        self.dim = dim

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Energies ``energy [B]`` of states ``x [B, D]``, with the optional ``mask [B, D]`` applied."""
        if x.dim() != 2 or x.shape[1] != self.dim:
            raise ValueError(f"x must have shape [B, {self.dim}], got {tuple(x.shape)}")
        if mask is not None:
            x = x * mask.to(x.dtype)
        return self.net(x).squeeze(-1)


class TiltedGaussianEnergy(nn.Module):
    r"""Energy of a standard normal tilted by an MLP: :math:`U(z) = E_\theta(z) + \tfrac12\lVert z\rVert^2`,
    so :math:`p(z) \propto e^{-E_\theta(z)}\,\mathcal N(z; 0, I)`, the latent prior of Pang et al.,
    "Learning Latent Space Energy-Based Prior Model", NeurIPS 2020.

    The Gaussian factor keeps the density normalisable whatever :math:`E_\theta` does far from
    the data, and a zero tilt is the plain Gaussian prior.

    Args:
        dim: ``d``, the latent dimension.
        hidden: hidden width of the tilt :math:`E_\theta` (an :class:`MLPEnergy`).
        layers: hidden layers of the tilt.

    Example:
        >>> energy = TiltedGaussianEnergy(2, hidden=8, layers=1)
        >>> _ = energy.tilt.net[-1].weight.data.zero_(), energy.tilt.net[-1].bias.data.zero_()
        >>> energy(torch.tensor([[0.0, 0.0], [1.0, 1.0]])).tolist()  # no tilt: the standard normal's energy
        [0.0, 1.0]
    """

    def __init__(self, dim: int, hidden: int = 128, layers: int = 3) -> None:
        super().__init__()
        self.tilt = MLPEnergy(dim, hidden, layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        r"""Energies :math:`U(z)` ``[B]`` of latent vectors ``z [B, d]``."""
        return self.tilt(z) + 0.5 * (z**2).sum(-1)
