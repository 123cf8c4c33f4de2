"""A latent fit with extra training options on hold_out(train, 0.2, seed), scored on the outer fifth
(512 samples, sampling seed 1) at the temperature the fit chose, as the temperature study scored it."""
import json, sys, time
import torch
sys.path.insert(0, "/work/main/evaluation")
from latent import FLOOR_SEEDS
from edgraph.datasets import dataset_info, load_graphs
from edgraph.metrics import graph_mmd, reference_floor
from edgraph.metrics.diversity import graph_novelty
from edgraph.models import LatentGraphEBM
from edgraph.models.base import hold_out

STATS = ("degree", "clustering", "orbit")
ds, seed, tag, options = sys.argv[1], int(sys.argv[2]), sys.argv[3], json.loads(sys.argv[4])
torch.set_num_threads(1)
train, held = hold_out(load_graphs(ds, "train"), 0.2, seed)
t = time.perf_counter()
model = LatentGraphEBM(dataset_info(ds).max_nodes)
model.fit(train, seed=seed, progress=False, run_dir=f"/tmp/diag/ema/run_{tag}_{ds}_{seed}", **options)
train_seconds = time.perf_counter() - t
big = model.sample(512, seed=1, progress=False)
out = {
    "dataset": ds, "seed": seed, "tag": tag, "options": options, "train_seconds": train_seconds,
    "T": model.decoder_temperature, "selected_step": model.selected_step,
    "outer": {**graph_mmd(big, held, STATS), "novelty": graph_novelty(big, train)},
    "outer_floor": reference_floor(train, held, 512, FLOOR_SEEDS, stats=STATS),
}
print(json.dumps(out), flush=True)
json.dump(out, open(f"/tmp/diag/ema/{tag}_{ds}_{seed}.json", "w"))
