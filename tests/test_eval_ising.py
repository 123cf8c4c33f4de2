"""Smoke test of evaluation/ising.py: the CLI writes the promised JSON and ED moves towards J."""

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_ising_cli_ed_moves_towards_truth(tmp_path):
    out = tmp_path / "ed.json"
    command = [
        sys.executable,
        str(REPO / "evaluation" / "ising.py"),
        "--dim",
        "3",
        "--sigma",
        "0.1",
        "--method",
        "ed",
        "--seconds",
        "2",
        "--num-samples",
        "500",
        "--data-sweeps",
        "100",
        "--out",
        str(out),
    ]
    subprocess.run(command, check=True, env=os.environ.copy(), cwd=REPO, timeout=300)
    record = json.loads(out.read_text())
    for field in ("config", "seed", "versions", "cpu_seconds", "wall_seconds", "neg_log_rmse", "history"):
        assert field in record
    assert record["config"]["method"] == "ed" and record["config"]["dim"] == 3
    assert record["cpu_seconds"] >= 2.0 and record["parameter_updates"] > 10
    # J = 0 scores -log sqrt(36 * 0.1^2 / 81) = 2.71; ED must get well past it
    initial = record["history"][0][1]
    assert abs(initial - 2.708) < 0.01
    assert record["neg_log_rmse"] > initial + 0.5
    assert out.with_suffix(".png").stat().st_size > 0
