"""Sampler settings on the recorded ego_small eps-0.2 models (runs/ego_eps02): more GWG steps, a temperature
below 1 (energy / T), raw weights instead of the EMA. Usage: python ego_sampler_settings.py SEED [SEED ...]"""
import sys, time, statistics, torch
from torch import nn
from edgraph import GraphEBM
from edgraph.datasets import load_graphs
from edgraph.metrics import graph_mmd
torch.set_num_threads(1)
class Scaled(nn.Module):
    def __init__(self, e, t):
        super().__init__(); self.e, self.t = e, t
    def forward(self, x, mask=None):
        return self.e(x, mask) / self.t
te = load_graphs("ego_small", "test")
tr = load_graphs("ego_small", "train")
print("train edges", statistics.fmean(g.number_of_edges() for g in tr), "test", statistics.fmean(g.number_of_edges() for g in te))
settings = [("gwg", 200, 1.0, "ema"), ("gwg", 1000, 1.0, "ema"), ("gwg", 200, 0.8, "ema"), ("gwg", 200, 0.6, "ema"), ("gwg", 200, 1.0, "raw")]
for seed in sys.argv[1:]:
    m = GraphEBM.load(f"runs/ego_eps02/ego_small-ed-seed{seed}")
    for s, k, T, which in settings:
        e = m.sampling_energy if which == "ema" else m.energy
        t = time.perf_counter()
        g = m._sample_with(Scaled(e, T), 1024, sampler=s, steps=k, seed=0)
        dt = time.perf_counter() - t
        r = graph_mmd(g, te, ("degree", "clustering", "orbit"))
        print(seed, s, k, T, which, "%.1fs" % dt, "edges %.2f" % statistics.fmean(x.number_of_edges() for x in g),
              {a: round(b, 4) for a, b in r.items()}, flush=True)
