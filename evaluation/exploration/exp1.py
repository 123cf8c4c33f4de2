import sys, time, json, torch
from edgraph import GraphEBM
from edgraph.datasets import load_graphs
from edgraph.metrics import graph_mmd
name, hidden, layers, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
feats = sys.argv[5].split(",") if len(sys.argv) > 5 else ["degree","triangles","size"]
tr, te = load_graphs("ego_small","train"), load_graphs("ego_small","test")
m = GraphEBM(18, hidden=hidden, layers=layers, features=feats)
t=time.time(); c0=time.process_time()
m.fit(tr, run_dir=f"/tmp/exp/{name}", max_steps=steps, progress=False)
print(name, "train wall", time.time()-t, "cpu", time.process_time()-c0, flush=True)
for sampler, k, ss in [("gwg",500,None),("dmala",200,0.25),("dmala",100,0.25),("gwg",200,None)]:
    t=time.time(); c0=time.process_time()
    g = m.sample(1024, sampler=sampler, steps=k, step_size=ss, seed=0)
    dt=time.time()-t; dc=time.process_time()-c0
    r = graph_mmd(g, te, ("degree","clustering","orbit"))
    print(name, sampler, k, "wall %.1f cpu %.1f"%(dt,dc), "edges %.2f"%(sum(x.number_of_edges() for x in g)/len(g)), {k2: round(v,4) for k2,v in r.items()}, flush=True)
