"""Samples of two training seeds mixed half and half (the cosine 1,400-step models, runs/cos1400): is the gap
to the floor seed variance or a bias every seed shares? Usage: python ego_seed_mixture.py RUN_DIR RUN_DIR ..."""
import sys, torch, itertools
from edgraph import GraphEBM
from edgraph.datasets import load_graphs
from edgraph.metrics import graph_mmd
torch.set_num_threads(1)
te = load_graphs("ego_small", "test")
paths = sys.argv[1:]
samples = {p: GraphEBM.load(p).sample(1024, steps=200, seed=0) for p in paths}
for p in paths:
    r = graph_mmd(samples[p], te, ("degree", "clustering", "orbit")); print("single", p[-6:], {k: round(v, 4) for k, v in r.items()}, flush=True)
for a, b in itertools.combinations(paths, 2):
    mixed = samples[a][::2] + samples[b][1::2]
    r = graph_mmd(mixed, te, ("degree", "clustering", "orbit")); print("mix", a[-6:], b[-6:], {k: round(v, 4) for k, v in r.items()}, flush=True)
