import sys, time
from edgraph import GraphEBM
from edgraph.datasets import load_graphs
from edgraph.metrics import graph_mmd
m = GraphEBM.load(sys.argv[1])
te = load_graphs("ego_small","test")
for sampler, k, ss in [("dmala", 300, 0.25), ("dmala", 300, 0.5), ("dula", 200, 0.25), ("gwg", 500, None), ("gibbs", 500, None)]:
    t = time.process_time()
    g = m.sample(1024, sampler=sampler, steps=k, step_size=ss, seed=0)
    dt = time.process_time() - t
    r = graph_mmd(g, te, ("degree","clustering","orbit"))
    print(sys.argv[1], sampler, k, ss, "cpu %.1f" % dt, "edges %.2f" % (sum(x.number_of_edges() for x in g)/len(g)), {a: round(b, 4) for a, b in r.items()}, flush=True)
