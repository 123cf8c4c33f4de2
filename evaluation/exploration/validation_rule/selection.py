"""Which validation rule keeps the best check? Records, for every periodic check of one fit, the inner
validation metrics the fit sees and the same samples' MMD against an outer held-out fifth."""
import json, sys, time
import torch
sys.path.insert(0, "/work/main/evaluation")
from latent import FLOOR_SEEDS
import edgraph.metrics as em
import edgraph.models.graph as mg
from edgraph.datasets import dataset_info, load_graphs
from edgraph.graphs import dense_to_graphs
from edgraph.metrics import graph_mmd, reference_floor
from edgraph.models import LatentGraphEBM
from edgraph.models.base import hold_out

STATS = ("degree", "clustering", "orbit")
ds, seed = sys.argv[1], int(sys.argv[2])
max_steps = int(sys.argv[3]) if len(sys.argv) > 3 else 20000
torch.set_num_threads(1)
train, held = hold_out(load_graphs(ds, "train"), 0.2, seed)
kept, inner = hold_out(list(range(len(train))), 0.2, seed)
inner_train, inner_val = [train[i] for i in kept], [train[i] for i in inner]
checks = []
orig_mmd, orig_nov = em.graph_mmd_dense, mg.graph_novelty

def mmd_dense(adj, node_mask, targets, stats):
    out = orig_mmd(adj, node_mask, targets, stats=stats)
    graphs = dense_to_graphs(adj, node_mask)
    checks.append({"inner": dict(out), "outer": graph_mmd(graphs, held, STATS)})
    return out

def novelty(graphs, reference, clean=True):
    value = orig_nov(graphs, reference, clean=clean)
    if clean and checks and "novelty" not in checks[-1]:
        checks[-1]["novelty"] = value
    return value

em.graph_mmd_dense, mg.graph_novelty = mmd_dense, novelty
model = LatentGraphEBM(dataset_info(ds).max_nodes)
t = time.perf_counter()
model.fit(train, seed=seed, progress=False, max_steps=max_steps)
n = model.config  # noqa
out = {
    "dataset": ds, "seed": seed, "train_seconds": time.perf_counter() - t,
    "required": mg.novelty_required(inner_val, inner_train),
    "inner_floor": reference_floor(inner_train, inner_val, 256, FLOOR_SEEDS, stats=STATS),
    "outer_floor": reference_floor(train, held, 256, FLOOR_SEEDS, stats=STATS),
    "checks": checks,
}
json.dump(out, open(f"/tmp/diag/selection_{ds}_{seed}.json", "w"))
print(ds, seed, "checks", len(checks), "seconds", round(out["train_seconds"]), flush=True)
