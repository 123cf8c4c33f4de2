"""Benchmark: wall time to generate 1,024 graphs from trained graph models, and the MMD they reach.

The speed targets: 1,024 graphs of up to 20 nodes in at most 15 s on one CPU core
(``--threads 1``), and 1,024 ego_small graphs in at most 10 s on 2 cores. For each sampler
setting, one untimed warm-up call (64 graphs), then ``--repeats`` timed calls of ``--num`` graphs
(sampling seeds 0, 1, ...): wall and process CPU seconds, and the gdss MMD of each call's graphs
against the test split (computed outside the timing). Several ``--checkpoint`` s are timed in one
run, so their ratios come from the same machine state: a ``GraphEBM`` with the discrete settings,
a ``LatentGraphEBM`` with the continuous ones (``mala``, ``langevin``).

    python evaluation/bench_generation.py --checkpoint RUN_DIR [--checkpoint LATENT_RUN_DIR]
        [--dataset ego_small] [--threads 2] [--setting gwg:200 --setting mala:1000 ...]

Run it on an otherwise idle machine: wall time is what the target is about.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import torch

from edgraph import GraphEBM, __version__
from edgraph.datasets import load_graphs
from edgraph.metrics import graph_mmd
from edgraph.models import LatentGraphEBM, checkpoint_format
from edgraph.samplers import CONTINUOUS_SAMPLERS

RESULTS = Path(__file__).resolve().parent / "results" / "bench_generation.json"
SETTINGS = [
    ("gwg", 500, None),
    ("gwg", 300, None),
    ("gwg", 200, None),
    ("dmala", 300, 0.5),
    ("dmala", 200, 0.5),
    ("dmala", 100, 0.25),
    ("mala", 1000, None),
]


def measure(
    model: GraphEBM | LatentGraphEBM,
    test: list,
    sampler: str,
    steps: int,
    step_size: float | None,
    num: int,
    repeats: int,
) -> dict:
    """Wall / CPU seconds and gdss MMD over ``repeats`` sampling seeds of one sampler setting."""
    model.sample(64, sampler=sampler, steps=steps, step_size=step_size, seed=12345)  # warm-up
    runs = []
    for seed in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        graphs = model.sample(num, sampler=sampler, steps=steps, step_size=step_size, seed=seed)
        runs.append(
            {
                "seed": seed,
                "wall_s": time.perf_counter() - wall,
                "cpu_s": time.process_time() - cpu,
                "mmd": graph_mmd(graphs, test, ("degree", "clustering", "orbit")),
            }
        )
    return {
        "sampler": sampler,
        "steps": steps,
        "step_size": step_size,
        "num": num,
        "wall_s": statistics.fmean(r["wall_s"] for r in runs),
        "cpu_s": statistics.fmean(r["cpu_s"] for r in runs),
        "mmd": {s: statistics.fmean(r["mmd"][s] for r in runs) for s in runs[0]["mmd"]},
        "runs": runs,
    }


def parse_setting(text: str) -> tuple[str, int, float | None]:
    """``"gwg:200"`` -> ``("gwg", 200, None)``; ``"dmala:100:0.25"`` -> ``("dmala", 100, 0.25)``."""
    sampler, steps, *step_size = text.split(":")
    return sampler, int(steps), float(step_size[0]) if step_size else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--checkpoint", required=True, action="append", help="run directory or model.pt of a trained graph model"
    )
    parser.add_argument("--dataset", default="ego_small")
    parser.add_argument("--num", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--setting",
        action="append",
        type=parse_setting,
        help="SAMPLER:STEPS[:STEP_SIZE] to time (repeatable; default: the settings listed in the script)",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    test = load_graphs(args.dataset, "test")
    rows = []
    for checkpoint in args.checkpoint:
        latent = checkpoint_format(checkpoint) == LatentGraphEBM.format
        model = LatentGraphEBM.load(checkpoint) if latent else GraphEBM.load(checkpoint)
        for sampler, steps, step_size in args.setting or SETTINGS:
            if (sampler in CONTINUOUS_SAMPLERS) != latent:
                continue
            row = measure(model, test, sampler, steps, step_size, args.num, args.repeats)
            rows.append({"checkpoint": checkpoint, "model": type(model).__name__, **row})
            print(json.dumps({k: v for k, v in rows[-1].items() if k != "runs"}), flush=True)
    record = {
        "checkpoints": args.checkpoint,
        "dataset": args.dataset,
        "threads": args.threads,
        "cpu_count": os.cpu_count(),
        "load_average_at_end": os.getloadavg(),
        "results": rows,
        "versions": {"edgraph": __version__, "torch": torch.__version__, "python": platform.python_version()},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2))
    print(f"-> {args.out}")


if __name__ == "__main__":
    main()
