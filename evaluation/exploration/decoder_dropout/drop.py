"""Decoder dropout on held-out fifths (see PREREG.txt)."""
import json, sys, time
import torch
from torch import nn
sys.path.insert(0, "/work/snap/evaluation"); sys.path.insert(0, "/work/snap")
from latent import FLOOR_SEEDS
from edgraph.datasets import dataset_info, load_graphs
from edgraph.metrics import graph_mmd, reference_floor
from edgraph.metrics.diversity import graph_novelty
from edgraph.models import LatentGraphEBM
from edgraph.models.base import hold_out

STATS = ("degree", "clustering", "orbit")
ds, seed, p = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
torch.set_num_threads(1)
original = LatentGraphEBM._new_energy

def with_dropout(self):
    network = original(self)
    layers = []
    for layer in network.decoder:
        layers.append(layer)
        if isinstance(layer, nn.SiLU):
            layers.append(nn.Dropout(p))
    network.decoder = nn.Sequential(*layers)
    return network

if p > 0:
    LatentGraphEBM._new_energy = with_dropout
train, outer = hold_out(load_graphs(ds, "train"), 0.2, seed)
smoke = {"max_steps": 40, "val_every": 10, "val_graphs": 32} if len(sys.argv) > 4 else {}
t = time.perf_counter()
model = LatentGraphEBM(dataset_info(ds).max_nodes, **({"sampler_steps": 20} if smoke else {}))
model.fit(train, seed=seed, progress=False, **smoke)
train_seconds = time.perf_counter() - t
print(model.sampling_energy.decoder, flush=True)
floor = reference_floor(train, outer, 512, FLOOR_SEEDS, stats=STATS)
samples = model.sample(512, seed=1, progress=False)
mmd = graph_mmd(samples, outer, STATS)
out = {"dataset": ds, "seed": seed, "p": p, "T": model.decoder_temperature, "selected_step": model.selected_step,
       "train_seconds": train_seconds, "floor": floor, **mmd, "novelty": graph_novelty(samples, train),
       "multiples": [mmd[s] / floor[s]["mean"] for s in STATS]}
print(out, flush=True)
if not smoke:
    json.dump(out, open(f"/tmp/diag/dropout/drop_{ds}_{seed}_p{p}.json", "w"), default=str)
