"""Ising model energy on binary states."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class IsingEnergy(nn.Module):
    r"""Ising energy of binary states ``x [B, D]`` (0/1) with spins ``s = 2x - 1``::

        E(x) = -(s^T J s + b^T s),   so   log p(x) = s^T J s + b^T s - log Z.

    ``J`` is stored as a learnable parameter and used symmetrised with a zero diagonal,
    ``J_eff = (J + J^T) / 2 - diag``; ``b`` is a learnable bias.

    Args:
        num_spins: ``D``; with no ``coupling``/``bias`` given, ``J`` and ``b`` start at zero.
        coupling: ``J [D, D]``, symmetric with zero diagonal.
        bias: ``b [D]``.

    Example:
        >>> energy = IsingEnergy(coupling=torch.tensor([[0.0, 1.0], [1.0, 0.0]]))
        >>> energy(torch.tensor([[1.0, 1.0], [1.0, 0.0]]))
        tensor([-2.,  2.], grad_fn=<NegBackward0>)
    """

    def __init__(
        self,
        num_spins: int | None = None,
        coupling: Tensor | None = None,
        bias: Tensor | None = None,
    ) -> None:
        super().__init__()
        sizes = {int(num_spins)} if num_spins is not None else set()
        if coupling is not None:
            coupling = _as_float(coupling)
            if coupling.dim() != 2 or coupling.shape[0] != coupling.shape[1]:
                raise ValueError(f"coupling must be a square matrix [D, D]; got {tuple(coupling.shape)}")
            if not torch.allclose(coupling, coupling.t()):
                raise ValueError("coupling must be symmetric")
            if coupling.diagonal().abs().max() > 0:
                raise ValueError("coupling must have a zero diagonal")
            sizes.add(coupling.shape[0])
        if bias is not None:
            bias = _as_float(bias)
            if bias.dim() != 1:
                raise ValueError(f"bias must be a vector [D]; got {tuple(bias.shape)}")
            sizes.add(bias.shape[0])
        if len(sizes) != 1:
            raise ValueError(
                "give num_spins, coupling or bias, with consistent sizes; got sizes "
                f"{sorted(sizes) if sizes else 'none'}"
            )
        (size,) = sizes
        if size < 1:
            raise ValueError(f"num_spins must be positive; got {size}")
        dtype = next((t.dtype for t in (coupling, bias) if t is not None), torch.get_default_dtype())
        self.coupling = nn.Parameter(
            coupling.clone().to(dtype) if coupling is not None else torch.zeros(size, size, dtype=dtype)
        )
        self.bias = nn.Parameter(bias.clone().to(dtype) if bias is not None else torch.zeros(size, dtype=dtype))

    @property
    def num_spins(self) -> int:
        """``D``, the number of spins."""
        return self.bias.shape[0]

    def coupling_matrix(self) -> Tensor:
        """The effective coupling ``J_eff [D, D]``: symmetric with a zero diagonal, whatever
        training has made of the stored parameter.

        >>> energy = IsingEnergy(2)
        >>> energy.coupling.data = torch.tensor([[1.0, 2.0], [0.0, 1.0]])
        >>> energy.coupling_matrix().tolist()
        [[0.0, 1.0], [1.0, 0.0]]
        """
        symmetric = (self.coupling + self.coupling.t()) / 2
        return symmetric - torch.diag_embed(symmetric.diagonal())

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        """Energies ``energy [B]`` of binary states ``x [B, D]``; ``mask`` is accepted and ignored."""
        if x.dim() != 2 or x.shape[1] != self.num_spins:
            raise ValueError(f"x must have shape [B, {self.num_spins}]; got {tuple(x.shape)}")
        spins = 2 * x - 1
        pair_term = ((spins @ self.coupling_matrix()) * spins).sum(-1)
        return -(pair_term + spins @ self.bias)

    @classmethod
    def lattice(cls, dim: int, sigma: float) -> IsingEnergy:
        r"""Periodic ``dim x dim`` lattice Ising model, ``J = sigma * A`` (``A`` the 4-neighbour
        torus adjacency, entries 0/1), zero bias; ``D = dim²`` spins, site ``(r, c)`` is ``r * dim + c``.

        Example:
            >>> IsingEnergy.lattice(3, 0.2).coupling_matrix().sum(1)
            tensor([0.8000, 0.8000, 0.8000, 0.8000, 0.8000, 0.8000, 0.8000, 0.8000, 0.8000],
                   grad_fn=<SumBackward1>)
        """
        if dim < 2:
            raise ValueError(f"lattice dim must be at least 2; got {dim}")
        index = torch.arange(dim * dim).view(dim, dim)
        adjacency = torch.zeros(dim * dim, dim * dim)
        for shifted in (index.roll(1, 0), index.roll(1, 1)):
            adjacency[index.flatten(), shifted.flatten()] = 1.0
            adjacency[shifted.flatten(), index.flatten()] = 1.0
        return cls(coupling=float(sigma) * adjacency)


def _as_float(values: Tensor) -> Tensor:
    """A floating-point tensor of ``values`` (integers become the default dtype)."""
    values = torch.as_tensor(values)
    return values if values.is_floating_point() else values.to(torch.get_default_dtype())
