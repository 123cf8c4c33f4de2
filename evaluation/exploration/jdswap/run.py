"""Exploration: train on train-minus-validation graphs, score samples against the validation graphs."""
import argparse, json, time, sys
import numpy as np, networkx as nx, torch
torch.set_num_threads(1)
from edgraph import GraphEBM
from edgraph.datasets.graph_benchmarks import load_graphs
from edgraph.models.base import hold_out
from edgraph.metrics import graph_mmd
from edgraph.metrics.diversity import graph_novelty

def family(name):
    return load_graphs(name, "train"), load_graphs(name, "test")

p = argparse.ArgumentParser()
p.add_argument("--data", default="community_small_gdss")
p.add_argument("--seed", type=int, default=0)
p.add_argument("--steps", type=int, default=1400)
p.add_argument("--minutes", type=float, default=None)
p.add_argument("--sampler-steps", type=int, default=200)
p.add_argument("--num", type=int, default=512)
p.add_argument("--tag", required=True)
p.add_argument("--model", default="{}")
p.add_argument("--train", default="{}")
p.add_argument("--per-node", type=float, default=None)
p.add_argument("--cap", type=float, default=None)
p.add_argument("--density-frac", type=float, default=None)
p.add_argument("--ppgn", default=None)
p.add_argument("--variant", default=None)
p.add_argument("--swap", default=None)
p.add_argument("--patch", default=None)
a = p.parse_args()
if a.patch:
    sys.path.insert(0, "/work/main/runs/explore"); import importlib
    importlib.import_module(a.patch).patch()
if a.swap:
    sys.path.insert(0, "/work/main/runs/explore"); import swap
    swap.patch(*[float(v) if i < 2 else int(v) for i, v in enumerate(a.swap.split(","))])
if a.variant:
    sys.path.insert(0, "/work/main/runs/explore"); import ppgn
    ppgn.patch_variant(a.variant)
if a.ppgn:
    sys.path.insert(0, "/work/main/runs/explore"); import ppgn
    ppgn.patch(*map(int, a.ppgn.split(",")))
if a.cap is not None:
    from edgraph.models import graph as G
    from edgraph.perturbations import _free_sites, _flip
    class CappedFlip:
        def __init__(self, eps, k): self.eps, self.k = eps, k
        def sample(self, x, mask=None, generator=None):
            free = _free_sites(mask, x.shape)
            count = free.sum(-1, keepdim=True).float()
            return _flip(x, (self.k / count.clamp(min=1)).clamp(max=self.eps), free, generator)
    G.GraphConfig.perturbation = lambda self: CappedFlip(self.eps, a.cap)
if a.per_node is not None:
    from dataclasses import dataclass
    from edgraph.models import graph as G
    from edgraph.perturbations import _free_sites, _flip
    class NodeCappedFlip:
        def __init__(self, eps, c): self.eps, self.c = eps, c
        def sample(self, x, mask=None, generator=None):
            free = _free_sites(mask, x.shape)
            count = free.sum(-1, keepdim=True).float()
            n = (1 + torch.sqrt(1 + 8 * count)) / 2
            eps = (self.c / (n - 1).clamp(min=1)).clamp(max=self.eps)
            return _flip(x, eps, free, generator)
    G.GraphConfig.perturbation = lambda self: NodeCappedFlip(self.eps, a.per_node)
train, _test = family(a.data)
fit_graphs, val = hold_out(train, 0.2, a.seed)
n_max = max(g.number_of_nodes() for g in train)
if a.density_frac is not None:
    from edgraph.models import graph as G
    from edgraph.perturbations import _free_sites, _flip
    edges_n = np.zeros(n_max + 1); pairs_n = np.zeros(n_max + 1)
    for g in fit_graphs:
        n = g.number_of_nodes(); edges_n[n] += g.number_of_edges(); pairs_n[n] += n * (n - 1) / 2
    rho = torch.tensor(np.where(pairs_n > 0, edges_n / np.maximum(pairs_n, 1), 0.0), dtype=torch.float32)
    class DensityFlip:
        def __init__(self, eps, f): self.eps, self.f = eps, f
        def sample(self, x, mask=None, generator=None):
            free = _free_sites(mask, x.shape)
            count = free.sum(-1, keepdim=True).float()
            n = ((1 + torch.sqrt(1 + 8 * count)) / 2).round().long()
            eps = (self.f * rho[n]).clamp(max=self.eps, min=1e-3)
            return _flip(x, eps, free, generator)
    G.GraphConfig.perturbation = lambda self: DensityFlip(self.eps, a.density_frac)
model = GraphEBM(n_max, **json.loads(a.model))
t0 = time.time()
model.fit(fit_graphs, max_steps=a.steps, max_minutes=a.minutes, seed=a.seed, progress=False, **json.loads(a.train))
t_train = time.time() - t0
res = {"patch": a.patch, "swap": a.swap, "variant": a.variant, "ppgn": a.ppgn, "density_frac": a.density_frac, "cap": a.cap, "per_node": a.per_node, "tag": a.tag, "data": a.data, "seed": a.seed, "model": json.loads(a.model), "train": json.loads(a.train), "steps": model.steps_trained, "train_s": t_train}
for ss in sorted({a.sampler_steps, 2 * a.sampler_steps}):
    t0 = time.time()
    samples = model.sample(a.num, seed=0, steps=ss)
    res[f"sample_s_{ss}"] = time.time() - t0
    res[f"val_{ss}"] = graph_mmd(samples, val, stats=("degree", "clustering", "orbit"))
    res[f"novel_{ss}"] = graph_novelty(samples, fit_graphs)
    res[f"edges_{ss}"] = float(np.mean([g.number_of_edges() for g in samples]))
res["data_edges"] = float(np.mean([g.number_of_edges() for g in fit_graphs]))
rng = np.random.default_rng(0)
res["floor"] = graph_mmd([fit_graphs[i] for i in rng.integers(len(fit_graphs), size=a.num)], val, stats=("degree", "clustering", "orbit"))
print(json.dumps(res))
with open(f"/work/main/runs/explore/results.jsonl", "a") as f:
    f.write(json.dumps(res) + "\n")
