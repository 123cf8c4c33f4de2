"""Benchmark: time and peak memory of one ED training step and one sampler step against node count.

For each node count N, random graphs of N nodes with mean degree about 6 (a planar graph's
density; Erdős–Rényi, seeded) are padded to N, and the default GraphEBM energy is timed in its
own process (so that the peak resident memory is that configuration's own):

* one ED training step: batch 32, M = 32 negatives, forward, backward and optimiser step;
* one GWG step on 256 chains (one energy-and-gradient call plus the proposal and the test).

    python evaluation/bench_scaling.py [--sizes 20 64 128 187 256] [--steps 2] \
        [--out evaluation/results/bench_scaling.json] [--plot evaluation/results/bench_scaling.png]
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import networkx as nx
import torch
from bench_training import median_step_seconds

RESULTS = Path(__file__).resolve().parent / "results"


def run_one(num_nodes: int, steps: int) -> dict:
    """Median seconds of ``steps`` ED steps and ``steps`` GWG steps at ``num_nodes`` nodes, after one
    untimed step of each, and the process's peak resident memory above its start."""
    from edgraph import GraphEBM
    from edgraph.samplers import GWG
    from edgraph.training import TrainConfig

    torch.manual_seed(0)
    graphs = [nx.gnp_random_graph(num_nodes, 6 / (num_nodes - 1), seed=i) for i in range(64)]
    model = GraphEBM(num_nodes)
    x, mask = model.prepare(graphs)
    loss = model.training_loss(TrainConfig())
    start_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    ed_step = median_step_seconds(model.energy, loss, x, mask, steps, warmup=1)
    train_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    generator = torch.Generator().manual_seed(0)
    chains = torch.randint(len(x), (256,), generator=generator)
    states, chain_mask = x[chains].clone(), mask[chains]
    sampler, energy = GWG(), model.energy.eval()
    sample_times = []
    with torch.no_grad():
        for step in range(steps + 1):
            start = time.perf_counter()
            states = sampler.sample(energy, states, 1, chain_mask, generator=generator)
            if step:
                sample_times.append(time.perf_counter() - start)
    return {
        "num_nodes": num_nodes,
        "pairs": num_nodes * (num_nodes - 1) // 2,
        "ed_step_seconds": ed_step,
        "gwg_step_seconds_256_chains": sorted(sample_times)[len(sample_times) // 2],
        "peak_rss_training_mb": (train_rss - start_rss) / 1024,
        "peak_rss_mb": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - start_rss) / 1024,
    }


def plot(rows: list[dict], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    nodes = [r["num_nodes"] for r in rows]
    figure, (time_axis, memory_axis) = plt.subplots(1, 2, figsize=(9, 3.5))
    time_axis.loglog(nodes, [r["ed_step_seconds"] for r in rows], "o-", label="ED step (32 graphs, M = 32)")
    time_axis.loglog(nodes, [r["gwg_step_seconds_256_chains"] for r in rows], "s-", label="GWG step (256 chains)")
    time_axis.set(xlabel="nodes N", ylabel="seconds", title="time per step")
    time_axis.legend(fontsize=8)
    memory_axis.loglog(nodes, [max(r["peak_rss_mb"], 1) for r in rows], "o-")
    memory_axis.set(xlabel="nodes N", ylabel="MB above the process start", title="peak memory")
    for axis in (time_axis, memory_axis):
        axis.set_xticks(nodes, [str(n) for n in nodes], minor=False)
        axis.set_xticks([], minor=True)
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20, 64, 128, 187, 256])
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", default=str(RESULTS / "bench_scaling.json"))
    parser.add_argument("--plot", default=str(RESULTS / "bench_scaling.png"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.one:
        print(json.dumps(run_one(args.one, args.steps)))
        return
    rows = []
    for num_nodes in args.sizes:
        command = [sys.executable, __file__, "--one", str(num_nodes), "--steps", str(args.steps)]
        result = subprocess.run([*command, "--threads", str(args.threads)], capture_output=True, text=True, check=True)
        rows.append(json.loads(result.stdout.strip().splitlines()[-1]))
        print(rows[-1], flush=True)
    report = {
        "benchmark": "one ED training step and one GWG step of the default GraphEBM against node count",
        "timed_steps": args.steps,
        "threads": args.threads,
        "torch": torch.__version__,
        "machine": platform.processor() or platform.machine(),
        "rows": rows,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2))
    plot(rows, args.plot)
    print(f"-> {args.out}, {args.plot}")


if __name__ == "__main__":
    main()
