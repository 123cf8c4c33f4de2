"""Ensembles of independently trained ego_small models (runs/cos1400: the default recipe, training seeds
0-5), two ways: (a) a product of experts, sampling exp(-mean_k E_k) with GWG 200; (b) a mixture, half
of the graphs from each model. Does either remove the seed-to-seed variance? gdss MMD of 1,024 graphs,
sampling seed 0. Usage: python ego_energy_ensemble.py RUN_DIR RUN_DIR [RUN_DIR ...] (pairs in order)"""
import sys
import time

import torch
from torch import nn

from edgraph import GraphEBM
from edgraph.datasets import load_graphs
from edgraph.metrics import graph_mmd


class MeanEnergy(nn.Module):
    def __init__(self, energies: list[nn.Module]) -> None:
        super().__init__()
        self.energies = nn.ModuleList(energies)

    def forward(self, x, mask):
        return torch.stack([energy(x, mask) for energy in self.energies]).mean(0)


torch.set_num_threads(1)
test = load_graphs("ego_small", "test")
paths = sys.argv[1:]
for a, b in zip(paths[::2], paths[1::2]):
    first, second = GraphEBM.load(a), GraphEBM.load(b)
    mixture = first.sample(512, seed=0) + second.sample(512, seed=1)
    start = time.time()
    product = first._sample_with(MeanEnergy([first.sampling_energy, second.sampling_energy]), 1024, seed=0)
    seconds = time.time() - start
    for name, graphs in (("mixture", mixture), ("product", product)):
        mmd = graph_mmd(graphs, test, ("degree", "clustering", "orbit"))
        print(name, a[-5:], b[-5:], {k: round(v, 4) for k, v in mmd.items()},
              f"{seconds:.0f} s" if name == "product" else "", flush=True)
