"""Chains started at Chung-Lu random graphs with the degree sequences of training graphs.

Between init="noise" (Bernoulli(rho_n) per size) and init="data" (the training graphs themselves):
each chain draws a training graph, keeps only its degree sequence w and starts at the random graph
with P(ij) = min(1, w_i w_j / sum_k w_k) (Chung & Lu, "Connected components in random graphs with
given expected degree sequences", Annals of Combinatorics 2002). The chain then sees the data's
degrees and size but none of its edges. Prints gdss MMD and novelty of 1,024 samples after
0 (the Chung-Lu graphs alone), 20 and 200 GWG steps, and from noise for comparison.

Usage: python ego_chung_lu_init.py MODEL [MODEL ...]"""
import sys

import torch

from edgraph import GraphEBM
from edgraph.datasets import load_graphs
from edgraph.graphs import edges_to_adj, adj_to_edges, graphs_from_json
from edgraph.metrics import graph_mmd, graph_novelty

torch.set_num_threads(1)
test = load_graphs("ego_small", "test")


def chung_lu_states(model: GraphEBM, num_graphs: int, generator: torch.Generator, device="cpu"):
    x, mask = model.data_states(num_graphs, generator, device)
    adj = edges_to_adj(x, model.config.max_nodes)
    w = adj.sum(-1)
    p = (w[:, :, None] * w[:, None, :] / w.sum(-1)[:, None, None].clamp(min=1)).clamp(max=1)
    return torch.bernoulli(adj_to_edges(p) * mask, generator=generator), mask


for path in sys.argv[1:]:
    model = GraphEBM.load(path)
    train = graphs_from_json({"graphs": model.training_graphs})
    for init, steps in (("noise", 200), ("chung-lu", 0), ("chung-lu", 20), ("chung-lu", 200)):
        if init == "chung-lu":
            model.initial_states = lambda k, gen, device="cpu": chung_lu_states(model, k, gen, device)
        graphs = model.sample(1024, steps=steps, seed=0)
        mmd = graph_mmd(graphs, test, ("degree", "clustering", "orbit"))
        print(f"{path} {init} + {steps}", {k: round(v, 4) for k, v in mmd.items()},
              f"novel {graph_novelty(graphs, train):.2f}", flush=True)
