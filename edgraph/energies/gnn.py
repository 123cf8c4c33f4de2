r"""GNN energies of graphs given as edge vectors: :math:`E_\theta(x, m)` over ``x [B, D]``.

The energy reads the upper-triangular edge vector ``x`` and the pair mask ``mask`` (which also
fixes the node count ``n``), rebuilds the dense adjacency :math:`A` and runs dense message passing
from :mod:`torch_geometric.nn.dense` on it. Everything is polynomial in :math:`A`, so the energy
is differentiable in ``x``, as Gibbs-with-Gradients and discrete Langevin samplers need.

Plain message passing cannot count triangles or 4-cycles (it is bounded by the 1-WL test), so the
input node features include structural counts computed from adjacency powers:

* ``"degree"``: :math:`d_i = (A\mathbf{1})_i`, scaled by :math:`1/(N-1)`;
* ``"triangles"``: :math:`t_i = (A^3)_{ii}/2`, triangles through node :math:`i`, scaled by
  :math:`1/\binom{N-1}{2}`;
* ``"cycles4"``: 4-cycles through node :math:`i`,
  :math:`c_i = \tfrac12\big[(A^4)_{ii} - d_i^2 - \sum_j A_{ij}(d_j - 1)\big]`, scaled by :math:`1/N^2`;
* ``"size"``: :math:`n/N`, so the energy is conditioned on the node count.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch_geometric.nn import DenseGINConv

from edgraph.graphs import edges_to_adj, node_mask_from_pairs, nodes_from_pairs, num_pairs, size_buckets

#: Names of the structural node features :func:`structural_features` computes (see the module docstring).
NODE_FEATURES = ("degree", "triangles", "cycles4", "size")
MIN_GROUP = 64


def structural_features(adj: Tensor, node_mask: Tensor, names: Sequence[str], max_nodes: int | None = None) -> Tensor:
    r"""Node features ``[B, N, F]`` from ``adj [B, N, N]``: the counts named in ``names``.

    Counts are scaled by constants of ``max_nodes`` (default: ``N``), so a batch padded to fewer
    nodes than ``max_nodes`` gets the same features as one padded to ``max_nodes``.

    >>> adj = torch.ones(1, 3, 3) - torch.eye(3)  # a triangle
    >>> structural_features(adj, torch.ones(1, 3, dtype=torch.bool), ["degree", "triangles"])
    tensor([[[1., 1.],
             [1., 1.],
             [1., 1.]]])
    """
    unknown = set(names) - set(NODE_FEATURES)
    if unknown:
        raise ValueError(f"unknown node features {sorted(unknown)}; choose from {NODE_FEATURES}")
    big_n = max_nodes if max_nodes is not None else adj.shape[-1]
    adj2 = adj @ adj
    columns = []
    for name in names:
        if name == "degree":
            columns.append(adj.sum(-1) / max(big_n - 1, 1))
        elif name == "triangles":
            columns.append(node_triangles(adj, adj2) / max((big_n - 1) * (big_n - 2) / 2, 1))
        elif name == "cycles4":
            columns.append(node_cycles4(adj, adj2) / big_n**2)
        else:
            size = node_mask.sum(-1, keepdim=True).to(adj.dtype) / big_n
            columns.append(size.expand(adj.shape[:-1]))
    return torch.stack(columns, -1) * node_mask[..., None]


def node_triangles(adj: Tensor, adj2: Tensor | None = None) -> Tensor:
    r"""Triangles through each node, :math:`t_i = (A^3)_{ii}/2`, of ``adj [B, N, N]``: ``[B, N]``.

    ``adj2`` is :math:`A^2` when the caller has it already.

    >>> node_triangles(torch.ones(1, 3, 3) - torch.eye(3))
    tensor([[1., 1., 1.]])
    """
    adj2 = adj @ adj if adj2 is None else adj2
    return (adj2 * adj).sum(-1) / 2  # diag(A^3)/2 without forming A^3


def node_cycles4(adj: Tensor, adj2: Tensor | None = None) -> Tensor:
    r"""4-cycles through each node of ``adj [B, N, N]``: ``[B, N]``,
    :math:`c_i = \tfrac12\big[(A^4)_{ii} - d_i^2 - \sum_j A_{ij}(d_j - 1)\big]`.

    ``adj2`` is :math:`A^2` when the caller has it already.

    >>> node_cycles4(torch.ones(1, 4, 4) - torch.eye(4))  # K4: 3 four-cycles, each through every node
    tensor([[3., 3., 3., 3.]])
    """
    adj2 = adj @ adj if adj2 is None else adj2
    degree = adj.sum(-1)
    walks4 = (adj2 * adj2).sum(-1)  # diag(A^4) = sum_j (A^2)_ij^2
    return (walks4 - degree**2 - (adj * (degree[:, None, :] - 1)).sum(-1)) / 2


def mlp(sizes: Sequence[int]) -> nn.Sequential:
    """Linear layers of the given widths with SiLU between them (none after the last).

    >>> mlp([4, 8, 1])
    Sequential(
      (0): Linear(in_features=4, out_features=8, bias=True)
      (1): SiLU()
      (2): Linear(in_features=8, out_features=1, bias=True)
    )
    """
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.SiLU())
    return nn.Sequential(*layers)


class GraphReadout(nn.Module):
    r"""Permutation-invariant vector of graphs padded to ``max_nodes``: ``f(x, mask) -> [B, F]``.

    .. math::
        h^{(0)} = \mathrm{Lin}(f(A)),\quad
        h^{(l+1)} = h^{(l)} + \mathrm{SiLU}(\mathrm{Conv}(h^{(l)}, A)),\quad
        f = \mathrm{MLP}\big(\tfrac1N\textstyle\sum_i h_i,\ \tfrac1n\sum_i h_i,\ \tfrac nN\big)

    with :math:`f(A)` the structural features of :func:`structural_features` and Conv a dense
    GIN layer (Xu et al. 2019) over real nodes only; padding nodes never enter. With
    ``out_features = 1`` it is :class:`GraphEnergy`; wider, it encodes graphs (the encoder of
    :class:`~edgraph.models.LatentGraphEBM`).

    A class-conditional network (``num_classes = K > 0``) adds a learned label embedding
    :math:`u_c` to every real node's :math:`h^{(0)}`; the extra label :math:`c = K` means "no
    label", which ``forward`` reads when given no labels.

    Args:
        max_nodes: ``N``, the largest graph; edge vectors have ``N(N-1)/2`` entries, or
            ``N'(N'-1)/2`` for a batch padded to only ``N' < N`` nodes (same outputs).
        out_features: ``F``, the size of each graph's output vector.
        hidden: width of node embeddings.
        layers: number of message-passing layers.
        features: structural node features, a subset of ``NODE_FEATURES``.
        num_classes: ``K``, the class labels ``forward`` takes (``0``: unconditional).
        buckets: a batch is split into this many groups of similar node counts, each padded
            only to its largest graph (:func:`~edgraph.graphs.size_buckets`). The outputs are
            the same for any value; a batch of mixed sizes costs less work and memory split
            (``evaluation/bench_training.py`` measures by how much).
            Batches too small to gain (under ``MIN_GROUP`` graphs per group) are not split.

    >>> readout = GraphReadout(max_nodes=4, out_features=5, hidden=8, layers=2)
    >>> x, mask = torch.ones(3, 6), torch.ones(3, 6, dtype=torch.bool)
    >>> readout(x, mask).shape
    torch.Size([3, 5])
    """

    def __init__(
        self,
        max_nodes: int,
        out_features: int,
        hidden: int = 64,
        layers: int = 4,
        features: Sequence[str] = ("degree", "triangles", "size"),
        num_classes: int = 0,
        buckets: int = 3,
    ) -> None:
        super().__init__()
        structural_features(torch.zeros(1, 1, 1), torch.ones(1, 1, dtype=torch.bool), features)
        if num_classes < 0:
            raise ValueError(f"num_classes must be 0 (unconditional) or a number of classes, got {num_classes}")
        self.max_nodes = max_nodes
        self.features = tuple(features)
        self.num_classes = num_classes
        self.buckets = buckets
        self.embed = nn.Linear(len(self.features) + 1, hidden)
        self.label_embed = nn.Embedding(num_classes + 1, hidden) if num_classes else None
        self.convs = nn.ModuleList(DenseGINConv(mlp([hidden, hidden, hidden]), train_eps=True) for _ in range(layers))
        self.readout = mlp([2 * hidden + 1, hidden, hidden, out_features])

    def forward(self, x: Tensor, mask: Tensor, labels: Tensor | None = None) -> Tensor:
        """Outputs ``[B, F]`` of edge vectors ``x [B, D]`` with pair masks ``mask [B, D]``; a
        class-conditional network also reads ``labels [B]`` in ``0..K`` (``K``: no label, the default)."""
        labels = self._check_labels(labels, len(x), x.device)
        padded = int(nodes_from_pairs(torch.tensor(x.shape[-1])))
        if num_pairs(padded) != x.shape[-1] or padded > self.max_nodes:
            raise ValueError(
                f"edge vectors have {x.shape[-1]} entries; this network expects "
                f"{num_pairs(self.max_nodes)} (max_nodes={self.max_nodes}) or the pairs "
                "of fewer nodes"
            )
        # Groups of fewer than MIN_GROUP graphs cost more in per-call overhead than their padding
        # saves (evaluation/bench_training.py times PCD's 32 chains both ways).
        buckets = min(self.buckets, len(x) // MIN_GROUP)
        if buckets < 2 or mask.shape != x.shape:  # no sorting in the sampler's hot path when not splitting
            return self._padded_output(x, mask, labels)
        groups = size_buckets(mask, padded, buckets)
        if len(groups[0][1]) == x.shape[-1]:  # the smallest group is already full size: nothing to trim
            return self._padded_output(x, mask, labels)
        outputs = torch.cat(
            [
                self._padded_output(x[rows][:, pairs], mask[rows][:, pairs], None if labels is None else labels[rows])
                for rows, pairs in groups
            ]
        )
        return outputs[torch.cat([rows for rows, _ in groups]).argsort()]

    def _check_labels(self, labels: Tensor | None, batch: int, device: torch.device) -> Tensor | None:
        """The labels ``[B]`` a class-conditional network reads (all "no label" when ``None``)."""
        if not self.num_classes:
            if labels is not None:
                raise ValueError("this network is unconditional (num_classes=0); it takes no labels")
            return None
        if labels is None:
            return torch.full((batch,), self.num_classes, dtype=torch.long, device=device)
        if labels.shape != (batch,) or labels.dtype.is_floating_point or labels.dtype == torch.bool:
            raise ValueError(f"labels must be integers of shape ({batch},), got {labels.dtype} {tuple(labels.shape)}")
        # On an accelerator this check would wait for the device at every sampler step; labels
        # reach it there from fit() and GuidedEnergy, which have checked them already.
        on_cpu = labels.device.type == "cpu"
        if on_cpu and len(labels) and not ((labels >= 0) & (labels <= self.num_classes)).all():
            raise ValueError(f"labels must lie in 0..{self.num_classes} ({self.num_classes}: no label)")
        return labels.long()

    def _padded_output(self, x: Tensor, mask: Tensor, labels: Tensor | None = None) -> Tensor:
        padded = int(nodes_from_pairs(torch.tensor(x.shape[-1])))
        node_mask = node_mask_from_pairs(mask, padded)
        adj = edges_to_adj(x * mask, padded)
        feats = structural_features(adj, node_mask, self.features, self.max_nodes)
        ones = node_mask[..., None].to(x.dtype)
        h = self.embed(torch.cat([feats, ones], -1))
        if self.label_embed is not None and labels is not None:
            h = h + self.label_embed(labels)[:, None, :]
        h = h * ones
        for conv in self.convs:
            h = h + nn.functional.silu(conv(h, adj, node_mask)) * ones
        n = ones.sum(1)
        pooled = torch.cat([h.sum(1) / self.max_nodes, h.sum(1) / n.clamp(min=1), n / self.max_nodes], -1)
        # the readout runs in float32 even under mixed precision: ED compares energies through
        # their differences, which bfloat16's 8-bit mantissa would round away
        with torch.autocast(device_type=x.device.type, enabled=False):
            return self.readout(pooled.to(torch.promote_types(pooled.dtype, torch.float32)))


class GraphEnergy(GraphReadout):
    r"""Permutation-invariant energy of graphs padded to ``max_nodes``: ``E(x, mask) -> [B]``,
    the :class:`GraphReadout` with one output.

    A class-conditional energy :math:`E(x, c)` (``num_classes = K > 0``) adds a learned label
    embedding to every real node's first embedding; the extra label :math:`c = K` means "no
    label", :math:`E(x, \varnothing)`, which ``forward`` reads when given no labels.

    Args:
        max_nodes, hidden, layers, features, num_classes, buckets: as in :class:`GraphReadout`.

    >>> energy = GraphEnergy(max_nodes=4, hidden=8, layers=2)
    >>> x, mask = torch.ones(3, 6), torch.ones(3, 6, dtype=torch.bool)
    >>> energy(x, mask).shape
    torch.Size([3])
    """

    def __init__(
        self,
        max_nodes: int,
        hidden: int = 64,
        layers: int = 4,
        features: Sequence[str] = ("degree", "triangles", "size"),
        num_classes: int = 0,
        buckets: int = 3,
    ) -> None:
        super().__init__(max_nodes, 1, hidden, layers, features, num_classes, buckets)

    def forward(self, x: Tensor, mask: Tensor, labels: Tensor | None = None) -> Tensor:
        """Energies ``[B]`` of edge vectors ``x [B, D]`` with pair masks ``mask [B, D]``; a
        class-conditional energy also reads ``labels [B]`` in ``0..K`` (``K``: no label, the default)."""
        return super().forward(x, mask, labels).squeeze(-1)
