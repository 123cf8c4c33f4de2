"""Decoder temperature chosen on the fit's inner validation fifth: record, per temperature, the inner
metrics (256 samples, as a check sees them) and the outer-fifth metrics (512 samples)."""
import json, sys, time
import torch
sys.path.insert(0, "/work/main/evaluation")
from latent import FLOOR_SEEDS
from edgraph.datasets import dataset_info, load_graphs
from edgraph.metrics import graph_mmd, reference_floor
from edgraph.metrics.diversity import graph_novelty
from edgraph.models import LatentGraphEBM
from edgraph.models.base import hold_out
import edgraph.models.graph as mg

STATS = ("degree", "clustering", "orbit")
TEMPS = (1.0, 0.85, 0.7, 0.6, 0.5)
ds, seed = sys.argv[1], int(sys.argv[2])
torch.set_num_threads(1)
train, held = hold_out(load_graphs(ds, "train"), 0.2, seed)
kept, inner = hold_out(list(range(len(train))), 0.2, seed)
inner_train, inner_val = [train[i] for i in kept], [train[i] for i in inner]
path = f"/tmp/diag/temp/{ds}_{seed}.pt"
t = time.perf_counter()
try:
    model = LatentGraphEBM.load(path)
except FileNotFoundError:
    model = LatentGraphEBM(dataset_info(ds).max_nodes)
    model.fit(train, seed=seed, progress=False)
    model.save(path)
train_seconds = time.perf_counter() - t
orig = model.generate
rows = []
for T in TEMPS:
    def gen(out, generator=None, T=T):
        out = out.clone(); out[:, model.config.max_nodes:] /= T
        return orig(out, generator)
    model.generate = gen
    small = model.sample(256, seed=0, progress=False)
    big = model.sample(512, seed=1, progress=False)
    rows.append({
        "T": T,
        "inner": {**graph_mmd(small, inner_val, STATS), "novelty": graph_novelty(small, inner_train)},
        "outer": {**graph_mmd(big, held, STATS), "novelty": graph_novelty(big, train)},
    })
    print(ds, seed, T, rows[-1], flush=True)
out = {
    "dataset": ds, "seed": seed, "train_seconds": train_seconds,
    "required": mg.novelty_required(inner_val, inner_train),
    "outer_required": mg.novelty_required(held, train),
    "inner_floor": reference_floor(inner_train, inner_val, 256, FLOOR_SEEDS, stats=STATS),
    "outer_floor": reference_floor(train, held, 512, FLOOR_SEEDS, stats=STATS),
    "rows": rows,
}
json.dump(out, open(f"/tmp/diag/temp_{ds}_{seed}.json", "w"))
