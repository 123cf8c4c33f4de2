"""Experimental pair-level (PPGN-style) energy, patched into GraphEBM for validation runs."""
import torch
from torch import Tensor, nn
from edgraph.energies.gnn import GraphEnergy, structural_features, mlp
from edgraph.graphs import edges_to_adj, node_mask_from_pairs, nodes_from_pairs


class PairEnergy(GraphEnergy):
    def __init__(self, max_nodes, hidden=32, layers=3, features=("degree", "triangles", "size"), buckets=3, gin_hidden=0):
        nn.Module.__init__(self)
        self.max_nodes, self.features, self.buckets = max_nodes, tuple(features), buckets
        f = len(self.features)
        self.embed = nn.Linear(f + 4, hidden)
        self.mix = nn.ModuleList(nn.Linear(hidden, 2 * hidden) for _ in range(layers))
        self.keep = nn.ModuleList(nn.Linear(hidden, hidden) for _ in range(layers))
        self.take = nn.ModuleList(nn.Linear(hidden, hidden, bias=False) for _ in range(layers))
        self.readout = mlp([2 * hidden + 1, 64, 64, 1])

    def _padded_energy(self, x: Tensor, mask: Tensor) -> Tensor:
        padded = int(nodes_from_pairs(torch.tensor(x.shape[-1])))
        node_mask = node_mask_from_pairs(mask, padded)
        adj = edges_to_adj(x * mask, padded)
        feats = structural_features(adj, node_mask, self.features, self.max_nodes)
        nm = node_mask.to(x.dtype)
        valid = nm[:, :, None] * nm[:, None, :]
        eye = torch.eye(padded, dtype=x.dtype)
        big = self.max_nodes
        a2 = adj @ adj / big
        inp = torch.cat([
            adj[..., None], a2[..., None], (eye * valid)[..., None], valid[..., None],
            torch.diag_embed(feats.transpose(1, 2)).permute(0, 2, 3, 1),
        ], -1)
        h = self.embed(inp) * valid[..., None]
        for mix, keep, take in zip(self.mix, self.keep, self.take):
            m1, m2 = nn.functional.silu(mix(h)).permute(0, 3, 1, 2).chunk(2, 1)
            prod = (m1 @ m2).permute(0, 2, 3, 1) / big
            h = h + nn.functional.silu(keep(h) + take(prod)) * valid[..., None]
        diag = torch.diagonal(h, dim1=1, dim2=2).sum(-1) / big
        off = (h.sum((1, 2)) - torch.diagonal(h, dim1=1, dim2=2).sum(-1)) / big**2
        n = nm.sum(1, keepdim=True)
        return self.readout(torch.cat([diag, off, n / big], -1)).squeeze(-1)


def patch(hidden=32, layers=3):
    from edgraph.models import graph as G
    def _new_energy(self):
        return PairEnergy(self.config.max_nodes, hidden=hidden, layers=layers, features=self.config.features)
    G.GraphEBM._new_energy = _new_energy


from edgraph.energies.pair import PairEnergy as LibPair


class SizePair(LibPair):
    """Library PPGN plus an n/N input channel on every real pair."""
    def __init__(self, max_nodes, hidden=16, layers=3, features=("degree", "triangles", "size"), buckets=3):
        super().__init__(max_nodes, hidden, layers, features, buckets)
        self.embed = nn.Linear(len(self.features) + 5, hidden)

    def _padded_energy(self, x, mask):
        adj, node_mask, feats = self._dense_inputs(x, mask)
        big_n = self.max_nodes
        real = node_mask.to(x.dtype)
        pairs = (real[:, :, None] * real[:, None, :])[..., None]
        n = real.sum(1, keepdim=True)
        eye = torch.eye(adj.shape[-1], dtype=x.dtype)
        inputs = [adj[..., None], (adj @ adj / big_n)[..., None], eye[..., None] * pairs, pairs, pairs * (n / big_n)[:, :, None, None]]
        diagonal = torch.diag_embed(feats.transpose(1, 2)).permute(0, 2, 3, 1)
        h = self.embed(torch.cat([*inputs, diagonal], -1)) * pairs
        for mix, keep, take in zip(self.mix, self.keep, self.take):
            left, right = (nn.functional.silu(mix(h)) * pairs).permute(0, 3, 1, 2).chunk(2, 1)
            product = (left @ right).permute(0, 2, 3, 1) / big_n
            h = h + nn.functional.silu(keep(h) + take(product)) * pairs
        on = torch.diagonal(h, dim1=1, dim2=2).sum(-1)
        off = h.sum((1, 2)) - on
        return self.readout(torch.cat([on / big_n, off / big_n**2, n / big_n], -1)).squeeze(-1)


class VirtualPadPair(LibPair):
    """Library PPGN whose pair products also run over N - n virtual padding nodes of zero features."""
    def _padded_energy(self, x, mask):
        adj, node_mask, feats = self._dense_inputs(x, mask)
        big_n = self.max_nodes
        real = node_mask.to(x.dtype)
        pairs = (real[:, :, None] * real[:, None, :])[..., None]
        n = real.sum(1, keepdim=True)
        eye = torch.eye(adj.shape[-1], dtype=x.dtype)
        inputs = [adj[..., None], (adj @ adj / big_n)[..., None], eye[..., None] * pairs, pairs]
        diagonal = torch.diag_embed(feats.transpose(1, 2)).permute(0, 2, 3, 1)
        h = self.embed(torch.cat([*inputs, diagonal], -1)) * pairs
        for mix, keep, take in zip(self.mix, self.keep, self.take):
            left, right = (nn.functional.silu(mix(h)) * pairs).permute(0, 3, 1, 2).chunk(2, 1)
            pad_left, pad_right = nn.functional.silu(mix.bias).chunk(2)
            product = (left @ right).permute(0, 2, 3, 1) + (big_n - n)[:, :, None, None] * pad_left * pad_right
            h = h + nn.functional.silu(keep(h) + take(product / big_n)) * pairs
        on = torch.diagonal(h, dim1=1, dim2=2).sum(-1)
        off = h.sum((1, 2)) - on
        return self.readout(torch.cat([on / big_n, off / big_n**2, n / big_n], -1)).squeeze(-1)


def patch_variant(name):
    from edgraph.models import graph as G
    cls = {"size": SizePair, "virtual": VirtualPadPair}[name]
    G.ENERGIES["ppgn"] = (cls, G.ENERGIES["ppgn"][1])
