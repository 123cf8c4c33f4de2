"""Does the fit's own validation score (inner fifth) predict the held-out score across training seeds?"""
import json
import sys
import time

import torch

sys.path.insert(0, "../..")
from latent import FLOOR_SEEDS, STATS, scored

import edgraph.models.graph as graph_module
from edgraph.datasets import dataset_info, load_graphs
from edgraph.metrics import reference_floor
from edgraph.models import LatentGraphEBM
from edgraph.models.base import hold_out

ds, outer, init = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(1)
train, held = hold_out(load_graphs(ds, "train"), 0.2, outer)
# the same inner fifth for every training seed: only initialisation and batches change
graph_module.hold_out = lambda items, fraction, seed: hold_out(items, fraction, outer)
checks = []
original = graph_module.validation_score


def recording(metrics, stats, required):
    score = original(metrics, stats, required)
    checks.append({"score": score, "novelty": metrics.get("novelty"), "required": required})
    return score


graph_module.validation_score = recording
model = LatentGraphEBM(dataset_info(ds).max_nodes)
t = time.perf_counter()
model.fit(train, seed=init, progress=False)
ts = time.perf_counter() - t
floor = reference_floor(train, held, 512, FLOOR_SEEDS, stats=STATS)
r = scored(model.sample(512, seed=outer), held, train, floor, 0.0)
best = min(checks, key=lambda c: c["score"])
print(json.dumps({"ds": ds, "outer": outer, "init": init, "inner_best": best, "ratio": round(r["ratio"], 3),
                  "novelty": round(r["novelty"], 3), "mmd": {k: round(v, 4) for k, v in r["mmd"].items()},
                  "train_s": round(ts)}), flush=True)
