"""Exploration: a few GraphEBM chain steps started at the latent model's samples (validation graphs only)."""
import json, sys, time
sys.path.insert(0, "/work/main/evaluation")
import torch
from edgraph import GraphEBM
from edgraph.datasets import dataset_info, load_graphs
from edgraph.graphs import pair_mask
from edgraph.metrics import reference_floor
from edgraph.models import LatentGraphEBM
from edgraph.models.base import hold_out
from edgraph.models.graph import graph_record
from latent import scored, FLOOR_SEEDS, STATS

def job(spec):
    dataset, seed = spec
    torch.set_num_threads(1)
    n = dataset_info(dataset).max_nodes
    train, held = hold_out(load_graphs(dataset, "train"), 0.2, seed)
    t = time.perf_counter()
    latent = LatentGraphEBM(n).fit(train, seed=seed, progress=False)
    t_lat = time.perf_counter() - t
    t = time.perf_counter()
    gebm = GraphEBM(n).fit(train, seed=seed, max_steps=1400, progress=False)
    t_gebm = time.perf_counter() - t
    floor = reference_floor(train, held, 512, FLOOR_SEEDS, stats=STATS)
    starts = latent.sample(512, seed=seed)
    record = graph_record(starts, n)
    x = record["edges"].float()
    mask = pair_mask(torch.arange(n) < record["num_nodes"][:, None])
    gebm.data_states = lambda num, generator, device, label=None: (x[:num].clone().to(device), mask[:num].clone().to(device))
    rows = []
    for steps in (0, 5, 20, 50, 200):
        t = time.perf_counter()
        samples = gebm.sample(512, seed=seed, init="data", steps=steps)
        r = scored(samples, held, train, floor, time.perf_counter() - t)
        rows.append({"dataset": dataset, "seed": seed, "gwg_steps": steps, "ratio": round(r["ratio"], 3),
                     "mmd": {k: round(v, 4) for k, v in r["mmd"].items()},
                     "floor": {k: round(floor[k]["mean"], 4) for k in STATS}, "novel": round(r["novelty"], 3),
                     "edges": round(r["mean_edges"], 1), "latent_s": round(t_lat), "gebm_s": round(t_gebm),
                     "latent_selected": latent.selected_step})
        print(json.dumps(rows[-1]), flush=True)
    with open("/work/main/runs/refine/results.jsonl", "a") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")

if __name__ == "__main__":
    from concurrent.futures import ProcessPoolExecutor
    specs = [("community_small_gdss", 0), ("community_small_gdss", 1), ("ego_small", 0), ("ego_small", 1)]
    with ProcessPoolExecutor(2) as pool:
        list(pool.map(job, specs))
