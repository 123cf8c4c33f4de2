"""Stratified inner split probe: a default latent fit on hold_out(train, 0.2, seed) whose own inner
validation fifth is drawn by systematic sampling along node counts; 512 samples (seed 1) scored
against the outer fifth."""
import collections, json, math, sys, time
import torch
sys.path.insert(0, "/work/snap/evaluation"); sys.path.insert(0, "/work/snap")
from latent import FLOOR_SEEDS
from edgraph.datasets import dataset_info, load_graphs
from edgraph.metrics import graph_mmd, reference_floor
from edgraph.metrics.diversity import graph_novelty
from edgraph.models import LatentGraphEBM
from edgraph.models.base import hold_out
import edgraph.models.graph as graph_mod

STATS = ("degree", "clustering", "orbit")
ds, seed = sys.argv[1], int(sys.argv[2])
torch.set_num_threads(1)
train, outer = hold_out(load_graphs(ds, "train"), 0.2, seed)
SIZES = [g.number_of_nodes() for g in train]
INNER = {}

def stratified(items, fraction, seed):
    n = len(items)
    count = min(n - 1, max(1, round(fraction * n)))
    g = torch.Generator().manual_seed(seed)
    rank = torch.randperm(n, generator=g).tolist()
    offset = torch.rand((), generator=g).item()
    order = sorted(range(n), key=lambda i: (SIZES[items[i]], rank[i]))
    held = {order[j] for j in range(n) if math.floor((j + 1) * count / n + offset) > math.floor(j * count / n + offset)}
    assert len(held) == count
    INNER["held_sizes"] = sorted(SIZES[items[i]] for i in held)
    return [x for i, x in enumerate(items) if i not in held], [x for i, x in enumerate(items) if i in held]

graph_mod.hold_out = stratified
t = time.perf_counter()
model = LatentGraphEBM(dataset_info(ds).max_nodes).fit(train, seed=seed, progress=False)
train_seconds = time.perf_counter() - t
floor = reference_floor(train, outer, 512, FLOOR_SEEDS, stats=STATS)
samples = model.sample(512, seed=1, progress=False)
mmd = graph_mmd(samples, outer, STATS)
share = collections.Counter(g.number_of_nodes() for g in samples)
out = {"dataset": ds, "seed": seed, "T": model.decoder_temperature, "step": model.selected_step,
       "train_seconds": train_seconds, "floor": floor, **mmd, "novelty": graph_novelty(samples, train),
       "multiples": [mmd[s] / floor[s]["mean"] if floor[s]["mean"] else None for s in STATS],
       "sum": sum(mmd[s] for s in STATS) / sum(floor[s]["mean"] for s in STATS),
       "held_sizes": INNER["held_sizes"], "sample_sizes": dict(sorted(share.items()))}
print(out, flush=True)
json.dump(out, open(f"/tmp/diag/strat/strat_{ds}_{seed}.json", "w"), default=str)
