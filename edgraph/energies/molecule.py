r"""Energy of typed molecular graphs: :math:`E_\theta(\text{atoms}, \text{bonds}, m) \to [B]`.

Inputs are the representation of :mod:`edgraph.chem`: one-hot atom types
``atoms [B, N, Ka]``, one-hot bond types over the upper-triangular pairs ``bonds [B, D, Kb]``
(channel 0 = no bond, channel :math:`k` = bond order :math:`k`) and ``node_mask [B, N]``.
Each bond channel :math:`k \ge 1` becomes a dense adjacency :math:`A_k` over real atoms; message
passing is relational (one dense GIN per bond type, Xu et al. 2019; Schlichtkrull et al. 2018):

.. math::
    h^{(l+1)} = h^{(l)} + \mathrm{MLP}_l\Big(\sum_{k \ge 1} W_{l,k}\big((1+\epsilon_{l,k})h^{(l)}
    + A_k h^{(l)}\big)\Big)

Node inputs are the atom types, the valence :math:`\sum_k k (A_k \mathbf 1)_i` (the quantity
chemistry constrains), and the structural counts of :func:`~edgraph.energies.gnn.structural_features`
on :math:`A = \sum_{k \ge 1} A_k` (degree, triangles, 4-cycles through the atom, size ``n/N``).
Everything is polynomial in the one-hot entries, so the energy is differentiable in both inputs
(as GWG / discrete Langevin samplers need), permutation invariant, and blind to whatever the
padding rows and pairs hold.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import torch
from torch import Tensor, nn
from torch_geometric.nn import DenseGINConv

from edgraph.energies.gnn import mlp, structural_features
from edgraph.graphs import edges_to_adj, num_pairs, pair_mask

MOLECULE_FEATURES = ("degree", "triangles", "cycles4", "size")


class MoleculeReadout(nn.Module):
    r"""Permutation-invariant vector of typed graphs padded to ``max_atoms``:
    ``forward(atoms [B, N, Ka], bonds [B, D, Kb], node_mask [B, N]) -> [B, F]``.

    Readout: an MLP of :math:`(\frac1N\sum_i h_i,\ \frac1n\sum_i h_i,\ \frac nN)` over real
    atoms. With ``out_features = 1`` it is :class:`MoleculeEnergy`; wider, it encodes molecules
    (the encoder of :class:`~edgraph.models.latent_molecule.LatentMoleculeEBM`).

    Args:
        max_atoms: ``N``; bond tensors have ``N(N-1)/2`` pairs.
        out_features: ``F``, the size of each molecule's output vector.
        num_atom_types: ``Ka``.
        num_bond_types: ``Kb``, "no bond" included (channel 0).
        hidden: width of atom embeddings.
        layers: message-passing layers.
        features: structural atom features, a subset of ``MOLECULE_FEATURES``.

    >>> from edgraph.chem import mols_to_dense
    >>> atoms, bonds, node_mask = mols_to_dense(["CCO", "C=O"], max_atoms=9)
    >>> MoleculeReadout(9, 6, num_atom_types=4, hidden=16, layers=2)(atoms, bonds, node_mask).shape
    torch.Size([2, 6])
    """

    def __init__(
        self,
        max_atoms: int,
        out_features: int,
        num_atom_types: int,
        num_bond_types: int = 4,
        hidden: int = 64,
        layers: int = 4,
        features: Sequence[str] = MOLECULE_FEATURES,
    ) -> None:
        super().__init__()
        if num_bond_types < 2:
            raise ValueError(f"num_bond_types counts 'no bond' too and must be >= 2, got {num_bond_types}")
        structural_features(torch.zeros(1, 1, 1), torch.ones(1, 1, dtype=torch.bool), features)
        self.max_atoms, self.num_atom_types, self.num_bond_types = max_atoms, num_atom_types, num_bond_types
        self.features = tuple(features)
        self.embed = nn.Linear(num_atom_types + len(self.features) + 1, hidden)
        self.convs = nn.ModuleList(
            nn.ModuleList(
                DenseGINConv(nn.Linear(hidden, hidden, bias=False), train_eps=True) for _ in range(num_bond_types - 1)
            )
            for _ in range(layers)
        )
        self.updates = nn.ModuleList(mlp([hidden, hidden, hidden]) for _ in range(layers))
        self.readout = mlp([2 * hidden + 1, hidden, hidden, out_features])

    def _check(self, atoms: Tensor, bonds: Tensor, node_mask: Tensor) -> None:
        expected = (
            (self.max_atoms, self.num_atom_types),
            (num_pairs(self.max_atoms), self.num_bond_types),
            (self.max_atoms,),
        )
        for name, tensor, shape in zip(("atoms", "bonds", "node_mask"), (atoms, bonds, node_mask), expected):
            if tuple(tensor.shape[1:]) != shape or tensor.shape[0] != atoms.shape[0]:
                raise ValueError(
                    f"{name} must be [B, {', '.join(map(str, shape))}] for this energy, got {tuple(tensor.shape)}"
                )

    def forward(self, atoms: Tensor, bonds: Tensor, node_mask: Tensor) -> Tensor:
        self._check(atoms, bonds, node_mask)
        node_mask = node_mask.bool()
        real = node_mask[..., None].to(atoms.dtype)
        typed = bonds[..., 1:] * pair_mask(node_mask)[..., None].to(bonds.dtype)  # [B, D, Kb-1]
        adjs = edges_to_adj(typed.movedim(-1, 1), self.max_atoms)  # [B, Kb-1, N, N]
        orders = torch.arange(1, self.num_bond_types, dtype=adjs.dtype, device=adjs.device)
        valence = torch.einsum("bkij,k->bi", adjs, orders) / (self.num_bond_types - 1)
        structure = structural_features(adjs.sum(1), node_mask, self.features)
        h = self.embed(torch.cat([atoms * real, structure, valence[..., None]], -1)) * real
        for convs, update in zip(self.convs, self.updates):
            message = sum(conv(h, adjs[:, k], node_mask) for k, conv in enumerate(cast(nn.ModuleList, convs)))
            h = h + update(message) * real
        n = real.sum(1)
        pooled = torch.cat([h.sum(1) / self.max_atoms, h.sum(1) / n.clamp(min=1), n / self.max_atoms], -1)
        return self.readout(pooled)


class MoleculeEnergy(MoleculeReadout):
    r"""Permutation-invariant energy of typed graphs padded to ``max_atoms``: a
    :class:`MoleculeReadout` with one output,
    ``forward(atoms [B, N, Ka], bonds [B, D, Kb], node_mask [B, N]) -> energy [B]``
    (lower = more probable).

    Args:
        max_atoms: ``N``; bond tensors have ``N(N-1)/2`` pairs.
        num_atom_types: ``Ka``.
        num_bond_types: ``Kb``, "no bond" included (channel 0).
        hidden: width of atom embeddings.
        layers: message-passing layers.
        features: structural atom features, a subset of ``MOLECULE_FEATURES``.

    >>> from edgraph.chem import mols_to_dense
    >>> atoms, bonds, node_mask = mols_to_dense(["CCO", "C=O"], max_atoms=9)
    >>> MoleculeEnergy(max_atoms=9, num_atom_types=4, hidden=16, layers=2)(atoms, bonds, node_mask).shape
    torch.Size([2])
    """

    def __init__(
        self,
        max_atoms: int,
        num_atom_types: int,
        num_bond_types: int = 4,
        hidden: int = 64,
        layers: int = 4,
        features: Sequence[str] = MOLECULE_FEATURES,
    ) -> None:
        super().__init__(max_atoms, 1, num_atom_types, num_bond_types, hidden, layers, features)

    def forward(self, atoms: Tensor, bonds: Tensor, node_mask: Tensor) -> Tensor:
        """Energies ``energy [B]`` of one-hot ``atoms [B, N, Ka]`` and ``bonds [B, D, Kb]`` with the
        bool ``node_mask [B, N]``."""
        return super().forward(atoms, bonds, node_mask).squeeze(-1)
