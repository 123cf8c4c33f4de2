"""Samplers checked against exact distributions of models small enough to enumerate."""

import itertools

import pytest
import torch

from edgraph.energies.ising import IsingEnergy
from edgraph.samplers import DMALA, DULA, GWG, MALA, Gibbs, Langevin

NUM_CHAINS = 2000
NOISE_FLOOR_REPEATS = 20


pytestmark = pytest.mark.usefixtures("single_thread")


def random_ising(num_spins: int, scale: float, seed: int) -> IsingEnergy:
    generator = torch.Generator().manual_seed(seed)
    upper = torch.triu(torch.randn(num_spins, num_spins, generator=generator) * scale, 1)
    return IsingEnergy(coupling=upper + upper.t(),
                       bias=torch.randn(num_spins, generator=generator) * scale)


class PottsEnergy:
    """E(x) = -(sum_{i<j} x_i^T W_ij x_j + sum_i b_i^T x_i) on one-hot x [B, D, K]."""

    def __init__(self, num_sites: int, num_categories: int, scale: float, seed: int) -> None:
        generator = torch.Generator().manual_seed(seed)
        pair = torch.randn(num_sites, num_categories, num_sites, num_categories,
                           generator=generator) * scale
        pair = pair + pair.permute(2, 3, 0, 1)
        not_same_site = 1 - torch.eye(num_sites)
        self.pair = pair * not_same_site[:, None, :, None]
        self.bias = torch.randn(num_sites, num_categories, generator=generator) * scale

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        pair_term = torch.einsum("bik,ikjl,bjl->b", x, self.pair, x) / 2
        return -(pair_term + torch.einsum("bik,ik->b", x, self.bias))


def all_binary_states(num_spins: int) -> torch.Tensor:
    return torch.tensor(list(itertools.product([0.0, 1.0], repeat=num_spins)))


def all_onehot_states(num_sites: int, num_categories: int) -> torch.Tensor:
    codes = torch.tensor(list(itertools.product(range(num_categories), repeat=num_sites)))
    return torch.nn.functional.one_hot(codes, num_categories).float()


def state_index(x: torch.Tensor) -> torch.Tensor:
    """Position of each state in the enumeration order of all_*_states."""
    codes = x if x.dim() == 2 else x.argmax(-1).float()
    base = 2 if x.dim() == 2 else x.shape[-1]
    weights = base ** torch.arange(codes.shape[1] - 1, -1, -1, dtype=torch.float)
    return (codes @ weights).long()


def exact_distribution(energy, states: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return torch.softmax(-energy(states), dim=0)


def total_variation(samples_index: torch.Tensor, probs: torch.Tensor) -> float:
    empirical = torch.bincount(samples_index, minlength=probs.numel()).double() / samples_index.numel()
    return 0.5 * (empirical - probs.double()).abs().sum().item()


def noise_floor(probs: torch.Tensor, num_samples: int) -> float:
    """Mean TV between ``probs`` and an exact i.i.d. sample of ``num_samples`` from it."""
    generator = torch.Generator().manual_seed(1234)
    draws = [torch.multinomial(probs, num_samples, replacement=True, generator=generator)
             for _ in range(NOISE_FLOOR_REPEATS)]
    return sum(total_variation(d, probs) for d in draws) / NOISE_FLOOR_REPEATS


def random_binary(shape, generator) -> torch.Tensor:
    return (torch.rand(shape, generator=generator) < 0.5).float()


def random_onehot(shape, num_categories, generator) -> torch.Tensor:
    codes = torch.randint(num_categories, shape, generator=generator)
    return torch.nn.functional.one_hot(codes, num_categories).float()


def discrete_cases(dula_step: float) -> list:
    """(sampler, steps, TV margin above the noise floor); steps chosen to mix from random starts."""
    return [
        pytest.param(lambda: Gibbs("random"), 300, 0.02, id="gibbs-random"),
        pytest.param(lambda: Gibbs("systematic"), 300, 0.02, id="gibbs-systematic"),
        pytest.param(lambda: GWG(), 300, 0.02, id="gwg"),
        pytest.param(lambda: DMALA(0.5), 150, 0.02, id="dmala"),
        pytest.param(lambda: DULA(dula_step), 1000, 0.06, id="dula-small-step"),
    ]


@pytest.mark.parametrize("make_sampler, steps, margin", discrete_cases(dula_step=0.1))
def test_binary_sampler_matches_exact_ising(make_sampler, steps, margin):
    energy = random_ising(6, scale=0.2, seed=0)
    probs = exact_distribution(energy, all_binary_states(6))
    generator = torch.Generator().manual_seed(1)
    sampler = make_sampler()
    x = sampler.sample(energy, random_binary((NUM_CHAINS, 6), generator), steps, generator=generator)
    floor = noise_floor(probs, NUM_CHAINS)
    assert total_variation(state_index(x), probs) < floor + margin
    assert 0.0 <= sampler.acceptance_rate <= 1.0


# a one-hot move has ||x' - x||^2 = 2, so DULA's step 0.2 here penalises a move as 0.1 does on bits
@pytest.mark.parametrize("make_sampler, steps, margin", discrete_cases(dula_step=0.2))
def test_categorical_sampler_matches_exact_potts(make_sampler, steps, margin):
    energy = PottsEnergy(num_sites=4, num_categories=3, scale=0.4, seed=0)
    probs = exact_distribution(energy, all_onehot_states(4, 3))
    generator = torch.Generator().manual_seed(2)
    sampler = make_sampler()
    x = sampler.sample(energy, random_onehot((NUM_CHAINS, 4), 3, generator), steps,
                       generator=generator)
    assert ((x == 0) | (x == 1)).all() and (x.sum(-1) == 1).all()
    floor = noise_floor(probs, NUM_CHAINS)
    assert total_variation(state_index(x), probs) < floor + margin
    assert 0.0 <= sampler.acceptance_rate <= 1.0


def test_masked_binary_sampler_matches_exact_conditional():
    """Frozen spins stay put and the free spins follow the exact conditional distribution."""
    energy = random_ising(6, scale=0.2, seed=3)
    frozen_values = torch.tensor([1.0, 0.0])  # spins 4 and 5
    free_states = all_binary_states(4)
    full_states = torch.cat([free_states, frozen_values.expand(16, 2)], dim=1)
    probs = exact_distribution(energy, full_states)
    mask = torch.tensor([1.0, 1, 1, 1, 0, 0]).expand(NUM_CHAINS, 6)
    floor = noise_floor(probs, NUM_CHAINS)
    for sampler, steps in [(Gibbs(), 200), (GWG(), 200), (DMALA(0.5), 100)]:
        generator = torch.Generator().manual_seed(4)
        x0 = torch.cat([random_binary((NUM_CHAINS, 4), generator),
                        frozen_values.expand(NUM_CHAINS, 2)], dim=1)
        x = sampler.sample(lambda x, mask: energy(x), x0, steps, mask=mask, generator=generator)
        assert torch.equal(x[:, 4:], x0[:, 4:])
        assert total_variation(state_index(x[:, :4]), probs) < floor + 0.02


ALL_DISCRETE = [
    pytest.param(lambda: Gibbs("random"), id="gibbs-random"),
    pytest.param(lambda: Gibbs("systematic"), id="gibbs-systematic"),
    pytest.param(lambda: GWG(), id="gwg"),
    pytest.param(lambda: DULA(0.5), id="dula"),
    pytest.param(lambda: DMALA(0.5), id="dmala"),
]


@pytest.mark.parametrize("categorical", [False, True], ids=["binary", "categorical"])
@pytest.mark.parametrize("make_sampler", ALL_DISCRETE)
def test_discrete_masks_seeds_and_acceptance(make_sampler, categorical):
    generator = torch.Generator().manual_seed(5)
    if categorical:
        energy = PottsEnergy(num_sites=4, num_categories=3, scale=0.5, seed=1)
        x0 = random_onehot((64, 4), 3, generator)
    else:
        energy = random_ising(6, scale=0.5, seed=1)
        x0 = random_binary((64, 6), generator)
    mask = (torch.rand(x0.shape[:2], generator=generator) < 0.5).float()
    mask[0] = 0  # a chain with nothing free must pass through untouched

    def run(seed):
        sampler = make_sampler()
        x = sampler.sample(lambda x, mask: energy(x), x0, 40, mask=mask,
                           generator=torch.Generator().manual_seed(seed))
        return x, sampler.acceptance_rate

    x, acceptance = run(seed=7)
    frozen = mask == 0
    assert torch.equal(x[frozen], x0[frozen])
    assert not torch.equal(x[~frozen], x0[~frozen])
    assert 0.0 <= acceptance <= 1.0
    again, _ = run(seed=7)
    other, _ = run(seed=8)
    assert torch.equal(x, again)
    assert not torch.equal(x, other)


@pytest.mark.parametrize("sampler", [Gibbs(), DULA(0.3), Langevin(0.1)], ids=["gibbs", "dula", "langevin"])
def test_always_moving_samplers_report_full_acceptance(sampler):
    if isinstance(sampler, Langevin):
        sampler.sample(_gaussian_energy, torch.randn(8, 2), 5)
    else:
        sampler.sample(_ising4, torch.zeros(8, 4), 5)
    assert sampler.acceptance_rate == 1.0


def test_temperature_targets_tempered_distribution():
    energy = random_ising(6, scale=0.2, seed=6)
    probs = exact_distribution(lambda x: energy(x) / 2.0, all_binary_states(6))
    generator = torch.Generator().manual_seed(9)
    sampler = DMALA(0.5, temperature=2.0)
    x = sampler.sample(energy, random_binary((NUM_CHAINS, 6), generator), 150, generator=generator)
    assert total_variation(state_index(x), probs) < noise_floor(probs, NUM_CHAINS) + 0.02


MEAN = torch.tensor([1.0, -2.0], dtype=torch.float64)
COVARIANCE = torch.tensor([[1.0, 0.8], [0.8, 1.0]], dtype=torch.float64)
PRECISION = torch.linalg.inv(COVARIANCE)


def _gaussian_energy(x: torch.Tensor) -> torch.Tensor:
    centred = x - MEAN.to(x.dtype)
    return 0.5 * ((centred @ PRECISION.to(x.dtype)) * centred).sum(-1)


def _sample_gaussian(sampler, steps: int, num_chains: int = 20000):
    generator = torch.Generator().manual_seed(10)
    x0 = torch.rand(num_chains, 2, generator=generator, dtype=torch.float64) * 6 - 3
    x = sampler.sample(_gaussian_energy, x0, steps, generator=generator)
    return x.mean(0), torch.cov(x.t())


def test_mala_reproduces_correlated_gaussian():
    sampler = MALA(0.2)
    mean, covariance = _sample_gaussian(sampler, steps=300)
    assert ((mean - MEAN).abs() <= 0.05 * MEAN.abs()).all()
    assert ((covariance - COVARIANCE).abs() <= 0.05 * COVARIANCE.abs()).all()
    assert 0.5 < sampler.acceptance_rate < 1.0


def test_unadjusted_langevin_matches_its_exact_biased_stationary_law():
    """ULA on a Gaussian is an AR(1) chain with stationary covariance 2 (2P - hP^2)^{-1}."""
    step = 0.2
    mean, covariance = _sample_gaussian(Langevin(step), steps=300)
    expected = 2 * torch.linalg.inv(2 * PRECISION - step * PRECISION @ PRECISION)
    assert ((mean - MEAN).abs() <= 0.05 * MEAN.abs()).all()
    assert ((covariance - expected).abs() <= 0.05 * expected.abs()).all()
    # the bias is twice the tolerance, so matching ``expected`` rather than the target is tested
    assert ((expected - COVARIANCE).abs() / COVARIANCE).max() > 0.1


def test_continuous_mask_freezes_entries():
    x0 = torch.zeros(16, 2, dtype=torch.float64)
    mask = torch.tensor([[1.0, 0.0]]).expand(16, 2)
    for sampler in (Langevin(0.1), MALA(0.1)):
        x = sampler.sample(lambda x, mask: _gaussian_energy(x), x0, 20, mask=mask)
        assert torch.equal(x[:, 1], x0[:, 1])
        assert (x[:, 0] != 0).all()


def test_state_of_sampler_survives_an_energy_with_parameters():
    energy = random_ising(6, scale=0.3, seed=2)
    GWG().sample(energy, torch.zeros(4, 6), 5)
    assert energy.coupling.grad is None and energy.bias.grad is None


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: Gibbs().sample(_ising4, torch.full((2, 4), 0.5), 1), "0 and 1"),
        (lambda: GWG().sample(_ising4, torch.zeros(2, 4, 3) + 1 / 3, 1), "one-hot"),
        (lambda: DMALA(0.1).sample(_ising4, torch.zeros(2), 1), "shape"),
        (lambda: GWG().sample(_ising4, torch.zeros(2, 4), 1, mask=torch.ones(2, 5)), "mask"),
        (lambda: GWG().sample(_ising4, torch.zeros(2, 4), -1), "steps"),
        (lambda: GWG().sample(lambda x: x.sum(), torch.zeros(2, 4), 1), "one value per state"),
        (lambda: MALA(0.1).sample(_ising4, torch.zeros(2, 4, 3), 1), "continuous"),
        (lambda: DULA(0.0), "step_size"),
        (lambda: Gibbs(scan="diagonal"), "scan"),
        (lambda: GWG(temperature=-1.0), "temperature"),
    ],
)
def test_bad_input_raises_clear_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def _ising4(x):
    return random_ising(4, 0.3, seed=0)(x)


@pytest.mark.parametrize("make_sampler", ALL_DISCRETE)
def test_progress_bar_changes_nothing_but_stderr(make_sampler, capsys):
    energy = random_ising(6, scale=0.5, seed=1)
    x0 = random_binary((16, 6), torch.Generator().manual_seed(2))
    runs = []
    for progress in (False, True):
        sampler = make_sampler()
        x = sampler.sample(energy, x0, 12, generator=torch.Generator().manual_seed(3), progress=progress)
        runs.append((x, sampler.acceptance_rate, capsys.readouterr().err))
    (quiet, quiet_rate, quiet_err), (shown, shown_rate, shown_err) = runs
    assert torch.equal(quiet, shown) and quiet_rate == shown_rate
    assert quiet_err == "" and f"{type(sampler).__name__}:" in shown_err and "/12" in shown_err
