"""Longer or larger-step MALA chains on saved default latent models (validation fifths)."""
import sys
from pathlib import Path
import torch
sys.path.insert(0, "../..")
from latent import scored, FLOOR_SEEDS, STATS
from edgraph.datasets import load_graphs
from edgraph.metrics import reference_floor
from edgraph.models import LatentGraphEBM
from edgraph.models.base import hold_out

torch.set_num_threads(1)
for ds, seed in (("community_small_gdss", 0), ("community_small_gdss", 1), ("community_small_gdss", 2), ("ego_small", 0)):
    train, held = hold_out(load_graphs(ds, "train"), 0.2, seed)
    model = LatentGraphEBM.load(Path(f"/tmp/diag/models/{ds}_{seed}") / "model.pt")
    floor = reference_floor(train, held, 512, FLOOR_SEEDS, stats=STATS)
    for steps, size in ((1000, 0.05), (3000, 0.05), (1000, 0.1), (3000, 0.1), (10000, 0.05)):
        r = scored(model.sample(512, seed=seed, steps=steps, step_size=size), held, train, floor, 0.0)
        print(ds, seed, "mala", steps, size, round(r["ratio"], 2), {k: round(v, 4) for k, v in r["mmd"].items()}, "nov", round(r["novelty"], 2), flush=True)
