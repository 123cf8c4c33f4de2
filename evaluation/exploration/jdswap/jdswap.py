"""Exploration: EdgeSwap restricted to swaps that keep the joint degree distribution
(swap (a,b),(c,d) -> (a,d),(c,b) only when deg b == deg d). Still symmetric: the reverse swap
needs deg d == deg b, and degrees never change."""
import torch
from edgraph import perturbations as P
from edgraph.graphs import edges_to_adj, adj_to_edges, nodes_from_pairs


def sample(self, x, mask=None, generator=None):
    nodes = int(nodes_from_pairs(torch.tensor(x.shape[-1])))
    free = P._free_sites(mask, x.shape)
    adj = edges_to_adj(x, nodes).flatten(-2).flatten(0, -2).clone()
    frozen = None if free is None else edges_to_adj((~free).to(x.dtype), nodes).flatten(-2).flatten(0, -2) > 0
    degree = adj.view(-1, nodes, nodes).sum(-1)
    edges = adj.sum(-1) / 2
    attempts = torch.ceil(self.share * edges).long()
    rows = torch.arange(adj.shape[0], device=x.device)
    for attempt in range(int(attempts.max()) if adj.shape[0] else 0):
        active = (edges >= 2) & (attempt < attempts)
        pick = torch.multinomial(adj + (~active).unsqueeze(-1), 2, replacement=True, generator=generator)
        a, b, c, d = pick[:, 0] // nodes, pick[:, 0] % nodes, pick[:, 1] // nodes, pick[:, 1] % nodes
        new_ad, new_cb = a * nodes + d, c * nodes + b
        ok = active & (a != d) & (c != b) & (adj[rows, new_ad] == 0) & (adj[rows, new_cb] == 0)
        ok &= degree[rows, b] == degree[rows, d]
        if frozen is not None:
            touched = torch.stack([pick[:, 0], pick[:, 1], new_ad, new_cb], dim=1)
            ok &= ~frozen.gather(1, touched).any(1)
        r = rows[ok]
        for (u, v), value in (((a, b), 0.0), ((c, d), 0.0), ((a, d), 1.0), ((c, b), 1.0)):
            adj[r, u[ok] * nodes + v[ok]] = value
            adj[r, v[ok] * nodes + u[ok]] = value
    return adj_to_edges(adj.view(*x.shape[:-1], nodes, nodes))


def patch():
    P.EdgeSwap.sample = sample
