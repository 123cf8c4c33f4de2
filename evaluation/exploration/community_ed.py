"""Which ED settings let a GraphEBM learn community_small_gdss? One training seed per variant.

    python evaluation/exploration/community_ed.py NAME '{"flips": 8}' STEPS [SAMPLER_STEPS]

Trains on the train split (1 thread), samples 256 graphs with GWG and prints the gdss MMD against the
20 test graphs together with the mean clustering coefficient and edge count of samples and test graphs.
"""
import json
import sys
import time

import networkx as nx
import torch

from edgraph import GraphEBM
from edgraph.datasets import load_graphs
from edgraph.metrics import graph_mmd

torch.set_num_threads(1)
name, options, steps = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
sampler_steps = int(sys.argv[4]) if len(sys.argv) > 4 else 500
train, test = load_graphs("community_small_gdss", "train"), load_graphs("community_small_gdss", "test")
model = GraphEBM(20, **options)
cpu = time.process_time()
model.fit(train, run_dir=f"/work/runs/community/{name}", max_steps=steps, progress=False)
train_cpu = time.process_time() - cpu
cpu = time.process_time()
graphs = model.sample(256, steps=sampler_steps, seed=0)
sample_cpu = time.process_time() - cpu
mmd = graph_mmd(graphs, test, ("degree", "clustering", "orbit"))


def summary(gs):
    return round(sum(nx.average_clustering(g) for g in gs) / len(gs), 3), round(sum(g.number_of_edges() for g in gs) / len(gs), 1)


print(json.dumps({"name": name, "options": options, "steps": steps, "sampler_steps": sampler_steps,
                  "train_cpu": round(train_cpu), "sample_cpu": round(sample_cpu),
                  "mmd": {k: round(v, 4) for k, v in mmd.items()},
                  "clustering_edges_samples": summary(graphs), "clustering_edges_test": summary(test)}), flush=True)
