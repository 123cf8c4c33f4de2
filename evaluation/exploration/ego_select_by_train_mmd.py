"""Can the training graphs pick the better of several training runs? Training seeds decide more
than any setting (ego_small: degree 0.0116-0.0241 over six runs of the same recipe), and one run
takes ~95 s, so two runs fit the 3-minute budget on 2 cores. For each model: the gdss MMD of 1,024
samples from noise (GWG 200) against the *training* graphs (sampling seed 1, the selection) and
against the test split (sampling seed 0, the evaluation).

Usage: python ego_select_by_train_mmd.py MODEL [MODEL ...]"""
import sys

import torch

from edgraph import GraphEBM
from edgraph.datasets import load_graphs
from edgraph.metrics import graph_mmd

torch.set_num_threads(1)
train, test = load_graphs("ego_small", "train"), load_graphs("ego_small", "test")
stats = ("degree", "clustering", "orbit")
for path in sys.argv[1:]:
    model = GraphEBM.load(path)
    select = graph_mmd(model.sample(1024, seed=1), train, stats)
    evaluate = graph_mmd(model.sample(1024, seed=0), test, stats)
    print(path, "train", {k: round(v, 4) for k, v in select.items()}, "test", {k: round(v, 4) for k, v in evaluate.items()},
          flush=True)
