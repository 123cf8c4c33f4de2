"""Snapshot mixtures, on held-out fifths: a default latent fit on hold_out(train, 0.2, seed) (its own
inner fifth chooses checks and T as the library does); every check's EMA weights are kept. Score 512
samples (seed 1) against the outer fifth from the top-k checks by the library's validation rank,
512/k samples each, at the chosen T."""
import json, sys, time
import torch
sys.path.insert(0, "/work/snap/evaluation"); sys.path.insert(0, "/work/snap")
from latent import FLOOR_SEEDS
from edgraph.datasets import dataset_info, load_graphs
from edgraph.metrics import graph_mmd, reference_floor
from edgraph.metrics.diversity import graph_novelty
from edgraph.models import LatentGraphEBM
from edgraph.models.base import hold_out
import edgraph.training as training

STATS = ("degree", "clustering", "orbit")
ds, seed = sys.argv[1], int(sys.argv[2])
torch.set_num_threads(1)
train, outer = hold_out(load_graphs(ds, "train"), 0.2, seed)
SNAP, SCORE = {}, {}
orig = training.PeriodicValidation._check

def _check(self, trainer, module):
    if not getattr(self, "_wrapped", False):
        inner = self.score
        def score(metrics):
            value = inner(metrics)
            SCORE[trainer.global_step] = value
            return value
        self.score, self._wrapped = score, True
    SNAP[trainer.global_step] = {k: v.detach().clone() for k, v in module.ema.state_dict().items()}
    return orig(self, trainer, module)

training.PeriodicValidation._check = _check
t = time.perf_counter()
smoke = {"max_steps": 40, "val_every": 10, "val_graphs": 32, "sampler_steps": 20} if len(sys.argv) > 3 else {}
sampler = {"sampler_steps": smoke.pop("sampler_steps")} if smoke else {}
model = LatentGraphEBM(dataset_info(ds).max_nodes, **sampler).fit(train, seed=seed, progress=False, **smoke)
train_seconds = time.perf_counter() - t
ranked = sorted(SCORE, key=lambda s: (SCORE[s], s))
assert ranked[0] == model.selected_step, (ranked[:3], model.selected_step)
floor = reference_floor(train, outer, 512, FLOOR_SEEDS, stats=STATS)
out = {"dataset": ds, "seed": seed, "T": model.decoder_temperature, "train_seconds": train_seconds,
       "ranked": [(s, list(SCORE[s])) for s in ranked], "floor": floor, "mix": {}}
def band(factor, most=3):
    best = SCORE[ranked[0]]
    return [s for s in ranked if SCORE[s][0] == best[0] and SCORE[s][1] <= factor * best[1]][:most]

variants = {"k1": ranked[:1], "band1.15": band(1.15)}
for name, steps in variants.items():
    if name != "k1" and steps == variants["k1"]:
        out["mix"][name] = out["mix"]["k1"]; print(name, "same as k1", flush=True); continue
    k = len(steps)
    samples = []
    for i, step in enumerate(steps):
        model.sampling_energy.load_state_dict(SNAP[step])
        n = 512 // k + (1 if i < 512 % k else 0)
        samples += model.sample(n, seed=1 + i, progress=False)
    mmd = graph_mmd(samples, outer, STATS)
    out["mix"][name] = {"steps": steps, **mmd, "novelty": graph_novelty(samples, train),
                        "multiples": [mmd[s] / floor[s]["mean"] if floor[s]["mean"] else None for s in STATS]}
    print(name, steps, out["mix"][name], flush=True)
json.dump(out, open(f"/tmp/diag/band4/band_{ds}_{seed}.json", "w"), default=str)
