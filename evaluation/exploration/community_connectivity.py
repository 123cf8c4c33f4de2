"""Chains from community_small_gdss training graphs: how far do 20 / 100 GWG steps take them, and does
a spectral feature keep them connected? Prints mean edges, triangles, the share of connected graphs
(every training graph is connected) and the gdss MMD of 1,024 samples (data + 20, data + 100, noise
+ 200 steps). The models with the ``connectivity`` feature (lambda_2 of the Laplacian, broadcast to
every node) were trained with ``community_connectivity_feature.patch`` applied and
``graph_results.py --dataset community_small_gdss --max-steps 4500 --model-options
'{"flips": 8, "features": ["degree", "triangles", "size", "connectivity"]}'``.

Usage: python community_connectivity.py MODEL [MODEL ...]"""
import sys, torch, networkx as nx, numpy as np
from edgraph import GraphEBM
from edgraph.datasets import load_graphs
from edgraph.metrics import graph_mmd
torch.set_num_threads(1)
test = load_graphs("community_small_gdss", "test")
def stats(gs, name):
    tri = np.mean([sum(nx.triangles(g).values())/3 for g in gs]); e = np.mean([g.number_of_edges() for g in gs])
    conn = np.mean([nx.is_connected(g) for g in gs])
    mmd = graph_mmd(gs, test, ("degree", "clustering", "orbit"))
    print(f"{name}: edges {e:.1f} triangles {tri:.1f} connected {conn:.2f}", {k: round(v, 4) for k, v in mmd.items()}, flush=True)
for path in sys.argv[1:]:
    m = GraphEBM.load(path)
    for steps in (20, 100):
        stats(m.sample(1024, steps=steps, init="data", seed=0), f"{path} data+{steps}")
    stats(m.sample(1024, seed=0), f"{path} noise200")
