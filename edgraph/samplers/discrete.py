r"""A one-hot view of discrete states, shared by Gibbs, GWG, DULA and DMALA.

A binary state ``x [B, D]`` (0/1) is viewed as one-hot ``h = [1 - x, x]``, ``[B, D, 2]``; a
categorical state is already one-hot, ``[B, D, K]``. In this view a move sets site ``i`` to
category ``k``, and the first-order estimate of the change of ``log p`` (Grathwohl et al. 2021,
eq. 4) is::

    d_{i,k}(x) = -(dE/dh_{i,k} - dE/dh_{i,cur(i)}) / T,

which for binary states is ``d_i = -(1 - 2 x_i) dE/dx_i / T`` at ``k != x_i``.
"""

from __future__ import annotations

import torch
from torch import Tensor


def check_discrete_state(x0: Tensor) -> None:
    """Raise ValueError unless ``x0`` is binary 0/1 [B, D] or one-hot [B, D, K].

    Example:
        >>> check_discrete_state(torch.tensor([[0.0, 1.0]]))
    """
    if x0.dim() == 2:
        if not ((x0 == 0) | (x0 == 1)).all():
            raise ValueError("binary states x0 [B, D] must contain only 0 and 1")
    elif x0.dim() == 3:
        if x0.shape[-1] < 2:
            raise ValueError(f"one-hot states need K >= 2 categories; got K = {x0.shape[-1]}")
        if not (((x0 == 0) | (x0 == 1)).all() and (x0.sum(-1) == 1).all()):
            raise ValueError("categorical states x0 [B, D, K] must be one-hot along the last dimension")
    else:
        raise ValueError(
            f"discrete samplers take binary [B, D] or one-hot [B, D, K] states; got shape {tuple(x0.shape)}"
        )


def to_onehot(x: Tensor) -> Tensor:
    """One-hot view [B, D, K] of a binary [B, D] or one-hot [B, D, K] state.

    Example:
        >>> to_onehot(torch.tensor([[0.0, 1.0]]))
        tensor([[[1., 0.],
                 [0., 1.]]])
    """
    return torch.stack([1 - x, x], dim=-1) if x.dim() == 2 else x


def from_onehot(h: Tensor, like: Tensor) -> Tensor:
    """Inverse of :func:`to_onehot`: back to the representation of ``like``.

    Example:
        >>> from_onehot(torch.tensor([[[1.0, 0.0], [0.0, 1.0]]]), torch.zeros(1, 2))
        tensor([[0., 1.]])
    """
    return h[..., 1] if like.dim() == 2 else h


def onehot_grad(grad: Tensor) -> Tensor:
    """Gradient in the one-hot view: ``[0, dE/dx]`` for binary states, unchanged for one-hot."""
    return torch.stack([torch.zeros_like(grad), grad], dim=-1) if grad.dim() == 2 else grad


def squared_move_length(x: Tensor) -> float:
    r"""``||x'_i - x_i||^2`` of changing one site: 1 for a binary entry, 2 for a one-hot vector."""
    return 1.0 if x.dim() == 2 else 2.0


def log_ratio_estimate(h: Tensor, grad: Tensor, temperature: float) -> Tensor:
    r"""``d_{i,k}(x)`` [B, D, K], the first-order estimate of ``log p(x with site i = k) - log p(x)``.

    ``h`` is the one-hot view and ``grad`` the one-hot-view gradient of ``E``; ``d`` is 0 at the
    current category.

    Example:
        >>> h = to_onehot(torch.tensor([[0.0, 1.0]]))
        >>> log_ratio_estimate(h, onehot_grad(torch.tensor([[2.0, 3.0]])), 1.0)
        tensor([[[ 0., -2.],
                 [ 3.,  0.]]])
    """
    current = (grad * h).sum(-1, keepdim=True)
    return (current - grad) / temperature


def site_log_prob(log_probs: Tensor, h: Tensor) -> Tensor:
    """Pick, at every site, the entry of ``log_probs`` [B, D, K] at the category of ``h``: [B, D]."""
    return log_probs.gather(-1, h.argmax(-1, keepdim=True)).squeeze(-1)
