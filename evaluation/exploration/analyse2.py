import sys, collections, torch, time
from edgraph import GraphEBM
from edgraph.datasets import load_graphs
from edgraph.metrics import graph_mmd
m = GraphEBM.load(sys.argv[1])
tr, te = load_graphs("ego_small","train"), load_graphs("ego_small","test")
for sampler, k in [("dmala", 100), ("gwg", 300)]:
    t = time.process_time()
    g = m.sample(1024, sampler=sampler, steps=k, step_size=0.25, seed=0)
    dt = time.process_time() - t
    r = graph_mmd(g, te, ("degree","clustering","orbit"))
    print(sys.argv[1], sampler, k, "cpu %.1f" % dt, "edges %.2f" % (sum(x.number_of_edges() for x in g)/len(g)), {a: round(b, 4) for a, b in r.items()})
by = collections.defaultdict(list)
for x in g: by[x.number_of_nodes()].append(x.number_of_edges())
byt = collections.defaultdict(list)
for x in tr: byt[x.number_of_nodes()].append(x.number_of_edges())
print(" ".join("%d:%.1f/%.1f" % (n, sum(byt[n])/len(byt[n]), sum(by.get(n,[0]))/max(1,len(by.get(n,[])))) for n in sorted(byt)))
