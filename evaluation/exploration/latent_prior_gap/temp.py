"""Decoder temperature on prior samples of a default latent model."""
import json, sys
from pathlib import Path
import torch
sys.path.insert(0, "../..")
from latent import scored, FLOOR_SEEDS, STATS
from edgraph.datasets import dataset_info, load_graphs
from edgraph.metrics import reference_floor
from edgraph.models import LatentGraphEBM
from edgraph.models.base import hold_out
from edgraph.graphs import num_pairs

ds, seed = sys.argv[1], int(sys.argv[2])
torch.set_num_threads(1)
train, held = hold_out(load_graphs(ds, "train"), 0.2, seed)
run = Path(f"/tmp/diag/models/{ds}_{seed}")
if (run / "model.pt").exists():
    model = LatentGraphEBM.load(run / "model.pt")
else:
    model = LatentGraphEBM(dataset_info(ds).max_nodes).fit(train, run_dir=run, seed=seed, progress=False)
num = 512
floor = reference_floor(train, held, num, FLOOR_SEEDS, stats=STATS)
original = model.generate
n = model.config.max_nodes
out = {}
for temp in (1.0, 0.85, 0.7, 0.5):
    def generate(o, generator=None, temp=temp):
        counts, edges = o.split([n, num_pairs(n)], -1)
        return original(torch.cat([counts, edges / temp], -1), generator)
    model.generate = generate
    r = scored(model.sample(num, seed=seed), held, train, floor, 0.0); out[temp] = r
    print(ds, seed, "T", temp, round(r["ratio"], 2), {k: round(v, 4) for k, v in r["mmd"].items()}, "nov", round(r["novelty"], 2), "uniq", round(r["uniqueness"], 2), "edges", round(r["mean_edges"], 1), flush=True)
json.dump(out, open(f"/tmp/diag/temp_{ds}_{seed}.json", "w"))
model.generate = original
net = model.sampling_energy
g = torch.Generator().manual_seed(seed)
x, mask = model._training_tensors()
with torch.no_grad():
    mean, log_var = net.posterior(x, mask)
    rows = torch.randint(len(x), (num,), generator=g)
    z = mean[rows] + torch.randn(num, mean.shape[1], generator=g) * (0.5 * log_var[rows]).exp()
    for name, zz in (("agg_posterior", z), ("posterior_means", mean[rows])):
        r = scored(model.decode(model.generate(net.decoder(zz), g)), held, train, floor, 0.0)
        print(ds, seed, name, round(r["ratio"], 2), {k: round(v, 4) for k, v in r["mmd"].items()}, "nov", round(r["novelty"], 2), flush=True)
