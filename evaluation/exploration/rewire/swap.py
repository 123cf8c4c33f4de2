"""Exploration: degree-preserving double-edge-swap perturbation as a second ED term."""
import math
import torch
from edgraph.graphs import edges_to_adj, adj_to_edges, nodes_from_pairs
from edgraph.objectives import energy_discrepancy


class EdgeSwap:
    def __init__(self, frac, max_nodes):
        self.frac, self.n = frac, max_nodes

    def sample(self, x, mask=None, generator=None):
        N = self.n
        shape = x.shape
        adj = edges_to_adj(x, N).reshape(-1, N * N).clone()
        rows = torch.arange(adj.shape[0])
        m = adj.sum(-1) / 2
        k = torch.ceil(self.frac * m).long()
        for it in range(int(k.max().item()) if k.numel() else 0):
            has = (m >= 2) & (it < k)
            w = adj + (~has).unsqueeze(-1).float()
            e = torch.multinomial(w, 2, replacement=True, generator=generator)
            a, b, c, d = e[:, 0] // N, e[:, 0] % N, e[:, 1] // N, e[:, 1] % N
            ok = has & (a != d) & (c != b) & (adj[rows, a * N + d] == 0) & (adj[rows, c * N + b] == 0)
            r = rows[ok]
            a, b, c, d = a[ok], b[ok], c[ok], d[ok]
            for (u, v), val in (((a, b), 0.0), ((c, d), 0.0), ((a, d), 1.0), ((c, b), 1.0)):
                adj[r, u * N + v] = val
                adj[r, v * N + u] = val
        return adj_to_edges(adj.reshape(*shape[:-1], N, N))


def patch(frac, lam, m_swap=None):
    from edgraph.models import graph as G

    original = G.GraphEBM.training_loss

    def training_loss(self, config):
        base = original(self, config)
        swap = EdgeSwap(frac, self.config.max_nodes)
        c = self.config

        def loss(energy, x, mask):
            return base(energy, x, mask) + lam * energy_discrepancy(energy, x, swap, m_swap or c.num_negatives, c.w, mask)

        return loss

    G.GraphEBM.training_loss = training_loss
