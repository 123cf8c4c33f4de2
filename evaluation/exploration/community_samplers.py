import time
from edgraph import GraphEBM
from edgraph.datasets import load_graphs
from edgraph.metrics import graph_mmd
import sys
m = GraphEBM.load(sys.argv[1])  # the run directory of the recorded community_small_gdss model
te = load_graphs("community_small_gdss", "test")
for sampler, k, ss in [("gwg", 500, None), ("gwg", 3000, None), ("dmala", 1000, 0.25)]:
    t = time.process_time()
    g = m.sample(256, sampler=sampler, steps=k, step_size=ss, seed=0)
    r = graph_mmd(g, te, ("degree", "clustering", "orbit"))
    print(sampler, k, ss, "cpu %.1f" % (time.process_time() - t), {a: round(b, 4) for a, b in r.items()}, flush=True)
