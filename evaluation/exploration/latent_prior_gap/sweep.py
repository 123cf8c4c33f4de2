"""Latent defaults with one change, scored on a validation fifth: prior samples and novelty."""
import json, sys, time
import torch
sys.path.insert(0, "../..")
from latent import scored, FLOOR_SEEDS, STATS
from edgraph.datasets import dataset_info, load_graphs
from edgraph.metrics import reference_floor
from edgraph.models import LatentGraphEBM
from edgraph.models.base import hold_out

ds, seed, options = sys.argv[1], int(sys.argv[2]), {k: (int(v) if v.isdigit() else float(v)) for k, v in (a.split("=") for a in sys.argv[3:])}
torch.set_num_threads(1)
train, held = hold_out(load_graphs(ds, "train"), 0.2, seed)
model = LatentGraphEBM(dataset_info(ds).max_nodes, **options)
t = time.perf_counter()
model.fit(train, seed=seed, progress=False)
ts = time.perf_counter() - t
floor = reference_floor(train, held, 512, FLOOR_SEEDS, stats=STATS)
r = scored(model.sample(512, seed=seed), held, train, floor, 0.0)
print(json.dumps({"ds": ds, "seed": seed, "options": options, "ratio": round(r["ratio"], 3), "novelty": round(r["novelty"], 3),
                  "mmd": {k: round(v, 4) for k, v in r["mmd"].items()}, "train_s": round(ts), "steps": model.steps_trained,
                  "best_step": getattr(model, "best_step", None)}), flush=True)
