import csv, json, glob, sys
from edgraph.datasets import load_graphs
from edgraph.models.base import hold_out
from edgraph.models.graph import novelty_required
req_cache = {}
for f in sorted(glob.glob("evaluation/results/graphs/*latent*.json")):
    d = json.load(open(f))
    for r in d["results"]:
        seed = r["train_seed"]; ds = d["dataset"]
        if (ds, seed) not in req_cache:
            tr, held = hold_out(load_graphs(ds, "train"), 0.2, seed)
            req_cache[ds, seed] = novelty_required(held, tr)
        req = req_cache[ds, seed]
        rows = []
        for log in r["validation_log"]:
            rows += [x for x in csv.DictReader(open(log)) if x.get("val_novelty")]
        def mmd(x): return sum(float(x[f"val_{s}"]) for s in ("degree", "clustering", "orbit"))
        new = min(rows, key=lambda x: (max(0.0, req - float(x["val_novelty"])), mmd(x)))
        ok = any(float(x["val_novelty"]) >= req for x in rows)
        print(f.split("/")[-1], seed, "req %.3f" % req, "max_nov %.3f" % max(float(x["val_novelty"]) for x in rows), "selected", r["selected_step"], "new", int(new["step"]) + 1, "SAME" if int(new["step"]) + 1 == r["selected_step"] else "DIFF")
