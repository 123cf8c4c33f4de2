import sys, collections, torch
from edgraph import GraphEBM
from edgraph.datasets import load_graphs
m = GraphEBM.load(sys.argv[1])
tr, te = load_graphs("ego_small","train"), load_graphs("ego_small","test")
g = m.sample(1024, sampler="dmala", steps=100, step_size=0.25, seed=0)
by = collections.defaultdict(list)
for x in g: by[x.number_of_nodes()].append(x.number_of_edges())
byt = collections.defaultdict(list)
for x in tr: byt[x.number_of_nodes()].append(x.number_of_edges())
for n in sorted(byt):
    s = by.get(n, [0]); t = byt[n]
    print(n, "train %.2f (%d)" % (sum(t)/len(t), len(t)), "sampled %.2f (%d)" % (sum(s)/len(s), len(s)))
print("mean edges train %.2f test %.2f sampled %.2f" % (sum(x.number_of_edges() for x in tr)/len(tr), sum(x.number_of_edges() for x in te)/len(te), sum(x.number_of_edges() for x in g)/len(g)))
import networkx as nx
print("connected frac sampled", sum(nx.is_connected(x) for x in g)/len(g), "train", sum(nx.is_connected(x) for x in tr)/len(tr))
