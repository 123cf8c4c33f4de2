"""IsingEnergy against explicit sums and enumeration."""

import itertools
import math

import pytest
import torch

from edgraph.energies.ising import IsingEnergy


def explicit_energy(x: torch.Tensor, coupling: torch.Tensor, bias: torch.Tensor) -> float:
    """-(sum_ij J_ij s_i s_j + sum_i b_i s_i) by plain loops."""
    spins = [2 * float(v) - 1 for v in x]
    total = sum(float(coupling[i, j]) * spins[i] * spins[j] for i in range(len(spins)) for j in range(len(spins)))
    total += sum(float(bias[i]) * spins[i] for i in range(len(spins)))
    return -total


def test_energy_matches_explicit_sum_on_every_state():
    generator = torch.Generator().manual_seed(0)
    upper = torch.triu(torch.randn(5, 5, generator=generator, dtype=torch.float64), 1)
    coupling, bias = upper + upper.t(), torch.randn(5, generator=generator, dtype=torch.float64)
    energy = IsingEnergy(coupling=coupling, bias=bias)
    states = torch.tensor(list(itertools.product([0.0, 1.0], repeat=5)), dtype=torch.float64)
    expected = torch.tensor([explicit_energy(s, coupling, bias) for s in states], dtype=torch.float64)
    torch.testing.assert_close(energy(states), expected)
    torch.testing.assert_close(energy(states, torch.zeros(32, 5)), expected)  # mask ignored


def test_two_spin_distribution_matches_closed_form():
    """log p = 2a s1 s2: p(aligned pair) = e^{2a} / (2 cosh 2a) for each of the 2 aligned states."""
    a = 0.3
    energy = IsingEnergy(coupling=torch.tensor([[0.0, a], [a, 0.0]]))
    states = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    probs = torch.softmax(-energy(states).detach(), 0)
    aligned = math.exp(2 * a) / (4 * math.cosh(2 * a))
    torch.testing.assert_close(probs, torch.tensor([aligned, 0.5 - aligned, 0.5 - aligned, aligned]))


def test_coupling_is_symmetrised_with_zero_diagonal_and_learnable():
    energy = IsingEnergy(num_spins=3)
    assert torch.equal(energy(torch.ones(2, 3)), torch.zeros(2))
    with torch.no_grad():
        energy.coupling.copy_(torch.tensor([[5.0, 2.0, 0.0], [0.0, 5.0, 0.0], [4.0, 0.0, 5.0]]))
    effective = energy.coupling_matrix()
    torch.testing.assert_close(effective, torch.tensor([[0.0, 1.0, 2.0], [1.0, 0.0, 0.0], [2.0, 0.0, 0.0]]))
    x = torch.tensor([[1.0, 0.0, 1.0]])
    assert energy(x).item() == pytest.approx(explicit_energy(x[0], effective.detach(), torch.zeros(3)))
    energy(x).sum().backward()
    assert energy.coupling.grad is not None and energy.bias.grad is not None


def test_periodic_lattice_couples_each_site_to_its_four_neighbours():
    dim, sigma = 4, 0.25
    coupling = IsingEnergy.lattice(dim, sigma).coupling_matrix().detach()
    assert coupling.shape == (16, 16)
    for r, c in itertools.product(range(dim), repeat=2):
        neighbours = {((r + dr) % dim) * dim + (c + dc) % dim for dr, dc in [(1, 0), (-1, 0), (0, 1), (0, -1)]}
        row = coupling[r * dim + c]
        assert set(row.nonzero().flatten().tolist()) == neighbours
        assert torch.allclose(row[list(neighbours)], torch.tensor(sigma))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({}, "num_spins"),
        ({"coupling": torch.zeros(2, 3)}, "square"),
        ({"coupling": torch.tensor([[0.0, 1.0], [0.0, 0.0]])}, "symmetric"),
        ({"coupling": torch.eye(2)}, "diagonal"),
        ({"num_spins": 3, "bias": torch.zeros(4)}, "consistent"),
    ],
)
def test_bad_parameters_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        IsingEnergy(**kwargs)


def test_wrong_state_shape_raises():
    with pytest.raises(ValueError, match="shape"):
        IsingEnergy(num_spins=3)(torch.zeros(2, 4))
