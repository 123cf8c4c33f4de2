"""MLPEnergy: shapes, masking, gradients, and that ED with it recovers a small binary distribution."""

import itertools

import pytest
import torch

from edgraph.energies.feedforward import MLPEnergy
from edgraph.objectives import energy_discrepancy
from edgraph.perturbations import BernoulliFlip


def test_shape_gradient_and_seeded_init():
    torch.manual_seed(0)
    energy = MLPEnergy(5, hidden=8, layers=2)
    x = torch.rand(7, 5, requires_grad=True)
    values = energy(x)
    assert values.shape == (7,)
    (grad,) = torch.autograd.grad(values.sum(), x)
    assert grad.shape == (7, 5) and grad.abs().sum() > 0
    torch.manual_seed(0)
    assert torch.equal(MLPEnergy(5, hidden=8, layers=2)(x), values)


def test_mask_freezes_entries():
    energy = MLPEnergy(4, hidden=8, layers=1, activation="tanh")
    mask = torch.tensor([[1.0, 1.0, 0.0, 0.0]])
    x = torch.zeros(3, 4)
    y = x.clone()
    y[:, 2:] = torch.randn(3, 2)
    assert torch.equal(energy(x, mask), energy(y, mask))
    y[:, 0] = 1.0
    assert not torch.equal(energy(x, mask), energy(y, mask))


def test_bad_arguments():
    with pytest.raises(ValueError, match="activation"):
        MLPEnergy(3, activation="gelu2")
    with pytest.raises(ValueError, match="positive"):
        MLPEnergy(0)
    with pytest.raises(ValueError, match=r"\[B, 3\]"):
        MLPEnergy(3)(torch.zeros(2, 4))


def test_energy_discrepancy_fit_recovers_distribution(single_thread):
    """ED with Bernoulli flips on 4 bits: exp(-E)/Z close to the data distribution (TV < 0.05)."""
    g = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    states = torch.tensor(list(itertools.product([0.0, 1.0], repeat=4)))
    p_data = torch.softmax(2.0 * torch.randn(16, generator=g), 0)
    data = states[torch.multinomial(p_data, 20000, replacement=True, generator=g)]
    empirical = torch.bincount((data * torch.tensor([8.0, 4, 2, 1])).sum(1).long(), minlength=16) / 20000
    energy = MLPEnergy(4, hidden=32, layers=2)
    optimiser = torch.optim.Adam(energy.parameters(), lr=1e-2)
    schedule = torch.optim.lr_scheduler.MultiStepLR(optimiser, milestones=[300], gamma=0.1)
    for _ in range(400):
        batch = data[torch.randint(0, 20000, (128,), generator=g)]
        loss = energy_discrepancy(energy, batch, BernoulliFlip(0.3), num_negatives=8, generator=g)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
    with torch.no_grad():
        p_model = torch.softmax(-energy(states), 0)
    tv = 0.5 * (p_model - empirical).abs().sum()
    assert tv < 0.05, tv
