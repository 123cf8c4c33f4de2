"""Benchmark: training steps per second and peak memory of ED (by M) and PCD-k (by k) on ego_small.

Both use the default GraphEBM energy and batch size 32, the same optimiser step, and the same
data; each configuration runs in its own process so that its peak resident memory is its own.
ED with M = 32 is also timed by the energy's ``buckets`` (size groups, each padded only to its
largest graph; 1 = the whole batch padded to 18 nodes): the same loss, less work on padding.

    python evaluation/bench_training.py [--steps 30] [--out evaluation/results/bench_training.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

RESULTS = Path(__file__).resolve().parent / "results"


def median_step_seconds(
    energy: torch.nn.Module, loss: Callable, x: torch.Tensor, mask: torch.Tensor, steps: int, warmup: int
) -> float:
    """Median wall seconds of ``steps`` optimiser steps (AdamW, batches of 32 drawn with seed 0)
    of ``loss(energy, x, mask)``, after ``warmup`` untimed ones."""
    optimiser = torch.optim.AdamW(energy.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(0)
    times = []
    for step in range(steps + warmup):
        batch = torch.randint(len(x), (32,), generator=generator)
        start = time.perf_counter()
        value = loss(energy, x[batch], mask[batch])
        optimiser.zero_grad()
        value.backward()
        optimiser.step()
        if step >= warmup:
            times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def run_one(objective: str, value: int, steps: int, sampler: str, buckets: int) -> dict:
    """Time ``steps`` optimiser steps of one configuration in this process."""
    from edgraph import GraphEBM
    from edgraph.datasets import load_graphs
    from edgraph.training import TrainConfig

    torch.manual_seed(0)
    model = GraphEBM(18, **({"num_negatives": value} if objective == "ed" else {}))
    model.energy.buckets = buckets
    x, mask = model.prepare(load_graphs("ego_small", "train"))
    loss = model.training_loss(TrainConfig(objective=objective, cd_steps=value, cd_sampler=sampler))
    baseline_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    median = median_step_seconds(model.energy, loss, x, mask, steps, warmup=3)
    return {
        "objective": objective,
        "M" if objective == "ed" else "k": value,
        "buckets": buckets,
        "steps_per_second": 1.0 / median,
        "median_step_ms": 1000 * median,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "peak_rss_above_start_mb": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - baseline_rss) / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--sampler", default="gwg")
    parser.add_argument("--one", nargs=3, metavar=("OBJECTIVE", "VALUE", "BUCKETS"), help=argparse.SUPPRESS)
    parser.add_argument("--out", default=str(RESULTS / "bench_training.json"))
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one[0], int(args.one[1]), args.steps, args.sampler, int(args.one[2]))))
        return
    rows = []
    configurations = (
        [("ed", m, 3) for m in (4, 16, 32, 64)]
        + [("ed", 32, b) for b in (1, 2, 6)]
        + [("pcd", k, 3) for k in (1, 5, 10, 20)]
    )
    for objective, value, buckets in configurations:
        result = subprocess.run(
            [
                sys.executable,
                __file__,
                "--one",
                objective,
                str(value),
                str(buckets),
                "--steps",
                str(args.steps),
                "--sampler",
                args.sampler,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        rows.append(json.loads(result.stdout.strip().splitlines()[-1]))
        print(rows[-1])
    report = {
        "benchmark": "training step of the default GraphEBM energy on ego_small, batch 32",
        "pcd_sampler": args.sampler,
        "timed_steps": args.steps,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "machine": platform.processor() or platform.machine(),
        "rows": rows,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2))
    print(f"-> {args.out}")


if __name__ == "__main__":
    main()
