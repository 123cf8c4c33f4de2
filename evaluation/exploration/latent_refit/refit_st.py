"""Refit after selection, on held-out fifths: a default latent fit on hold_out(train, 0.2, seed)
chose step s and T on its inner fifth; refit on all of the 80 % part (inner fifth included) and
score 512 samples (seed 1) against the outer fifth, as ema_select.py scores.
variant "same": the same cosine-over-20,000 trajectory, stopped at step s;
variant "cos": a fresh cosine over s steps."""
import json, sys, time
import lightning.pytorch as pl
import torch
sys.path.insert(0, "/work/main/evaluation")
from latent import FLOOR_SEEDS
from edgraph.datasets import dataset_info, load_graphs
from edgraph.metrics import graph_mmd, reference_floor
from edgraph.metrics.diversity import graph_novelty
from edgraph.models import LatentGraphEBM
from edgraph.models.base import hold_out
from edgraph.models.latent import FIT_DEFAULTS

STATS = ("degree", "clustering", "orbit")
ds, seed, variant, s, T = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
torch.set_num_threads(1)
train, held = hold_out(load_graphs(ds, "train"), 0.2, seed)

class StopAt(pl.Callback):
    def on_train_batch_end(self, trainer, *args):
        if trainer.global_step >= s:
            trainer.should_stop = True

t = time.perf_counter()
model = LatentGraphEBM(dataset_info(ds).max_nodes)
if variant == "same":
    opts = {**FIT_DEFAULTS, "val_fraction": 0.0, "val_every": 0, "seed": seed, "progress": False}
    model._fit(model.encode(train), None, False, opts, None, lambda module: [StopAt()])
else:
    model.fit(train, max_steps=s, val_fraction=0.0, seed=seed, progress=False)
model.decoder_temperature = T
train_seconds = time.perf_counter() - t
big = model.sample(512, seed=1, progress=False)
out = {
    "dataset": ds, "seed": seed, "tag": f"refit_{variant}", "selected_step": s, "T": T, "train_seconds": train_seconds,
    "outer": {**graph_mmd(big, held, STATS), "novelty": graph_novelty(big, train)},
    "outer_floor": reference_floor(train, held, 512, FLOOR_SEEDS, stats=STATS),
}
print(json.dumps(out), flush=True)
json.dump(out, open(f"/tmp/diag/refit/refit_{variant}_{ds}_{seed}.json", "w"))
