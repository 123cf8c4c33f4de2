"""Equal-compute training for the baseline scripts: Adam on random batches for a CPU-time budget."""

from __future__ import annotations

import time
from collections.abc import Callable

import torch
from torch import Tensor, nn


def train_for_cpu_seconds(
    energy: nn.Module,
    loss_of: Callable[[nn.Module, Tensor], Tensor],
    data: Tensor,
    seconds: float,
    batch_size: int,
    lr: float,
    generator: torch.Generator,
    clip: float | None = None,
) -> dict[str, float]:
    """Minimise ``loss_of(energy, batch)`` until ``seconds`` of process CPU time are spent.

    Every method gets the same compute whatever else runs on the machine; returns the number of
    parameter updates and the CPU and wall seconds used.
    """
    optimiser = torch.optim.Adam(energy.parameters(), lr=lr)
    start, wall_start, steps = time.process_time(), time.perf_counter(), 0
    while time.process_time() - start < seconds:
        batch = data[torch.randint(0, len(data), (batch_size,), generator=generator)]
        loss = loss_of(energy, batch)
        optimiser.zero_grad()
        loss.backward()
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(energy.parameters(), clip)
        optimiser.step()
        steps += 1
    return {
        "parameter_updates": steps,
        "cpu_seconds": time.process_time() - start,
        "wall_seconds": time.perf_counter() - wall_start,
    }
