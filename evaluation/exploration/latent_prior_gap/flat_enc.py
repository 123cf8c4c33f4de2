"""An order-aware encoder for the latent model: does it sharpen reconstructions and close the gap?"""
import json, sys, time
import torch
from torch import nn
sys.path.insert(0, "../..")
from latent import scored, FLOOR_SEEDS, STATS
from edgraph.datasets import dataset_info, load_graphs
from edgraph.metrics import reference_floor
from edgraph.models import LatentGraphEBM
from edgraph.models.base import hold_out
from edgraph.energies.gnn import mlp, GraphReadout
from edgraph.graphs import node_mask_from_pairs

class FlatEncoder(nn.Module):
    def __init__(self, n, d, out, hidden, gin):
        super().__init__()
        self.n = n
        self.net = mlp([d + n, hidden, hidden, out])
    def forward(self, x, mask):
        node_mask = node_mask_from_pairs(mask, self.n)
        return self.net(torch.cat([x * mask, node_mask.float()], -1))

class PosGin(nn.Module):
    """GIN readout plus flat MLP summed"""
    def __init__(self, n, d, out, hidden, gin):
        super().__init__()
        self.flat = FlatEncoder(n, d, out, hidden, None)
        self.gin = gin
    def forward(self, x, mask):
        return self.flat(x, mask) + self.gin(x, mask)

VARIANT = sys.argv[3]
class Model(LatentGraphEBM):
    def _encoder(self):
        c = self.config
        d = c.max_nodes * (c.max_nodes - 1) // 2
        if VARIANT == "flat":
            return FlatEncoder(c.max_nodes, d, 2 * c.latent_dim, 256, None)
        if VARIANT == "both":
            return PosGin(c.max_nodes, d, 2 * c.latent_dim, 256, super()._encoder())
        return super()._encoder()

ds, seed = sys.argv[1], int(sys.argv[2])
kl = float(sys.argv[4]) if len(sys.argv) > 4 else 1.0
torch.set_num_threads(1)
train, held = hold_out(load_graphs(ds, "train"), 0.2, seed)
model = Model(dataset_info(ds).max_nodes, kl_weight=kl)
t = time.perf_counter()
model.fit(train, seed=seed, progress=False)
ts = time.perf_counter() - t
num = 512
floor = reference_floor(train, held, num, FLOOR_SEEDS, stats=STATS)
net = model.sampling_energy
g = torch.Generator().manual_seed(seed)
out = {"train_seconds": ts, "steps": model.steps_trained}
def show(name, graphs):
    r = scored(graphs, held, train, floor, 0.0); out[name] = r
    print(ds, seed, VARIANT, kl, name, round(r["ratio"], 2), {k: round(v, 4) for k, v in r["mmd"].items()}, "nov", round(r["novelty"], 2), "edges", round(r["mean_edges"], 1), flush=True)
show("prior_mala1000", model.sample(num, seed=seed))
x, mask = model._training_tensors()
with torch.no_grad():
    mean, log_var = net.posterior(x, mask)
    rows = torch.randint(len(x), (num,), generator=g)
    z = mean[rows] + torch.randn(num, mean.shape[1], generator=g) * (0.5 * log_var[rows]).exp()
    show("agg_posterior", model.decode(model.generate(net.decoder(z), g)))
print("train s", ts, "active dims", int(((mean.var(0)) > 0.1).sum()), flush=True)
json.dump(out, open(f"/tmp/diag/flat_{ds}_{seed}_{VARIANT}_{kl}.json", "w"))
