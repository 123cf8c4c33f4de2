"""Data-parallel training on two CPU processes (gloo): each rank trains on its own shard of the
data, and the ranks' gradients are combined (DDP averages them) into one update that both take."""

import json
import os
import subprocess
import sys
import textwrap

import pytest
import torch

SCRIPT = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    import torch
    import torch.distributed as dist
    from edgraph.training import TrainConfig, train_energy

    out = Path(sys.argv[1])
    torch.manual_seed(0)
    energy = torch.nn.Linear(1, 1, bias=False)
    seen = []

    def loss(energy, x, mask):
        seen.extend(x[:, 0].tolist())
        return (1.0 if dist.get_rank() == 0 else -3.0) * energy(x).mean()

    x = torch.arange(16.0).unsqueeze(1)
    config = TrainConfig(
        max_steps=1, batch_size=4, device="cpu", devices=2, strategy="ddp", lr_schedule="constant",
        weight_decay=0.0, grad_clip=0.0, ema_decay=0.0, progress=False,
    )
    train_energy(energy, loss, (x, torch.ones_like(x)), config, out / "run", {})
    (out / f"rank{dist.get_rank()}.json").write_text(json.dumps({"seen": seen, "weight": energy.weight.item()}))
    """
)


@pytest.mark.slow
def test_ranks_train_on_disjoint_shards_and_take_one_step_along_the_mean_gradient(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    result = subprocess.run(
        [sys.executable, str(script), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    shards = [set(rank["seen"]) for rank in ranks]
    assert len(ranks[0]["seen"]) == len(ranks[1]["seen"]) == 4 and not shards[0] & shards[1]
    # loss of rank r: s_r * w * mean(shard_r), s = (1, -3); DDP steps on the mean of the two gradients
    gradient = (sum(shards[0]) / 4 - 3 * sum(shards[1]) / 4) / 2
    torch.manual_seed(0)
    start = torch.nn.Linear(1, 1, bias=False).weight.item()
    # Adam's first step moves lr against the gradient's sign: the mean's sign, not rank 0's own
    assert (gradient > 0) != (sum(shards[0]) > 0)
    expected = start - 1e-3 * (1.0 if gradient > 0 else -1.0)
    assert ranks[0]["weight"] == ranks[1]["weight"] == pytest.approx(expected, abs=1e-6)
