"""Mixtures of K independently trained ego_small models (runs/cos1400: the default recipe, training
seeds 0-5): 1,024 graphs, an equal share from each model, against the test split (gdss). How far does
averaging over training runs go, and does the orbit gap close? Usage: python ego_mixture_size.py RUN_DIR..."""
import sys

import torch

from edgraph import GraphEBM
from edgraph.datasets import load_graphs
from edgraph.metrics import graph_mmd

torch.set_num_threads(1)
test = load_graphs("ego_small", "test")
samples = [GraphEBM.load(path).sample(1024, seed=0) for path in sys.argv[1:]]
for k in (1, 2, 3, 6):
    for first in range(0, len(samples) - k + 1, k):
        group = samples[first:first + k]
        mixed = [graph for i in range(1024) for graph in [group[i % k][i]]]
        mmd = graph_mmd(mixed, test, ("degree", "clustering", "orbit"))
        print(f"K {k} models {first}-{first + k - 1}", {key: round(v, 4) for key, v in mmd.items()}, flush=True)
