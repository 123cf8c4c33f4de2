"""Block-structured decoder: per-node memberships c_i ~ p(c_i | z), edges ~ Bern(sigmoid(L_{c_i c_j}(z) [+ a_ij(z)]))."""
import json, sys, time
import torch
from torch import nn
from torch.nn import functional as F
sys.path.insert(0, "/work/main/evaluation")
from latent import scored, FLOOR_SEEDS, STATS
from edgraph.datasets import dataset_info, load_graphs
from edgraph.metrics import reference_floor
from edgraph.models import LatentGraphEBM
from edgraph.models.base import hold_out
from edgraph.energies.gnn import mlp, GraphReadout, structural_features
from edgraph.graphs import node_mask_from_pairs, num_pairs, pair_mask, edges_to_adj

ds, seed, K, PAIRS = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "pairs"
ITERS = int(dict(a.split("=") for a in sys.argv[5:]).pop("iters", 5))
extra = dict(a.split("=") for a in sys.argv[5:]); extra.pop("iters", None)

class NodeReadout(GraphReadout):
    def __init__(self, n, out, hidden, layers, features, k):
        super().__init__(n, out, hidden, layers, features, buckets=1)
        self.k = k
        self.node_head = mlp([hidden, hidden, k])
    def _padded_output(self, x, mask, labels=None):
        padded = self.max_nodes
        node_mask = node_mask_from_pairs(mask, padded)
        adj = edges_to_adj(x * mask, padded)
        feats = structural_features(adj, node_mask, self.features, self.max_nodes)
        ones = node_mask[..., None].to(x.dtype)
        h = self.embed(torch.cat([feats, ones], -1)) * ones
        for conv in self.convs:
            h = h + F.silu(conv(h, adj, node_mask)) * ones
        n = ones.sum(1)
        pooled = torch.cat([h.sum(1) / self.max_nodes, h.sum(1) / n.clamp(min=1), n / self.max_nodes], -1)
        return torch.cat([self.readout(pooled), self.node_head(h).flatten(1)], -1)

class BlockModel(LatentGraphEBM):
    def _encoder(self):
        c = self.config
        return NodeReadout(c.max_nodes, 2 * c.latent_dim, c.hidden, c.layers, c.features, K)
    @property
    def decoder_outputs(self):
        n = self.config.max_nodes
        return n + n * K + K * K + (num_pairs(n) if PAIRS else 0)
    def _split(self, out):
        n = self.config.max_nodes
        parts = [n, n * K, K * K] + ([num_pairs(n)] if PAIRS else [])
        s = out.split(parts, -1)
        count, member, block = s[0], s[1].view(-1, n, K), s[2].view(-1, K, K)
        block = 0.5 * (block + block.transpose(1, 2))
        pairs = s[3] if PAIRS else None
        return count, member, block, pairs
    def elbo_terms(self, out, q_logits, x, mask):
        n = self.config.max_nodes
        count, member, block, pairs = self._split(out)
        node_mask = node_mask_from_pairs(mask, n)
        sizes = node_mask.sum(1)
        r, cidx = torch.triu_indices(n, n, 1)
        logits = block[:, None] + (pairs[..., None, None] if pairs is not None else 0)  # [B, D, K, K] or [B,1,K,K]
        logits = logits.expand(len(x), len(r), K, K)
        bce = F.binary_cross_entropy_with_logits(logits, x[..., None, None].expand_as(logits), reduction="none")
        bce = bce * mask[..., None, None]
        log_pi = member.log_softmax(-1)
        # full symmetric [B, n, n, K, K] cost for coordinate ascent
        full = bce.new_zeros(len(x), n, n, K, K)
        full[:, r, cidx] = bce
        full[:, cidx, r] = bce.transpose(-1, -2)
        q_logits = log_pi.detach()
        cost = full.detach()
        for _ in range(ITERS):
            q = q_logits.softmax(-1)
            q_logits = log_pi.detach() - torch.einsum("bijkl,bjl->bik", cost, q)
        q = q_logits.softmax(-1)
        w = q[:, r, :, None] * q[:, cidx, None, :]
        edges_nll = ((bce * w).sum((-1, -2)) * mask).sum(1)
        log_q = q_logits.view(-1, n, K).log_softmax(-1)
        kl_c = ((q * (log_q - member.log_softmax(-1))).sum(-1) * node_mask).sum(1)
        return F.cross_entropy(count, sizes - 1, reduction="none") + edges_nll + kl_c
    def training_loss(self, config):
        c = self.config
        def loss(network, x, mask):
            enc = network.encoder(x, mask)
            mean, log_var = enc[:, : 2 * c.latent_dim].chunk(2, -1)
            enc = torch.cat([enc[:, :2 * c.latent_dim], enc.new_zeros(len(x), c.max_nodes * K)], -1)
            log_var = log_var.clamp(-12, 8)
            z = mean + torch.randn_like(mean) * (0.5 * log_var).exp()
            nll = self.elbo_terms(network.decoder(z), enc[:, 2 * c.latent_dim:], x, mask)
            kl = 0.5 * (mean**2 + log_var.exp() - 1 - log_var).sum(1)
            return (nll + c.kl_weight * kl).mean() + self._prior_loss(network, z.detach())
        return loss
    def generate(self, out, generator=None):
        n = self.config.max_nodes
        count, member, block, pairs = self._split(out)
        sizes = torch.multinomial(count.softmax(-1), 1, generator=generator).squeeze(1) + 1
        node_mask = torch.arange(n, device=out.device) < sizes[:, None]
        B = len(out)
        c = torch.multinomial(member.softmax(-1).view(B * n, K), 1, generator=generator).view(B, n)
        r, cidx = torch.triu_indices(n, n, 1)
        logits = block[torch.arange(B)[:, None], c[:, r], c[:, cidx]]
        if pairs is not None:
            logits = logits + pairs
        edges = torch.bernoulli(torch.sigmoid(logits), generator=generator) * pair_mask(node_mask)
        return edges_to_adj(edges, n), node_mask

torch.set_num_threads(1)
train, held = hold_out(load_graphs(ds, "train"), 0.2, seed)
model = BlockModel(dataset_info(ds).max_nodes, **{k: type(getattr(LatentGraphEBM(4).config, k))(v) for k, v in extra.items()})
t = time.perf_counter()
model.fit(train, seed=seed, progress=False)
ts = time.perf_counter() - t
num = 512
floor = reference_floor(train, held, num, FLOOR_SEEDS, stats=STATS)
out = {"train_seconds": ts, "steps": model.steps_trained}
tag = f"MF{ITERS}K{K}{'p' if PAIRS else ''}{'_'+'_'.join(sys.argv[5:]) if len(sys.argv)>5 else ''}"
def show(name, graphs):
    r = scored(graphs, held, train, floor, 0.0); out[name] = r
    print(ds, seed, tag, name, round(r["ratio"], 2), {k: round(v, 4) for k, v in r["mmd"].items()}, "nov", round(r["novelty"], 2), "edges", round(r["mean_edges"], 1), flush=True)
show("prior_mala1000", model.sample(num, seed=seed))
net = model.sampling_energy
x, mask = model._training_tensors()
g = torch.Generator().manual_seed(seed)
with torch.no_grad():
    enc = net.encoder(x, mask)
    mean, log_var = enc[:, :2*model.config.latent_dim].chunk(2, -1)
    rows = torch.randint(len(x), (num,), generator=g)
    z = mean[rows] + torch.randn(num, mean.shape[1], generator=g) * (0.5 * log_var[rows].clamp(-12, 8)).exp()
    show("agg_posterior", model.decode(model.generate(net.decoder(z), g)))
    ent = torch.tensor(0.0)
print(ds, seed, tag, "train s", round(ts), "steps", model.steps_trained, "active dims", int(((mean.var(0)) > 0.1).sum()), "q entropy", round(float(ent), 3), flush=True)
json.dump(out, open(f"/tmp/diag/blocks_{ds}_{seed}_{tag}.json", "w"))
