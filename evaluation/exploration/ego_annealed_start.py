"""Chains from noise that first run hot: GWG at temperatures T_1 > ... > 1 (equal shares of the steps,
target exp(-E/T)), to see whether a tempered start finds the basins around the larger training graphs
that plain chains from noise miss (and chains from the data sit in). Same models as the init="data"
rows (runs/datainit), 1,024 graphs, sampling seed 0, gdss MMD to the test split; "plain" is GWG at T = 1
for the same total steps. Usage: python ego_annealed_start.py STEPS T1,T2,... RUN_DIR [RUN_DIR ...]"""
import sys

import torch

import edgraph.model
from edgraph import GraphEBM
from edgraph.datasets import load_graphs
from edgraph.metrics import graph_mmd
from edgraph.samplers import GWG


class Annealed:
    def __init__(self, temperatures: list[float]) -> None:
        self.temperatures = temperatures

    def sample(self, energy, x, steps, mask=None, generator=None, progress=False):
        share = steps // len(self.temperatures)
        for temperature in self.temperatures:
            x = GWG(temperature=temperature).sample(energy, x, share, mask, generator=generator)
        return x


torch.set_num_threads(1)
steps, temperatures = int(sys.argv[1]), [float(t) for t in sys.argv[2].split(",")]
test = load_graphs("ego_small", "test")
plain_sampler = edgraph.model.make_sampler
for path in sys.argv[3:]:
    model = GraphEBM.load(path)
    for name, factory in (("plain", plain_sampler), ("annealed", lambda *args: Annealed(temperatures))):
        edgraph.model.make_sampler = factory
        mmd = graph_mmd(model.sample(1024, steps=steps, seed=0), test, ("degree", "clustering", "orbit"))
        print(f"{path} {name} {steps} steps {temperatures if name == 'annealed' else [1.0]}",
              {k: round(v, 4) for k, v in mmd.items()}, flush=True)
