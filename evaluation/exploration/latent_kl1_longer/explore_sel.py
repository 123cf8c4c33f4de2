"""Exploration: latent model variants on held-out fifths (validation), sum(MMD)/sum(floor)."""
import json, sys, time
sys.path.insert(0, "/work/main/evaluation")
import numpy as np
import networkx as nx
import torch
import edgraph.models.graph as G
from edgraph.datasets import dataset_info, load_graphs
from edgraph.metrics import reference_floor
from edgraph.models import LatentGraphEBM
from edgraph.models.base import hold_out
from latent import scored, FLOOR_SEEDS, STATS

def fiedler_order(graph):
    nodes = list(graph)
    if len(nodes) < 3:
        return G.bfs_order(graph)
    lap = nx.laplacian_matrix(graph, nodelist=nodes).toarray().astype(float)
    vals, vecs = np.linalg.eigh(lap)
    f = vecs[:, 1]
    deg = np.array([graph.degree(v) for v in nodes])
    # sign fixed so the hub's side comes first
    if f[int(np.argmax(deg))] > 0:
        f = -f
    return [nodes[i] for i in np.lexsort((-deg, np.round(f, 6)))]

def job(spec):
    name, dataset, seed, kwargs, order, steps, num, fit = spec
    torch.set_num_threads(1)
    if order == "fiedler":
        G.bfs_order = fiedler_order
    train, held = hold_out(load_graphs(dataset, "train"), 0.2, seed)
    model = LatentGraphEBM(dataset_info(dataset).max_nodes, **kwargs)
    t = time.perf_counter()
    model.fit(train, f"/work/main/runs/latent2/runs/{name}_{dataset}_{seed}", max_steps=steps, seed=seed, progress=False, **fit)
    ts = time.perf_counter() - t
    floor = reference_floor(train, held, num, FLOOR_SEEDS, stats=STATS)
    t = time.perf_counter()
    samples = model.sample(num, seed=seed)
    r = scored(samples, held, train, floor, time.perf_counter() - t)
    out = {"name": name, "dataset": dataset, "seed": seed, "ratio": round(r["ratio"], 3),
           "mmd": {k: round(v, 4) for k, v in r["mmd"].items()},
           "floor": {k: round(floor[k]["mean"], 4) for k in STATS},
           "novel": round(r["novelty"], 3), "unique": round(r["uniqueness"], 3),
           "edges": round(r["mean_edges"], 1), "train_s": round(ts), "steps": steps, "selected": model.selected_step, "fit": fit}
    with open("/work/main/runs/latent2/sel.jsonl", "a") as f:
        f.write(json.dumps(out) + "\n")
    print(json.dumps(out), flush=True)

if __name__ == "__main__":
    from concurrent.futures import ProcessPoolExecutor
    specs = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
    with ProcessPoolExecutor(int(sys.argv[2])) as pool:
        list(pool.map(job, specs))
