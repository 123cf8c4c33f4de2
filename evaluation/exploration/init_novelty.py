"""The same trained models sampled from noise and from the data (GWG, 1,024 graphs, sampling seed 0):
MMD to the test split (gdss), and how many samples are new (not isomorphic to a training graph) and
distinct — so that init="data" is compared on the models its result rows come from. INITS is e.g.
"noise:200,data:200" or "data:20,data:50" (init:steps).
Usage: python init_novelty.py DATASET INITS RUN_DIR [RUN_DIR ...]"""
import statistics
import sys
from collections import defaultdict

import torch

from edgraph import GraphEBM
from edgraph.datasets import load_graphs
from edgraph.metrics import graph_mmd, graph_novelty, graph_uniqueness

torch.set_num_threads(1)
train, test = load_graphs(sys.argv[1], "train"), load_graphs(sys.argv[1], "test")
settings = [(init, int(steps)) for init, steps in (item.split(":") for item in sys.argv[2].split(","))]
rows = defaultdict(list)
for path in sys.argv[3:]:
    model = GraphEBM.load(path)
    for init, steps in settings:
        graphs = model.sample(1024, steps=steps, seed=0, init=init)
        row = {**graph_mmd(graphs, test, ("degree", "clustering", "orbit")),
               "novel": graph_novelty(graphs, train), "unique": graph_uniqueness(graphs)}
        rows[init, steps].append(row)
        print(f"{path} init {init} steps {steps}", {k: round(v, 4) for k, v in row.items()}, flush=True)
for (init, steps), values in rows.items():
    print(f"mean over {len(values)} models: init {init} steps {steps}",
          {k: round(statistics.fmean(v[k] for v in values), 4) for k in values[0]}, flush=True)
