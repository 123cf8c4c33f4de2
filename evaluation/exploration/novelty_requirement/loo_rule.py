"""Would a steadier novelty requirement choose better checks? The library requires the samples'
novelty to reach the inner held-out fifth's own novelty against the training part, less 10 points.
Here the requirement is instead the training part's leave-one-out novelty (the share of its graphs
isomorphic to no other graph in it), less 10 points, and the same checks of c489ee3's study are
re-chosen. Run from a folder holding that commit's selection_*.json files, with PYTHONPATH at a checkout."""
import glob, json, statistics
import networkx as nx
from edgraph.datasets import load_graphs
from edgraph.models.base import hold_out
from edgraph.models.graph import novelty_required

STATS = ("degree", "clustering", "orbit")

def loo_novelty(graphs):
    hashes = [nx.weisfeiler_lehman_graph_hash(g, iterations=4) for g in graphs]
    new = 0
    for i, g in enumerate(graphs):
        new += not any(hashes[j] == hashes[i] and nx.is_isomorphic(g, graphs[j]) for j in range(len(graphs)) if j != i)
    return new / len(graphs)

means = {}
for path in sorted(glob.glob("selection_*.json")):
    run = json.load(open(path))
    train, outer = hold_out(load_graphs(run["dataset"], "train"), 0.2, run["seed"])
    kept, inner = hold_out(list(range(len(train))), 0.2, run["seed"])
    inner_train = [train[i] for i in kept]
    checks, floor = run["checks"], run["outer_floor"]
    rules = {"inner_fifth": run["required"], "leave_one_out": max(0.0, loo_novelty(inner_train) - 0.1),
             "outer_fifth(oracle)": novelty_required(outer, train)}
    for rule, required in rules.items():
        i = min(range(len(checks)), key=lambda i: (max(0.0, required - checks[i]["novelty"]), sum(checks[i]["inner"][s] for s in STATS)))
        multiples = [checks[i]["outer"][s] / floor[s]["mean"] for s in STATS]
        means.setdefault((run["dataset"], rule), []).append(multiples + [checks[i]["novelty"]])
        print(run["dataset"], run["seed"], rule, f"required {required:.2f}", "check", i, " / ".join(f"{m:.2f}" for m in multiples), f"novelty {checks[i]['novelty']:.2f}")
for (dataset, rule), rows in sorted(means.items()):
    print("mean", dataset, rule, len(rows), " / ".join(f"{statistics.fmean(r[j] for r in rows):.2f}" for j in range(4)))
