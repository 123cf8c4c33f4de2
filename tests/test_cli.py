import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from edgraph.cli import main
from edgraph.datasets import load_graphs
from edgraph.graphs import read_graphs_json

TINY = [
    "--hidden",
    "8",
    "--layers",
    "1",
    "--num-negatives",
    "4",
    "--batch-size",
    "16",
    "--sampler-steps",
    "5",
    "--no-progress",
]


def run_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "edgraph.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def test_train_sample_evaluate(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--dataset", "ego_small", "--out", str(run), "--max-steps", "3", *TINY]) == 0
    for name in (
        "config.json",
        "model.pt",
        "checkpoints/last.ckpt",
        "logs/version_0/metrics.csv",
        "loss.png",
        "samples.png",
    ):
        assert (run / name).is_file(), name
    assert json.loads((run / "config.json").read_text())["hidden"] == 8

    samples = tmp_path / "samples.json"
    assert main(["sample", "--checkpoint", str(run), "--num", "40", "--out", str(samples), "--steps", "5"]) == 0
    graphs = read_graphs_json(samples)
    train_sizes = {g.number_of_nodes() for g in load_graphs("ego_small", "train")}
    assert len(graphs) == 40 and {g.number_of_nodes() for g in graphs} <= train_sizes
    assert json.loads(samples.read_text())["steps"] == 5
    capsys.readouterr()
    cold = ["sample", "--checkpoint", str(run), "--out", str(tmp_path / "cold.json"), "--decoder-temperature", "0.5"]
    assert main(cold) == 2
    assert "--decoder-temperature is for latent graph models, not a GraphEBM" in capsys.readouterr().err

    assert main(["evaluate", "--samples", str(samples), "--dataset", "ego_small", "--floor-seeds", "2"]) == 0
    report = json.loads(samples.with_suffix(".metrics.json").read_text())
    assert set(report["mmd"]) == {"degree", "clustering", "orbit", "spectral"}
    assert all(v >= 0 for v in report["mmd"].values()) and report["num_generated"] == 40
    assert 0 < report["uniqueness"] <= 1 and 0 <= report["novelty"] <= 1
    assert "real floor" in capsys.readouterr().out

    copies = tmp_path / "copies.json"
    assert (
        main(
            ["sample", "--checkpoint", str(run), "--num", "20", "--out", str(copies), "--steps", "0", "--init", "data"]
        )
        == 0
    )
    assert json.loads(copies.read_text())["init"] == "data"
    assert main(["evaluate", "--samples", str(copies), "--dataset", "ego_small", "--floor-seeds", "0"]) == 0
    assert json.loads(copies.with_suffix(".metrics.json").read_text())["novelty"] == 0.0


def test_existing_run_is_not_overwritten(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--dataset", "ego_small", "--out", str(run), "--max-steps", "1", *TINY]) == 0
    before = (run / "model.pt").read_bytes()
    assert main(["train", "--dataset", "ego_small", "--out", str(run), "--max-steps", "1", *TINY]) == 2
    assert "--resume" in capsys.readouterr().err
    assert (run / "model.pt").read_bytes() == before


def test_bad_inputs_get_clear_errors(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["train", "--dataset", "ego_large", "--out", str(tmp_path)])
    assert "ego_small" in capsys.readouterr().err  # the valid names are listed
    assert main(["sample", "--checkpoint", str(tmp_path / "nothing"), "--out", str(tmp_path / "s.json")]) == 2
    assert "no checkpoint at" in capsys.readouterr().err
    config = tmp_path / "config.yaml"
    config.write_text("dataset: ego_small\nlearning_rate: 0.1\n")
    assert main(["train", "--config", str(config), "--out", str(tmp_path / "r")]) == 2
    assert "unknown options ['learning_rate']" in capsys.readouterr().err
    (tmp_path / "graphs.json").write_text('{"graphs": []}')
    assert main(["sample", "--checkpoint", str(tmp_path / "graphs.json"), "--out", str(tmp_path / "s.json")]) == 2
    err = capsys.readouterr().err
    assert "is not an edgraph checkpoint (not a file that torch.save wrote)" in err and "run code" not in err


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error raised when there is no GPU")
def test_cuda_without_gpu_is_refused(tmp_path, capsys):
    assert (
        main(["train", "--dataset", "ego_small", "--out", str(tmp_path), "--device", "cuda", "--max-steps", "1", *TINY])
        == 2
    )
    assert "no CUDA GPU" in capsys.readouterr().err


def test_config_file_and_flags(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text(
        "dataset: ego_small\nhidden: 8\nlayers: 1\nnum_negatives: 4\neps: 0.2\nflips: null\nmax_steps: 2\n"
    )
    run = tmp_path / "run"
    assert (
        main(
            [
                "train",
                "--config",
                str(config),
                "--out",
                str(run),
                "--eps",
                "0.05",
                "--sampler-steps",
                "5",
                "--no-progress",
            ]
        )
        == 0
    )
    resolved = json.loads((run / "config.json").read_text())
    assert resolved["eps"] == 0.05 and resolved["hidden"] == 8 and resolved["max_steps"] == 2
    assert resolved["flips"] is None  # the file removed the cap on the flips per graph


@pytest.mark.parametrize("option", ["flips", "rewire"])
def test_flips_and_rewire_flags_take_a_number_or_none(tmp_path, option):
    base = ["train", "--dataset", "ego_small", "--max-steps", "1", "--hidden", "8", "--layers", "1"]
    for flag, expected in (("3", 3.0), ("none", None)):
        run = tmp_path / flag
        assert main([*base, "--out", str(run), f"--{option}", flag, "--no-progress"]) == 0
        assert json.loads((run / "config.json").read_text())[option] == expected
    with pytest.raises(SystemExit):
        main([*base, "--out", str(tmp_path / "bad"), f"--{option}", "-2"])


def test_killed_run_resumes_at_the_saved_step(tmp_path):
    run = tmp_path / "run"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "edgraph.cli",
            "train",
            "--dataset",
            "ego_small",
            "--out",
            str(run),
            "--max-steps",
            "100000",
            "--checkpoint-every",
            "3",
            *TINY,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    checkpoint = run / "checkpoints" / "last.ckpt"
    deadline = time.time() + 240
    while not checkpoint.exists() and time.time() < deadline and process.poll() is None:
        time.sleep(0.5)
    time.sleep(1.0)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert checkpoint.exists(), "training wrote no checkpoint before the kill"
    saved_step = torch.load(checkpoint, weights_only=True)["global_step"]
    assert saved_step >= 3 and saved_step % 3 == 0
    result = run_cli("train", "--out", str(run), "--resume", "--max-steps", str(saved_step + 2), "--no-progress")
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"trained {saved_step + 2} steps" in result.stdout
    assert torch.load(checkpoint, weights_only=True)["global_step"] == saved_step + 2


def test_ddp_on_two_cpu_processes(tmp_path):
    run = tmp_path / "run"
    result = run_cli(
        "train",
        "--dataset",
        "ego_small",
        "--out",
        str(run),
        "--max-steps",
        "3",
        "--devices",
        "2",
        "--strategy",
        "ddp",
        "--device",
        "cpu",
        *TINY,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "trained 3 steps" in result.stdout
    assert "training on 2 processes (ddp)" in result.stderr
    assert (run / "model.pt").is_file()


def test_a_run_saved_when_flips_replaced_eps_resumes(tmp_path):
    run = tmp_path / "run"
    base = ["train", "--dataset", "ego_small", "--out", str(run), "--hidden", "8", "--layers", "1", "--no-progress"]
    assert main([*base, "--eps", "0.5", "--flips", "8", "--max-steps", "2"]) == 0
    # make the run look as such runs were saved: eps null in config.json and in the checkpoint
    config = json.loads((run / "config.json").read_text())
    (run / "config.json").write_text(json.dumps({**config, "eps": None}))
    checkpoint = run / "checkpoints" / "last.ckpt"
    payload = torch.load(checkpoint, weights_only=True)
    payload["edgraph"]["config"]["eps"] = None
    torch.save(payload, checkpoint)
    assert main(["train", "--out", str(run), "--resume", "--max-steps", "4", "--no-progress"]) == 0
    assert torch.load(checkpoint, weights_only=True)["global_step"] == 4
    assert json.loads((run / "config.json").read_text())["eps"] == 0.5


def test_datasets_lists_without_building_and_describes_one_split(capsys, monkeypatch):
    from edgraph.datasets import graph_benchmarks

    def refuse(*args, **kwargs):
        raise AssertionError("listing the datasets built one")

    monkeypatch.setattr(graph_benchmarks, "load_graphs", refuse)
    monkeypatch.setattr("edgraph.cli.load_graphs", refuse)
    assert main(["datasets"]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert len(listing) == len(graph_benchmarks.DATASETS)
    assert any(line.startswith("planar_l") and "first 4096" in line for line in listing)
    monkeypatch.undo()
    assert main(["datasets", "--dataset", "ego_small", "--split", "test"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["dataset"], summary["split"], summary["num_graphs"]) == ("ego_small", "test", 40)
