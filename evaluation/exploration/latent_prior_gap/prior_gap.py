"""Where does the latent model lose on community: the prior or the decoder?"""
import json, sys, time
import torch
sys.path.insert(0, "../..")
from latent import scored, FLOOR_SEEDS, STATS
from edgraph.datasets import dataset_info, load_graphs
from edgraph.metrics import reference_floor
from edgraph.models import LatentGraphEBM
from edgraph.models.base import hold_out

ds, seed = sys.argv[1], int(sys.argv[2])
torch.set_num_threads(1)
train, held = hold_out(load_graphs(ds, "train"), 0.2, seed)
model = LatentGraphEBM(dataset_info(ds).max_nodes)
t = time.perf_counter()
model.fit(train, seed=seed, progress=False)
print("train s", time.perf_counter() - t, "steps", model.steps_trained, flush=True)
num = 512
floor = reference_floor(train, held, num, FLOOR_SEEDS, stats=STATS)
net = model.sampling_energy
g = torch.Generator().manual_seed(seed)
out = {}
def report(name, z):
    with torch.no_grad():
        graphs = model.decode(model.generate(net.decoder(z), g))
    r = scored(graphs, held, train, floor, 0.0)
    out[name] = r
    print(name, round(r["ratio"], 2), {k: round(v, 4) for k, v in r["mmd"].items()}, "nov", round(r["novelty"], 2), "edges", round(r["mean_edges"], 1), flush=True)
s = model.sample(num, seed=seed)
r = scored(s, held, train, floor, 0.0); out["prior_mala1000"] = r
print("prior_mala1000", round(r["ratio"], 2), {k: round(v, 4) for k, v in r["mmd"].items()}, "nov", round(r["novelty"], 2), "edges", round(r["mean_edges"],1), flush=True)
x, mask = model._training_tensors()
# the model's training tensors include its own held-out part; use all of them
with torch.no_grad():
    mean, log_var = net.posterior(x, mask)
rows = torch.randint(len(x), (num,), generator=g)
report("agg_posterior", mean[rows] + torch.randn(num, mean.shape[1], generator=g) * (0.5 * log_var[rows]).exp())
report("posterior_means", mean[rows])
report("gaussian", torch.randn(num, mean.shape[1], generator=g))
# held-out graphs encoded: can the decoder produce graphs like unseen ones?
from edgraph.models.graph import graph_record
from edgraph.graphs import pair_mask
rec = graph_record(held, model.config.max_nodes, bfs=True)
hx = rec["edges"].float(); hm = pair_mask(torch.arange(model.config.max_nodes) < rec["num_nodes"][:, None])
with torch.no_grad():
    hmean, hlv = net.posterior(hx, hm)
rows = torch.randint(len(hx), (num,), generator=g)
report("held_posterior", hmean[rows] + torch.randn(num, hmean.shape[1], generator=g) * (0.5 * hlv[rows]).exp())
print("latent stats: posterior mean norm", mean.norm(dim=1).mean().item(), "std mean", (0.5*log_var).exp().mean().item())
json.dump({k: {kk: vv for kk, vv in v.items()} for k, v in out.items()}, open(f"/tmp/diag/gap_{ds}_{seed}.json", "w"))
