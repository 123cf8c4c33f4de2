"""Edge count, triangles, connectivity and the hub (a node of degree n - 1, which every ego graph
has) by size band: training graphs against 1,024 samples from noise (GWG 200, seed 0) of a model.

Usage: python ego_size_edges.py MODEL"""
import sys, torch, networkx as nx, numpy as np
from edgraph import GraphEBM
from edgraph.datasets import load_graphs
torch.set_num_threads(1)
train = load_graphs("ego_small", "train")
def stats(gs, name):
    for lo, hi in ((4, 7), (7, 10), (10, 14), (14, 19)):
        sel = [g for g in gs if lo <= g.number_of_nodes() < hi]
        if not sel: continue
        e = np.mean([g.number_of_edges() for g in sel]); conn = np.mean([nx.is_connected(g) for g in sel])
        hub = np.mean([max(d for _, d in g.degree()) == g.number_of_nodes() - 1 for g in sel])
        tri = np.mean([sum(nx.triangles(g).values()) / 3 for g in sel])
        print(f"{name} n {lo}-{hi - 1} ({len(sel)}): edges {e:.1f} triangles {tri:.1f} connected {conn:.2f} hub {hub:.2f}")
stats(train, "train")
m = GraphEBM.load(sys.argv[1])
stats(m.sample(1024, seed=0), "noise200")
