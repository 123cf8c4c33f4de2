"""Which node counts carry the gap from noise? For each model, 1,024 graphs: chains from noise for
graphs of fewer than CUT nodes and from the training graphs (init="data", GWG 200 either way) for
the rest, so the MMD shows what the from-noise samples of CUT+ nodes cost. Both calls draw node
counts from the training distribution, so the mixture does too (its size varies around 1,024).

Usage: python ego_size_attribution.py CUT MODEL [MODEL ...]"""
import sys

import torch

from edgraph import GraphEBM
from edgraph.datasets import load_graphs
from edgraph.metrics import graph_mmd

torch.set_num_threads(1)
test = load_graphs("ego_small", "test")
cut = int(sys.argv[1])
for path in sys.argv[2:]:
    model = GraphEBM.load(path)
    noise, data = model.sample(1024, seed=0), model.sample(1024, seed=0, init="data")
    mixed = [g for g in noise if g.number_of_nodes() < cut] + [g for g in data if g.number_of_nodes() >= cut]
    for name, graphs in (("noise", noise), (f"noise <{cut}, data >={cut}", mixed)):
        mmd = graph_mmd(graphs, test, ("degree", "clustering", "orbit"))
        print(path, name, len(graphs), {k: round(v, 4) for k, v in mmd.items()}, flush=True)
