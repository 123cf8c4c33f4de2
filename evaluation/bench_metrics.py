"""Benchmark: batched graph MMD (edgraph.metrics.graph_mmd) vs a per-pair implementation.

Data: ego-sized graphs (4..18 nodes), made distinct by flipping 5 % of the node pairs of
graphs drawn from ego_small (generated: seed 1; reference: seed 2), so that no duplicate rows
make the batched version look faster than it is.

Baseline: the published evaluations' structure, written here only for comparison: per-graph
statistics with networkx/scipy (``degree_histogram``, ``clustering`` + ``numpy.histogram``,
``eigvalsh`` of ``normalized_laplacian_matrix``; orbit counts graph by graph), then one kernel
evaluation per pair of graphs (EMD by ``scipy.stats.wasserstein_distance``, TV and L2 with
numpy), over all pairs of X-X, Y-Y and X-Y. The per-pair part is timed on a subset and
extrapolated to 1,000 vs 1,000 (it grows with the number of pairs, the statistics with the
number of graphs); values are compared on that subset.

    python evaluation/bench_metrics.py [--num 1000] [--baseline-num 100] [--threads 1]

One torch thread by default: on a shared machine torch's intra-op threads wait for each other
whenever other jobs hold the cores (at load 12 on 2 cores, 2 threads ran this benchmark ~10x
slower than 1). The JSON records wall and CPU (process) time and the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import networkx as nx
import numpy as np
import torch
from scipy.linalg import eigvalsh
from scipy.stats import wasserstein_distance

from edgraph.datasets import load_graphs
from edgraph.graphs import graphs_to_dense
from edgraph.metrics import (
    PROTOCOLS,
    STATISTICS,
    clean_graphs,
    graph_mmd,
    graph_statistics,
    orbit_counts,
    statistics_mmd,
)

RESULTS = Path(__file__).resolve().parent / "results" / "bench_metrics.json"


def perturbed_ego_graphs(num: int, seed: int, flip: float = 0.05) -> list[nx.Graph]:
    """``num`` ego_small graphs drawn with replacement, each node pair flipped with prob. ``flip``."""
    rng = np.random.default_rng(seed)
    pool = load_graphs("ego_small")
    graphs = []
    for index in rng.integers(len(pool), size=num):
        adj = nx.to_numpy_array(pool[index])
        n = len(adj)
        flips = np.triu(rng.random((n, n)) < flip, 1)
        adj = np.logical_xor(adj, flips | flips.T).astype(float)
        graphs.append(nx.from_numpy_array(adj))
    return graphs


def random_graphs(num: int, seed: int) -> list[nx.Graph]:
    """Erdős–Rényi graphs with 4..18 nodes and edge probability in [0.15, 0.5]: nearly all distinct."""
    rng = np.random.default_rng(seed)
    return [
        nx.gnp_random_graph(int(rng.integers(4, 19)), float(rng.uniform(0.15, 0.5)), seed=int(rng.integers(2**31)))
        for _ in range(num)
    ]


# ----- baseline: per-graph statistics, per-pair kernels ------------------------------------


def baseline_statistics(graph: nx.Graph) -> dict[str, np.ndarray]:
    eigenvalues = np.clip(eigvalsh(nx.normalized_laplacian_matrix(graph).todense()), 0.0, 2.0)
    return {
        "degree": np.array(nx.degree_histogram(graph), dtype=float),
        "clustering": np.histogram(list(nx.clustering(graph).values()), bins=100, range=(0.0, 1.0))[0].astype(float),
        "orbit": orbit_counts(graph).sum(0) / graph.number_of_nodes(),
        "spectral": np.histogram(eigenvalues, bins=200, range=(-1e-5, 2))[0].astype(float),
    }


def _padded(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    width = max(len(x), len(y))
    return np.pad(x, (0, width - len(x))), np.pad(y, (0, width - len(y)))


def baseline_kernel(x: np.ndarray, y: np.ndarray, distance: str, sigma: float, bin_width: float) -> float:
    if distance == "emd":
        d = wasserstein_distance(np.arange(len(x)), np.arange(len(y)), x, y) * bin_width
    else:
        x, y = _padded(x, y)
        d = np.abs(x - y).sum() / 2 if distance == "tv" else np.linalg.norm(x - y)
    return float(np.exp(-d * d / (2 * sigma * sigma)))


def baseline_mmd(stats_x: list[dict], stats_y: list[dict], protocol: str) -> dict[str, float]:
    out = {}
    for name, spec in PROTOCOLS[protocol].items():
        xs = [s[name] / s[name].sum() if spec.normalise else s[name] for s in stats_x]
        ys = [s[name] / s[name].sum() if spec.normalise else s[name] for s in stats_y]

        def disc(a: list, b: list) -> float:
            return sum(baseline_kernel(u, v, spec.distance, spec.sigma, spec.bin_width) for u in a for v in b) / (
                len(a) * len(b)
            )

        out[name] = disc(xs, xs) + disc(ys, ys) - 2 * disc(xs, ys)
    return out


def best_time(fn, repeats: int) -> tuple[float, float, object]:
    """Best wall-clock and best CPU (process) time over ``repeats`` calls, and the result.

    The CPU time of the process is reported next to the wall time because the benchmark
    machine may be shared: with other jobs running, wall time measures the queue as well.
    """
    wall, cpu, result = float("inf"), float("inf"), None
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = fn()
        wall = min(wall, time.perf_counter() - start)
        cpu = min(cpu, time.process_time() - start_cpu)
    return wall, cpu, result


def run_scenario(generated: list[nx.Graph], reference: list[nx.Graph], args: argparse.Namespace) -> dict:
    result: dict = {}
    graph_mmd(generated[:50], reference[:50])  # warm-up
    cleaned = clean_graphs(generated)
    result["breakdown_seconds_cpu"] = {
        "clean_generated": best_time(lambda: clean_graphs(generated), args.repeats)[1],
        "graphs_to_dense_both": 2 * best_time(lambda: graphs_to_dense(cleaned), args.repeats)[1],
        "statistics_both_including_graphs_to_dense": sum(
            best_time(lambda: graph_statistics(graphs), args.repeats)[1] for graphs in (cleaned, reference)
        ),
    }
    stats_x, stats_y = graph_statistics(cleaned), graph_statistics(reference)
    result["distinct_rows"] = {
        s: [len(torch.unique(stats_x[s], dim=0)), len(torch.unique(stats_y[s], dim=0))] for s in STATISTICS
    }
    for protocol in PROTOCOLS:
        result["breakdown_seconds_cpu"][f"kernels_{protocol}"] = best_time(
            lambda: statistics_mmd(stats_x, stats_y, protocol), args.repeats
        )[1]

    sub_x, sub_y = generated[: args.baseline_num], reference[: args.baseline_num]
    wall, cpu, (base_stats_x, base_stats_y) = best_time(
        lambda: ([baseline_statistics(g) for g in clean_graphs(sub_x)], [baseline_statistics(g) for g in sub_y]), 1
    )
    statistics_per_graph = {"wall": wall / (2 * args.baseline_num), "cpu": cpu / (2 * args.baseline_num)}
    for protocol in PROTOCOLS:
        fast_wall, fast_cpu, fast_values = best_time(
            lambda: graph_mmd(generated, reference, protocol=protocol), args.repeats
        )
        wall, cpu, base_values = best_time(lambda: baseline_mmd(base_stats_x, base_stats_y, protocol), 1)
        pairs = 3 * args.baseline_num**2
        # Statistics grow with the number of graphs, kernel evaluations with the number of pairs.
        estimate = {
            clock: statistics_per_graph[clock] * 2 * args.num + per_run / pairs * 3 * args.num**2
            for clock, per_run in (("wall", wall), ("cpu", cpu))
        }
        subset_values = graph_mmd(sub_x, sub_y, protocol=protocol)
        max_diff = max(abs(subset_values[s] - base_values[s]) for s in STATISTICS)
        result[protocol] = {
            "batched_seconds_wall": round(fast_wall, 4),
            "batched_seconds_cpu": round(fast_cpu, 4),
            "batched_values": fast_values,
            "baseline_seconds_wall_extrapolated": round(estimate["wall"], 2),
            "baseline_seconds_cpu_extrapolated": round(estimate["cpu"], 2),
            "baseline_statistics_seconds_per_graph_wall": statistics_per_graph["wall"],
            "baseline_kernel_seconds_per_pair_wall": wall / pairs,
            "speedup_wall": round(estimate["wall"] / fast_wall, 1),
            "speedup_cpu": round(estimate["cpu"] / fast_cpu, 1),
            "values_checked_on": f"{args.baseline_num} vs {args.baseline_num}",
            "batched_values_on_subset": subset_values,
            "baseline_values_on_subset": base_values,
            "max_abs_difference": max_diff,
        }
        print(
            f"{protocol}: batched {fast_wall:.3f} s wall ({fast_cpu:.3f} s CPU); per-pair, extrapolated, "
            f"{estimate['wall']:.1f} s wall ({estimate['cpu']:.1f} s CPU); speed-up "
            f"{estimate['wall'] / fast_wall:.0f}x wall, {estimate['cpu'] / fast_cpu:.0f}x CPU; "
            f"max |difference| {max_diff:.2e}"
        )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num", type=int, default=1000)
    parser.add_argument("--baseline-num", type=int, default=100)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    scenarios = {
        "ego_perturbed": (
            f"{args.num} vs {args.num} ego_small graphs drawn with replacement, 5% of node pairs "
            "flipped (generated seed 1, reference seed 2)",
            perturbed_ego_graphs(args.num, seed=1),
            perturbed_ego_graphs(args.num, seed=2),
        ),
        "random_distinct": (
            f"{args.num} vs {args.num} Erdos-Renyi graphs, 4..18 nodes, p in [0.15, 0.5] "
            "(seeds 1 and 2): almost no repeated statistics",
            random_graphs(args.num, seed=1),
            random_graphs(args.num, seed=2),
        ),
    }
    result: dict = {
        "statistics": list(STATISTICS),
        "machine": {
            "cpus": os.cpu_count(),
            "torch_threads": args.threads,
            "load_average_1min_at_start": os.getloadavg()[0],
            "python": platform.python_version(),
            "torch": torch.__version__,
        },
        "scenarios": {},
    }
    for name, (description, generated, reference) in scenarios.items():
        print(f"{name}: {description}")
        result["scenarios"][name] = {"data": description, **run_scenario(generated, reference, args)}
    result["machine"]["load_average_1min_at_end"] = os.getloadavg()[0]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
