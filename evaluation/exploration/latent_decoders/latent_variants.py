"""Prototype: a row-autoregressive decoder with a mixture of Bernoullis per row, against the MLP decoder."""
import json, sys, time
import torch
from torch import nn
from torch.nn import functional as F
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[2]))
from latent import scored, FLOOR_SEEDS, STATS
from edgraph.datasets import dataset_info, load_graphs
from edgraph.models import LatentGraphEBM
from edgraph.models.latent import LatentNetwork
from edgraph.models.base import hold_out
from edgraph.energies.gnn import mlp
from edgraph.energies.feedforward import TiltedGaussianEnergy
from edgraph.graphs import edges_to_adj, node_mask_from_pairs
from edgraph.metrics import reference_floor

CURRENT = [None]

class RowDecoder(nn.Module):
    def __init__(self, d, n, hidden, k):
        super().__init__()
        self.n, self.k = n, k
        self.count = mlp([d, hidden, n])
        self.start = nn.Linear(d, hidden)
        self.gru = nn.GRU(n + d, hidden, batch_first=True)
        self.head = mlp([hidden + d, hidden, k * n + k])

    def forward(self, z):
        CURRENT[0] = self
        return z

    def row_params(self, z, h):
        B, L, _ = h.shape
        out = self.head(torch.cat([h, z[:, None].expand(B, L, -1)], -1))
        logits, weights = out.split([self.k * self.n, self.k], -1)
        return logits.view(B, L, self.k, self.n), weights.log_softmax(-1)

    def nll(self, z, adj, node_mask):
        B, N, _ = adj.shape
        prev = torch.cat([adj.new_zeros(B, 1, N), adj.tril(-1)[:, :-1]], 1)
        h, _ = self.gru(torch.cat([prev, z[:, None].expand(B, N, -1)], -1), self.start(z)[None].contiguous())
        logits, logw = self.row_params(z, h)
        lower = torch.tril(torch.ones(N, N, dtype=torch.bool, device=z.device), -1)
        m = (lower & node_mask[:, :, None] & node_mask[:, None, :]).float()
        bce = F.binary_cross_entropy_with_logits(logits, adj[:, :, None].expand(-1, -1, self.k, -1), reduction="none")
        row_ll = torch.logsumexp(logw - (bce * m[:, :, None]).sum(-1), -1)
        sizes = node_mask.sum(1)
        return F.cross_entropy(self.count(z), sizes - 1, reduction="none") - row_ll.sum(1)

    def sample(self, z, generator=None):
        B, N = len(z), self.n
        sizes = torch.multinomial(self.count(z).softmax(-1), 1, generator=generator).squeeze(1) + 1
        ar = torch.arange(N, device=z.device)
        node_mask = ar < sizes[:, None]
        adj = z.new_zeros(B, N, N)
        h = self.start(z)[None].contiguous()
        prev = z.new_zeros(B, N)
        for i in range(N):
            out, h = self.gru(torch.cat([prev, z], -1)[:, None], h)
            logits, logw = self.row_params(z, out)
            comp = torch.multinomial(logw[:, 0].exp(), 1, generator=generator)
            p = torch.sigmoid(logits[:, 0].gather(1, comp[:, :, None].expand(-1, 1, N)).squeeze(1))
            row = torch.bernoulli(p, generator=generator) * (ar < i) * node_mask * node_mask[:, i : i + 1]
            adj[:, i] = row
            prev = row
        return adj + adj.transpose(1, 2), node_mask


class ARLatent(LatentGraphEBM):
    components = 4

    def _new_energy(self):
        c = self.config
        encoder = self._encoder()
        decoder = RowDecoder(c.latent_dim, c.max_nodes, c.decoder_hidden, self.components)
        prior = TiltedGaussianEnergy(c.latent_dim, c.prior_hidden, c.prior_layers)
        return LatentNetwork(encoder, decoder, prior)

    def reconstruction_nll(self, out, x, mask):
        n = self.config.max_nodes
        return CURRENT[0].nll(out, edges_to_adj(x, n), node_mask_from_pairs(mask, n))

    def generate(self, out, generator=None):
        return CURRENT[0].sample(out, generator)


import networkx as nx
import numpy as np
from edgraph.models.graph import graph_record


def fiedler_order(graph):
    nodes = list(graph.nodes)
    if len(nodes) < 3:
        return nodes
    lap = nx.laplacian_matrix(graph, nodelist=nodes).toarray().astype(float)
    vector = np.linalg.eigh(lap)[1][:, 1]
    degrees = np.array([graph.degree(v) for v in nodes])
    hub = int(np.argmax(degrees))
    if vector[hub] > 0:
        vector = -vector
    return [nodes[i] for i in np.lexsort((-degrees, vector))]


class FiedlerLatent(LatentGraphEBM):
    def encode(self, data, labels=None):
        from edgraph.graphs import renumbered
        graphs = [renumbered(nx.Graph(g), fiedler_order) for g in data]
        return graph_record(graphs, self.config.max_nodes, bfs=False)


if __name__ == "__main__":
    dataset, seed, kind = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    extra = json.loads(sys.argv[4]) if len(sys.argv) > 4 else {}
    torch.set_num_threads(1)
    train, held = hold_out(load_graphs(dataset, "train"), 0.2, seed)
    cls = {"mlp": LatentGraphEBM, "rows": ARLatent, "fiedler": FiedlerLatent}[kind]
    if "components" in extra:
        ARLatent.components = extra.pop("components")
    model = cls(dataset_info(dataset).max_nodes, **extra.pop("model", {}))
    start = time.perf_counter()
    model.fit(train, seed=seed, progress=False, **extra)
    train_seconds = time.perf_counter() - start
    floor = reference_floor(train, held, 512, FLOOR_SEEDS, stats=STATS)
    start = time.perf_counter()
    samples = model.sample(512, seed=seed)
    row = scored(samples, held, train, floor, time.perf_counter() - start)
    print(json.dumps({"dataset": dataset, "seed": seed, "kind": kind, "extra": sys.argv[4:], "train_seconds": train_seconds,
                      "ratio": row["ratio"], "mmd": row["mmd"], "novelty": row["novelty"], "floor": {s: floor[s]["mean"] for s in STATS},
                      "sample_seconds": row["sample_seconds"]}), flush=True)
