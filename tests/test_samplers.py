"""Samplers checked against exact distributions of models small enough to enumerate."""

import itertools
import math

import numpy as np
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
    return IsingEnergy(coupling=upper + upper.t(), bias=torch.randn(num_spins, generator=generator) * scale)


class PottsEnergy:
    """E(x) = -(sum_{i<j} x_i^T W_ij x_j + sum_i b_i^T x_i) on one-hot x [B, D, K]."""

    def __init__(self, num_sites: int, num_categories: int, scale: float, seed: int) -> None:
        generator = torch.Generator().manual_seed(seed)
        pair = torch.randn(num_sites, num_categories, num_sites, num_categories, generator=generator) * scale
        pair = pair + pair.permute(2, 3, 0, 1)
        not_same_site = 1 - torch.eye(num_sites)
        self.pair = pair * not_same_site[:, None, :, None]
        self.bias = torch.randn(num_sites, num_categories, generator=generator) * scale

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        pair, bias = self.pair.to(x.dtype), self.bias.to(x.dtype)
        pair_term = torch.einsum("bik,ikjl,bjl->b", x, pair, x) / 2
        return -(pair_term + torch.einsum("bik,ik->b", x, bias))

    def grad(self, x: torch.Tensor) -> torch.Tensor:
        """dE/dx [B, D, K] by hand: -(sum_jl W_ikjl x_jl + b_ik) (W is symmetric in (ik) <-> (jl))."""
        return -(torch.einsum("ikjl,bjl->bik", self.pair.to(x.dtype), x) + self.bias.to(x.dtype))


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
    draws = [
        torch.multinomial(probs, num_samples, replacement=True, generator=generator) for _ in range(NOISE_FLOOR_REPEATS)
    ]
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


# a one-hot move has ||x' - x||^2 = 2, so DULA's step 0.2 here penalises a move as 0.1 does on bits
@pytest.mark.parametrize("make_sampler, steps, margin", discrete_cases(dula_step=0.2))
def test_categorical_sampler_matches_exact_potts(make_sampler, steps, margin):
    energy = PottsEnergy(num_sites=4, num_categories=3, scale=0.4, seed=0)
    probs = exact_distribution(energy, all_onehot_states(4, 3))
    generator = torch.Generator().manual_seed(2)
    sampler = make_sampler()
    x = sampler.sample(energy, random_onehot((NUM_CHAINS, 4), 3, generator), steps, generator=generator)
    assert ((x == 0) | (x == 1)).all() and (x.sum(-1) == 1).all()
    floor = noise_floor(probs, NUM_CHAINS)
    assert total_variation(state_index(x), probs) < floor + margin


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
        x0 = torch.cat([random_binary((NUM_CHAINS, 4), generator), frozen_values.expand(NUM_CHAINS, 2)], dim=1)
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
        x = sampler.sample(lambda x, mask: energy(x), x0, 40, mask=mask, generator=torch.Generator().manual_seed(seed))
        return x, sampler.acceptance_rate

    x, acceptance = run(seed=7)
    frozen = mask == 0
    assert torch.equal(x[frozen], x0[frozen])
    assert not torch.equal(x[~frozen], x0[~frozen])
    again, again_acceptance = run(seed=7)
    other, _ = run(seed=8)
    assert torch.equal(x, again) and acceptance == again_acceptance
    assert not torch.equal(x, other)
    if isinstance(make_sampler(), (GWG, DMALA)):
        _check_acceptance_is_the_mean_of_per_step_acceptances(make_sampler(), energy, x0, mask, x, acceptance)


def _check_acceptance_is_the_mean_of_per_step_acceptances(sampler, energy, x0, mask, x, acceptance):
    """Replays a 40-step run (seed 7) one step per call with the same generator, which draws the
    same random numbers, and counts per step which chains moved."""
    generator = torch.Generator().manual_seed(7)
    nothing_free = (mask == 0).all(1)
    state, rates = x0, []
    for _ in range(40):
        previous = state
        state = sampler.sample(lambda x, mask: energy(x), previous, 1, mask=mask, generator=generator)
        moved = (state != previous).flatten(1).any(1)
        rates.append(sampler.acceptance_rate)
        if isinstance(sampler, GWG):
            # a GWG proposal always changes one free site: accepted <=> moved; a chain with
            # nothing free has the trivial proposal y = x, which is accepted
            assert sampler.acceptance_rate == (moved | nothing_free).double().mean().item()
        else:
            # a DMALA proposal may leave every site as it is (accepted, but not moved)
            assert sampler.acceptance_rate >= moved.double().mean().item()
    assert torch.equal(state, x)
    assert min(rates) < max(rates) <= 1  # rejections happen, more in some steps than in others
    assert acceptance == pytest.approx(sum(rates) / len(rates), rel=1e-12)


# ----- one step, against the exact transition kernel enumerated from the documented proposals -----
#
# Every chain starts at a known state and takes one step. The exact one-step kernel K[x, y] and the
# probability a[x] that the proposal from x is accepted are enumerated here over all states,
# written from the definitions in the sampler docstrings (not from the sampler code), with the
# gradient of the energy by hand:
#   d_{i,k}(x) = -(dE/dh_{i,k} - dE/dh_{i,x_i}) / T      (binary: d_i = -(1 - 2 x_i) dE/dx_i / T),
#   GWG:   one move (i, k), k != x_i, i free, from softmax(d / 2);
#   DULA:  every free site independently, q_i(k|x) ∝ exp(d_{i,k} / 2 - [k != x_i] ||move||^2 / (2α)),
#          ||move||^2 = 1 for a bit and 2 for a one-hot vector;
#   DMALA: the DULA proposal accepted with min(1, exp((E(x) - E(y)) / T) q(x|y) / q(y|x));
#   Gibbs: a free site (uniform; "systematic" visits site 0 on the first step) redrawn from
#          p(x_i = k | x_-i) ∝ exp(-E(x with x_i = k) / T); nothing is rejected.

PER_STATE = 2000


class BinaryIsing:
    """E(x) = -(s^T J s + b^T s), s = 2x - 1, on binary x [B, D], with dE/dx = -2 (2 J s + b)."""

    num_categories = 2

    def __init__(self, num_spins: int, scale: float, seed: int) -> None:
        generator = torch.Generator().manual_seed(seed)
        upper = torch.triu(torch.randn(num_spins, num_spins, generator=generator, dtype=torch.float64), 1)
        self.coupling = (upper + upper.t()) * scale
        self.bias = torch.randn(num_spins, generator=generator, dtype=torch.float64) * scale

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        s = 2 * x - 1
        return -(((s @ self.coupling) * s).sum(-1) + s @ self.bias)

    def states(self, codes: torch.Tensor) -> torch.Tensor:
        return codes.double()

    def log_ratio_estimates(self, codes: torch.Tensor, temperature: float) -> torch.Tensor:
        """d [n, D, 2] at the states ``codes`` [n, D]; 0 at the current value."""
        x = codes.double()
        grad = -2 * (2 * (2 * x - 1) @ self.coupling + self.bias)
        flip = -(1 - 2 * x) * grad / temperature
        return torch.zeros(*codes.shape, 2, dtype=torch.float64).scatter(-1, (1 - codes)[..., None], flip[..., None])


class PottsModel(PottsEnergy):
    """PottsEnergy with the log-ratio estimates of its hand-written gradient."""

    def __init__(self, num_sites: int, num_categories: int, scale: float, seed: int) -> None:
        super().__init__(num_sites, num_categories, scale, seed)
        self.num_categories = num_categories

    def states(self, codes: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.one_hot(codes, self.num_categories).double()

    def log_ratio_estimates(self, codes: torch.Tensor, temperature: float) -> torch.Tensor:
        grad = self.grad(self.states(codes))
        return -(grad - grad.gather(-1, codes[..., None])) / temperature


class FlatEnergy:
    """E = 0 on binary or one-hot states."""

    def __init__(self, num_categories: int) -> None:
        self.num_categories = num_categories

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return (x * 0).flatten(1).sum(1)

    def states(self, codes: torch.Tensor) -> torch.Tensor:
        if self.num_categories == 2:
            return codes.double()
        return torch.nn.functional.one_hot(codes, self.num_categories).double()


def all_codes(num_sites: int, num_categories: int) -> torch.Tensor:
    """Every state as category codes [K^D, D], in the order of ``codes_index``."""
    return torch.tensor(list(itertools.product(range(num_categories), repeat=num_sites)))


def codes_index(codes: torch.Tensor, num_categories: int) -> torch.Tensor:
    powers = num_categories ** torch.arange(codes.shape[1] - 1, -1, -1)
    return (codes * powers).sum(-1)


def exact_one_step(kind: str, model, free: torch.Tensor, step: float | None, temperature: float):
    """Exact one-step kernel ``K [n, n]`` (rows: from, columns: to) and acceptance ``a [n]``."""
    num_categories, sites = model.num_categories, free.numel()
    codes = all_codes(sites, num_categories)
    n = len(codes)
    energy = model(model.states(codes))
    differ = codes[:, None, :] != codes[None, :, :]  # [x, y, i]
    if kind.startswith("gibbs"):
        chosen = free.nonzero().flatten().tolist() if kind == "gibbs-random" else [0] * bool(free[0])
        kernel = torch.zeros(n, n, dtype=torch.float64) if chosen else torch.eye(n, dtype=torch.float64)
        for i in chosen:
            others = torch.arange(sites) != i
            same_elsewhere = ~differ[:, :, others].any(-1)  # y = x with site i set to some k
            logits = torch.where(same_elsewhere, -energy[None, :] / temperature, -torch.inf)
            kernel += torch.softmax(logits, dim=1) / len(chosen)
        return kernel, torch.ones(n, dtype=torch.float64)
    d = model.log_ratio_estimates(codes, temperature)  # [n, D, K]
    current = torch.nn.functional.one_hot(codes, num_categories).bool()
    if kind == "gwg":
        logits = (d / 2).masked_fill(current | ~free[None, :, None], -torch.inf)
        move = torch.log_softmax(logits.reshape(n, -1), dim=1).reshape(n, sites, num_categories)
        site = differ.long().argmax(-1)  # the one site where y differs from x
        new_value = codes[torch.arange(n)[None, :], site]  # y's value there
        log_q = move[torch.arange(n)[:, None], site, new_value]
        log_q = torch.where(differ.sum(-1) == 1, log_q, -torch.inf)
        metropolis = True
    else:
        move_length = 1.0 if num_categories == 2 else 2.0
        logits = d / 2 - (~current).double() * move_length / (2 * step)
        per_site = torch.log_softmax(logits, dim=-1)  # [x, i, k]
        at_y = (
            per_site[:, None]
            .expand(n, n, sites, num_categories)
            .gather(-1, codes[None, :, :, None].expand(n, n, sites, 1))
            .squeeze(-1)
        )  # [x, y, i]
        log_q = (at_y * free).sum(-1)
        log_q = torch.where((differ & ~free).any(-1), -torch.inf, log_q)  # frozen sites stay
        metropolis = kind == "dmala"
    proposal = log_q.exp()
    if metropolis:
        reachable = proposal > 0  # reachability is symmetric for these proposals
        log_ratio = (energy[:, None] - energy[None, :]) / temperature + log_q.t() - log_q
        accept = torch.where(reachable, log_ratio.clamp(max=0).exp(), torch.zeros_like(log_ratio))
    else:
        accept = torch.ones(n, n, dtype=torch.float64)
    moves = proposal * accept
    acceptance = moves.sum(1)
    kernel = moves - torch.diag(moves.diagonal())
    kernel += torch.diag(1 - kernel.sum(1))
    return kernel, acceptance


def make_one_step_sampler(kind: str, step: float | None, temperature: float):
    return {
        "gibbs-random": lambda: Gibbs("random", temperature=temperature),
        "gibbs-systematic": lambda: Gibbs("systematic", temperature=temperature),
        "gwg": lambda: GWG(temperature=temperature),
        "dula": lambda: DULA(step, temperature=temperature),
        "dmala": lambda: DMALA(step, temperature=temperature),
    }[kind]()


def run_one_step(kind, model, free, step, temperature, seed, per_state=PER_STATE):
    """One step from every state, ``per_state`` chains each; (start index, end index, sampler)."""
    sites, num_categories = free.numel(), model.num_categories
    start = torch.arange(num_categories**sites).repeat_interleave(per_state)
    x0 = model.states(all_codes(sites, num_categories)[start])
    sampler = make_one_step_sampler(kind, step, temperature)
    mask = None if free.all() else free.double().expand(len(start), sites)
    x = sampler.sample(lambda x, mask=None: model(x), x0, 1, mask=mask, generator=torch.Generator().manual_seed(seed))
    codes = x.long() if num_categories == 2 else x.argmax(-1)
    return start, codes_index(codes, num_categories), sampler


def within_standard_errors(empirical: float, probs: torch.Tensor, num: int, width: float = 4.0) -> bool:
    """``empirical`` is a mean of Bernoulli(probs) draws; within ``width`` standard errors."""
    standard_error = (probs * (1 - probs)).sum().sqrt().item() / num
    return abs(empirical - probs.mean().item()) <= width * standard_error + 1e-12


ONE_STEP_SAMPLERS = [
    pytest.param("gibbs-random", None, 1.0, id="gibbs-random"),
    pytest.param("gibbs-systematic", None, 0.5, id="gibbs-systematic-T0.5"),
    pytest.param("gwg", None, 1.0, id="gwg"),
    pytest.param("gwg", None, 2.0, id="gwg-T2"),
    pytest.param("dula", 0.5, 1.0, id="dula"),
    pytest.param("dula", 1.0, 2.0, id="dula-big-step-T2"),
    pytest.param("dmala", 0.5, 1.0, id="dmala"),
    pytest.param("dmala", 2.0, 0.5, id="dmala-big-step-T0.5"),
]

ONE_STEP_MODELS = {
    "binary": (lambda: BinaryIsing(4, scale=0.4, seed=11), [True] * 4),
    "binary-masked": (lambda: BinaryIsing(4, scale=0.4, seed=11), [True, False, True, True]),
    "binary-steep": (lambda: BinaryIsing(4, scale=1.5, seed=12), [True] * 4),
    "categorical": (lambda: PottsModel(3, 3, scale=0.6, seed=13), [True] * 3),
}


@pytest.mark.parametrize("model_name", sorted(ONE_STEP_MODELS))
@pytest.mark.parametrize("kind, step, temperature", ONE_STEP_SAMPLERS)
def test_one_step_transitions_and_acceptance_match_exact_enumeration(kind, step, temperature, model_name):
    make_model, free = ONE_STEP_MODELS[model_name]
    model, free = make_model(), torch.tensor(free)
    kernel, acceptance = exact_one_step(kind, model, free, step, temperature)
    start, end, sampler = run_one_step(kind, model, free, step, temperature, seed=21)
    n = len(kernel)
    counts = torch.bincount(start * n + end, minlength=n * n).view(n, n).double()
    # the whole transition matrix, cell by cell (5 standard errors plus a Poisson allowance)
    assert (counts[kernel == 0] == 0).all()
    tolerance = 5 * (kernel * (1 - kernel) / PER_STATE).sqrt() + 5 / PER_STATE
    assert ((counts / PER_STATE - kernel).abs() <= tolerance).all()
    moved = (end != start).double().mean().item()
    assert within_standard_errors(moved, 1 - kernel.diagonal()[start], len(start))
    if kind in ("gwg", "dmala"):
        assert within_standard_errors(sampler.acceptance_rate, acceptance[start], len(start))
        assert acceptance.mean() < 0.97  # rejections are frequent enough to be seen
        if kind == "gwg":  # a GWG proposal always changes the state: accepted <=> moved
            assert sampler.acceptance_rate == moved
    else:
        # unadjusted: the state is the draw, whatever its energy (the kernel check above);
        # acceptance_rate reports 1.0 for such samplers by convention
        assert sampler.acceptance_rate == 1.0


@pytest.mark.parametrize("categorical", [False, True], ids=["binary", "categorical"])
def test_dmala_accepts_everything_on_a_flat_energy_and_less_on_a_steep_one(categorical):
    """On E = 0 the proposal is symmetric, so every proposal is accepted, and a site stays with
    probability 1 - sigmoid(-1/(2α)) (bits) or 1 / (1 + (K-1) e^{-1/α}) (one-hot)."""
    num_categories = 3 if categorical else 2
    free = torch.ones(3 if categorical else 4, dtype=torch.bool)
    step = 0.3
    start, end, sampler = run_one_step("dmala", FlatEnergy(num_categories), free, step, 1.0, seed=22)
    assert sampler.acceptance_rate == 1.0
    if categorical:
        stay = 1 / (1 + (num_categories - 1) * math.exp(-1 / step))
    else:
        stay = 1 - 1 / (1 + math.exp(1 / (2 * step)))
    moved = torch.full((len(start),), 1 - stay ** free.numel(), dtype=torch.float64)
    assert within_standard_errors((end != start).double().mean().item(), moved, len(start))
    assert run_one_step("gwg", FlatEnergy(num_categories), free, None, 1.0, seed=23)[2].acceptance_rate == 1.0
    # the same step on a steep energy: the exact acceptance is far below 1, and so is the rate
    steep = PottsModel(3, 3, scale=4.0, seed=14) if categorical else BinaryIsing(4, scale=3.0, seed=14)
    _, acceptance = exact_one_step("dmala", steep, free, step, 1.0)
    start, _, sampler = run_one_step("dmala", steep, free, step, 1.0, seed=24)
    assert acceptance.mean() < 0.95
    assert within_standard_errors(sampler.acceptance_rate, acceptance[start], len(start))


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


def test_langevin_step_is_its_gaussian_proposal_and_always_moves():
    """One ULA step from a fixed x is N(x - h ∇E(x), 2h I); every entry of every chain changes."""
    step, num_chains = 0.2, 20000
    x0 = torch.tensor([[2.0, 0.5]], dtype=torch.float64).expand(num_chains, 2)
    sampler = Langevin(step)
    y = sampler.sample(_gaussian_energy, x0, 1, generator=torch.Generator().manual_seed(30))
    assert (y != x0).all()
    expected_mean = x0[0] - step * PRECISION @ (x0[0] - MEAN)  # ∇E(x) = P (x - μ)
    assert ((y.mean(0) - expected_mean).abs() <= 4 * math.sqrt(2 * step / num_chains)).all()
    # sample covariance of N(·, 2h I): variance standard error 2h sqrt(2/n), covariance 2h / sqrt(n)
    covariance = torch.cov(y.t())
    assert ((covariance.diagonal() - 2 * step).abs() <= 5 * 2 * step * math.sqrt(2 / num_chains)).all()
    assert abs(covariance[0, 1].item()) <= 5 * 2 * step / math.sqrt(num_chains)
    assert sampler.acceptance_rate == 1.0  # no test, by convention 1.0


def test_mala_acceptance_is_the_fraction_moved_and_matches_quadrature():
    """One MALA step on E(x) = (x - m)^2 / (2v) in 1-D from known starts. A continuous proposal
    differs from x almost surely, so a chain moved exactly when its proposal was accepted; the
    expected acceptance from x is the integral over ξ ~ N(0, 1) of min(1, exp(L(x, y(ξ)))),
    evaluated here on a fine grid."""
    m, v, step, per_start = 1.0, 0.5, 0.6, 8000
    starts = torch.tensor([-2.0, 0.0, 1.0, 2.5, 4.0], dtype=torch.float64)

    def energy(x):
        return ((x - m) ** 2).sum(-1) / (2 * v)

    def log_q(target, origin):  # log N(target; origin - h E'(origin), 2h), constant dropped
        return -((target - origin + step * (origin - m) / v) ** 2) / (4 * step)

    xi = np.linspace(-12, 12, 240001)
    expected = []
    for x in starts.tolist():
        y = x - step * (x - m) / v + math.sqrt(2 * step) * xi
        log_ratio = ((x - m) ** 2 - (y - m) ** 2) / (2 * v) + log_q(x, y) - log_q(y, x)
        density = np.exp(-(xi**2) / 2) / math.sqrt(2 * math.pi)
        integrand = density * np.exp(np.minimum(log_ratio, 0))
        expected.append((integrand[1:] + integrand[:-1]).sum() * (xi[1] - xi[0]) / 2)  # trapezoid rule
    expected = torch.tensor(expected, dtype=torch.float64)
    x0 = starts.repeat_interleave(per_start)[:, None]
    sampler = MALA(step)
    y = sampler.sample(energy, x0, 1, generator=torch.Generator().manual_seed(31))
    moved = (y != x0).any(1).double().mean().item()
    assert sampler.acceptance_rate == moved
    assert expected.mean() < 0.9 and expected.min() < 0.7  # rejections matter here
    assert within_standard_errors(sampler.acceptance_rate, expected.repeat_interleave(per_start), len(x0))
    for start, probability in zip(starts.tolist(), expected.tolist()):
        chains = x0[:, 0] == start
        stayed = (y[chains] == start).double().mean().item()
        assert abs(1 - stayed - probability) <= 4 * math.sqrt(probability * (1 - probability) / per_start)


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
