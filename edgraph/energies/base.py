"""The calling convention every energy follows, shared by objectives and samplers."""

from __future__ import annotations

from collections.abc import Callable

from torch import Tensor

Energy = Callable[..., Tensor]


def evaluate_energy(energy: Energy, x: Tensor, mask: Tensor | None) -> Tensor:
    r"""Energy of a batch, ``energy(x)`` when ``mask`` is None, else ``energy(x, mask)``.

    Raises ``ValueError`` unless the result holds one value per state, shape ``[B]``.

    Example:
        >>> import torch
        >>> evaluate_energy(lambda x: x.sum(-1), torch.ones(2, 3), None)
        tensor([3., 3.])
    """
    value = energy(x) if mask is None else energy(x, mask)
    if value.shape != (x.shape[0],):
        raise ValueError(
            f"energy must return one value per sample (one value per state), shape ({x.shape[0]},); "
            f"got {tuple(value.shape)}"
        )
    return value
