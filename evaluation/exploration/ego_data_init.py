"""Where does the chain go from the data? Chains started at training graphs (drawn with replacement)
instead of Bernoulli(rho_n) noise, same GWG, for a growing number of steps, on a default-recipe model
(runs/cos1400 seed 0). If the energy's minima were at the data, the MMD to the test split would stay
near the floor (0.0144 / 0.0289 / 0.0047) and the chains near their starts; it is a diagnosis,
not a sampler (it copies the training set at 0 steps). Novel = not isomorphic to a training graph.
INIT: "noise" (the default start, for comparison), "data", or "data:P" (each pair of the training
graph flipped with probability P before the chain starts).
Usage: python ego_data_init.py RUN_DIR INIT STEPS [STEPS ...]"""
import sys

import torch

from edgraph import GraphEBM
from edgraph.datasets import load_graphs
from edgraph.metrics import graph_mmd, graph_novelty

torch.set_num_threads(1)
train, test = load_graphs("ego_small", "train"), load_graphs("ego_small", "test")
model = GraphEBM.load(sys.argv[1])
x_data, mask_data = model.prepare(train)


def from_training_graphs(num_graphs, generator, device="cpu"):
    rows = torch.randint(len(train), (num_graphs,), generator=generator)
    flips = (torch.rand(x_data[rows].shape, generator=generator) < flip_prob) * mask_data[rows]
    return (x_data[rows] + flips) % 2, mask_data[rows].clone()


init = sys.argv[2]
flip_prob = float(init[5:]) if init.startswith("data:") else 0.0
if init != "noise":
    model.initial_states = from_training_graphs
for steps in map(int, sys.argv[3:]):
    graphs = model.sample(1024, steps=steps, seed=0)
    mmd = graph_mmd(graphs, test, ("degree", "clustering", "orbit"))
    print(f"init {init} steps {steps}", {k: round(v, 4) for k, v in mmd.items()}, f"novel {graph_novelty(graphs, train):.3f}",
          f"mean edges {sum(g.number_of_edges() for g in graphs) / len(graphs):.2f}", flush=True)
