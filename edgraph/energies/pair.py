r"""A pair-level energy: PPGN blocks (Maron, Ben-Hamu, Serviansky, Lipman 2019, "Provably Powerful
Graph Networks") over the dense adjacency.

Node-level message passing is bounded by the 1-WL test and sees global structure (communities,
blocks, which pairs share many neighbours) only through the counts it is given. A PPGN block
keeps a feature vector per node *pair* and multiplies pair-feature matrices, which is as
expressive as the 3-WL test: after :math:`l` blocks a pair's features read walks of up to
:math:`2^l` steps. Everything is polynomial in :math:`A` and smooth activations, so the energy is
differentiable in the edge vector, as Gibbs-with-Gradients and discrete Langevin samplers need.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from edgraph.energies.gnn import DenseGraphEnergy, mlp


class PairEnergy(DenseGraphEnergy):
    r"""Permutation-invariant PPGN energy of graphs padded to ``max_nodes``: ``E(x, mask) -> [B]``.

    With :math:`H^{(l)} \in \mathbb{R}^{n \times n \times C}` the pair features (real pairs only),

    .. math::
        H^{(0)} = \mathrm{Lin}\big(A,\ A^2/N,\ I,\ \mathbb{1},\ \mathrm{diag}(f(A))\big),\qquad
        [M_1, M_2] = \mathrm{SiLU}(\mathrm{Lin}(H^{(l)})),

        H^{(l+1)} = H^{(l)} + \mathrm{SiLU}\big(\mathrm{Lin}(H^{(l)}) + \mathrm{Lin}(M_1 M_2 / N)\big),

        E = \mathrm{MLP}\big(\tfrac1N \textstyle\sum_i H_{ii},\
            \tfrac1{N^2} \sum_{i \ne j} H_{ij},\ \tfrac nN\big)

    where :math:`M_1 M_2` multiplies the :math:`n \times n` matrices of each channel (real nodes
    only, so padding never enters a sum), and
    :math:`f(A)` are the node features of :func:`~edgraph.energies.gnn.structural_features` on the
    diagonal. Dividing by the constant :math:`N` (not :math:`n`) keeps a graph's energy the same
    in a batch padded to fewer nodes.

    Args:
        max_nodes: ``N``, the largest graph; edge vectors have ``N(N-1)/2`` entries, or
            ``N'(N'-1)/2`` for a batch padded to only ``N' < N`` nodes (same energies).
        hidden: ``C``, pair-feature channels.
        layers: number of PPGN blocks.
        features: structural node features placed on the diagonal.
        buckets: size groups a batch is split into (:class:`~edgraph.energies.gnn.DenseGraphEnergy`).

    >>> energy = PairEnergy(max_nodes=4, hidden=8, layers=2)
    >>> x, mask = torch.ones(3, 6), torch.ones(3, 6, dtype=torch.bool)
    >>> energy(x, mask).shape
    torch.Size([3])
    """

    def __init__(
        self,
        max_nodes: int,
        hidden: int = 16,
        layers: int = 3,
        features: Sequence[str] = ("degree", "triangles", "size"),
        buckets: int = 3,
    ) -> None:
        super().__init__(max_nodes, features, buckets)
        self.embed = nn.Linear(len(self.features) + 4, hidden)
        self.mix = nn.ModuleList(nn.Linear(hidden, 2 * hidden) for _ in range(layers))
        self.keep = nn.ModuleList(nn.Linear(hidden, hidden) for _ in range(layers))
        self.take = nn.ModuleList(nn.Linear(hidden, hidden, bias=False) for _ in range(layers))
        self.readout = mlp([2 * hidden + 1, 64, 64, 1])

    def _padded_energy(self, x: Tensor, mask: Tensor) -> Tensor:
        adj, node_mask, feats = self._dense_inputs(x, mask)
        big_n = self.max_nodes
        real = node_mask.to(x.dtype)
        pairs = (real[:, :, None] * real[:, None, :])[..., None]
        eye = torch.eye(adj.shape[-1], dtype=x.dtype, device=x.device)
        inputs = [adj[..., None], (adj @ adj / big_n)[..., None], eye[..., None] * pairs, pairs]
        diagonal = torch.diag_embed(feats.transpose(1, 2)).permute(0, 2, 3, 1)  # f_i at (i, i)
        h = self.embed(torch.cat([*inputs, diagonal], -1)) * pairs
        for mix, keep, take in zip(self.mix, self.keep, self.take):
            left, right = (nn.functional.silu(mix(h)) * pairs).permute(0, 3, 1, 2).chunk(2, 1)
            product = (left @ right).permute(0, 2, 3, 1) / big_n
            h = h + nn.functional.silu(keep(h) + take(product)) * pairs
        on_diagonal = torch.diagonal(h, dim1=1, dim2=2).sum(-1)
        off_diagonal = h.sum((1, 2)) - on_diagonal
        n = real.sum(1, keepdim=True)
        return self.readout(torch.cat([on_diagonal / big_n, off_diagonal / big_n**2, n / big_n], -1)).squeeze(-1)
