import json, sys, time, torch
torch.set_num_threads(1)
from edgraph import GraphEBM
from edgraph.datasets import load_graphs
from edgraph.models.base import hold_out
from edgraph.metrics import graph_mmd
rewire = None if sys.argv[1] == "none" else float(sys.argv[1])
seed = int(sys.argv[2])
train = load_graphs("ego_small", "train")
fit_graphs, val = hold_out(train, 0.2, seed)
model = GraphEBM(max(g.number_of_nodes() for g in train), rewire=rewire)
model.fit(fit_graphs, max_steps=1400, seed=seed, progress=False)
out = {"rewire": rewire, "seed": seed}
for init in ("noise", "data"):
    for steps in (200, 1000):
        s = model.sample(512, seed=0, steps=steps, init=init)
        out[f"{init}_{steps}"] = graph_mmd(s, val, stats=("degree", "clustering", "orbit"))
print(json.dumps(out), flush=True)
