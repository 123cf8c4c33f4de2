"""Objectives against exact answers: enumerated Energy Discrepancy, tabular and Gaussian fits,
closed-form score matching, gradient signs, the PCD buffer, masks, seeds and errors."""

import math

import pytest
import torch
from test_perturbations import all_binary_states, bernoulli_kernel

from edgraph.objectives import (
    PersistentChains,
    contrastive_divergence,
    denoising_score_matching,
    energy_discrepancy,
    score_matching,
)
from edgraph.perturbations import BernoulliFlip, Gaussian, UniformCategorical

pytestmark = pytest.mark.usefixtures("single_thread")


class TabularEnergy(torch.nn.Module):
    """One free energy per state of an enumerable space; states are coded by ``index(x)``."""

    def __init__(self, num_states: int, index):
        super().__init__()
        self.table = torch.nn.Parameter(torch.zeros(num_states, dtype=torch.float64))
        self.index = index

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.table[self.index(x)]


def binary_index(x: torch.Tensor) -> torch.Tensor:
    return (x * 2 ** torch.arange(x.shape[-1])).sum(-1).long()


def categorical_index(x: torch.Tensor) -> torch.Tensor:
    k = x.shape[-1]
    return (x.argmax(-1) * k ** torch.arange(x.shape[-2])).sum(-1)


def exact_energy_discrepancy(energy: torch.Tensor, p_data: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """ED = E_p[E(x)] + sum_{x,y} p(x) q(y|x) log sum_x' q(y|x') exp(-E(x')), by enumeration."""
    log_normaliser = torch.logsumexp(kernel.log() - energy[:, None], dim=0)  # indexed by y
    return (p_data * energy).sum() + (p_data[:, None] * kernel * log_normaliser[None]).sum()


# --- the estimator against the exact value --------------------------------------------------------


def test_exact_energy_discrepancy_is_minimised_by_data_energy():
    # Checks the reference formula used below: -log p_data is a stationary point and beats others.
    g = torch.Generator().manual_seed(0)
    states, p_data = all_binary_states(4), torch.softmax(torch.randn(16, generator=g, dtype=torch.float64), 0)
    kernel = bernoulli_kernel(states, 0.2)
    energy = (-p_data.log()).requires_grad_(True)
    best = exact_energy_discrepancy(energy, p_data, kernel)
    best.backward()
    assert energy.grad.abs().max() < 1e-12
    for _ in range(5):
        other = energy.detach() + 0.3 * torch.randn(16, generator=g, dtype=torch.float64)
        assert exact_energy_discrepancy(other, p_data, kernel) > best


def test_estimator_mean_approaches_exact_value_from_below():
    d, eps, repeats = 6, 0.2, 1000
    g = torch.Generator().manual_seed(0)
    states = all_binary_states(d)
    table = torch.randn(2**d, generator=g, dtype=torch.float64)
    p_data = torch.softmax(torch.randn(2**d, generator=g, dtype=torch.float64), 0)
    kernel = bernoulli_kernel(states, eps)
    exact = exact_energy_discrepancy(table, p_data, kernel)
    # Delta method: E[log mean_M Z] = log E[Z] - Var(Z) / (2 M E[Z]^2) + O(M^-2) with
    # Z = exp(E(x) - E(x')), x' ~ q(.|y); Var/E^2 = S2(y)/S(y)^2 - 1 does not depend on x.
    s1 = kernel.T @ torch.exp(-table)
    s2 = kernel.T @ torch.exp(-2 * table)
    relative_variance = ((p_data @ kernel) * (s2 / s1**2 - 1)).sum()

    def energy(x):
        return table[binary_index(x)]

    x = states.repeat_interleave(repeats, 0)
    gaps = []
    for m in (1, 4, 16, 64):
        terms = energy_discrepancy(
            energy,
            x,
            BernoulliFlip(eps),
            num_negatives=m,
            w=0.0,
            generator=torch.Generator().manual_seed(m),
            reduction="none",
        ).view(2**d, repeats)
        estimate = (p_data * terms.mean(1)).sum()
        standard_error = (p_data**2 * terms.var(1) / repeats).sum().sqrt()
        gap = estimate - exact
        assert gap < -3 * standard_error, (m, gap, standard_error)  # log of a mean underestimates
        gaps.append(gap)
    assert all(abs(later) < abs(earlier) for earlier, later in zip(gaps, gaps[1:]))
    # at M = 64 the gap is the first-order bias (the O(M^-2) term is ~3e-4 here)
    assert abs(gaps[-1] + relative_variance / (2 * 64)) < 4 * standard_error + 1e-3


class FixedNegatives:
    """A test perturbation returning preset states: y = x, then the given negatives."""

    def __init__(self, negatives: torch.Tensor):
        self.negatives = negatives

    def sample(self, x, mask=None, generator=None):
        return x if x.dim() == 2 else self.negatives


@pytest.mark.parametrize("w", [0.0, 1.0, 3.0])
def test_terms_match_the_formula_and_stay_finite_for_huge_energies(w):
    x = torch.tensor([[0.0], [1.0]])
    negatives = torch.tensor([[[2.0], [3.0], [4.0]], [[5.0], [6.0], [7.0]]])
    for scale in (1.0, 1e4):

        def energy(z, scale=scale):
            return scale * z[:, 0] ** 2

        terms = energy_discrepancy(energy, x, FixedNegatives(negatives), num_negatives=3, w=w, reduction="none")
        for i in range(2):
            ratios = [scale * (x[i, 0] ** 2 - n**2) for n in negatives[i, :, 0]]
            expected = torch.logsumexp(torch.tensor(ratios + ([math.log(w)] if w > 0 else [])), 0) - math.log(3)
            assert torch.isfinite(terms[i])
            assert torch.allclose(terms[i], expected, rtol=1e-6, atol=1e-6)


def test_stabiliser_adds_w_over_m_inside_the_log():
    x = torch.randint(2, (64, 5)).float()

    def energy(z):
        return z.sum(-1) * 0.7 - z[:, 0] * z[:, 1]

    plain, stabilised = (
        energy_discrepancy(
            energy, x, BernoulliFlip(0.2), 8, w=w, generator=torch.Generator().manual_seed(0), reduction="none"
        )
        for w in (0.0, 2.0)
    )
    assert torch.allclose(stabilised.exp(), plain.exp() + 2.0 / 8)


# --- training recovers the data distribution -------------------------------------------------------


def fit_tabular(states, p_data, index, perturbation, steps=300, repeats=16, num_negatives=32, seed=0):
    """Full-batch ED training on the exact data distribution: every state, weighted by p_data."""
    energy = TabularEnergy(len(states), index)
    optimiser = torch.optim.Adam(energy.parameters(), lr=0.1)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, steps)
    generator = torch.Generator().manual_seed(seed)
    x = states.repeat_interleave(repeats, 0)
    for _ in range(steps):
        terms = energy_discrepancy(energy, x, perturbation, num_negatives, w=1.0, generator=generator, reduction="none")
        loss = (p_data * terms.view(len(states), repeats).mean(1)).sum()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
    p_model = torch.softmax(-energy.table.detach(), 0)
    return 0.5 * (p_model - p_data).abs().sum().item()


@pytest.mark.parametrize("eps", [0.1, 0.3])
def test_tabular_binary_energy_recovers_data_distribution(eps):
    p_data = torch.softmax(torch.randn(32, generator=torch.Generator().manual_seed(1), dtype=torch.float64), 0)
    tv = fit_tabular(all_binary_states(5), p_data, binary_index, BernoulliFlip(eps))
    assert tv < 0.03


def test_tabular_categorical_energy_recovers_data_distribution():
    codes = torch.cartesian_prod(*[torch.arange(3)] * 3)  # 27 states, site 0 varies slowest
    states = torch.nn.functional.one_hot(codes.flip(-1), 3).float()  # site k has weight 3^k
    assert torch.equal(categorical_index(states), torch.arange(27))
    p_data = torch.softmax(torch.randn(27, generator=torch.Generator().manual_seed(2), dtype=torch.float64), 0)
    tv = fit_tabular(states, p_data, categorical_index, UniformCategorical(0.3, 3))
    assert tv < 0.03


def normal_quantiles(mean: float, variance: float, n: int) -> torch.Tensor:
    """A deterministic 'sample' of N(mean, variance): its n midpoint quantiles, [n, 1]."""
    u = (torch.arange(n, dtype=torch.float64) + 0.5) / n
    return (mean + math.sqrt(variance) * torch.special.ndtri(u))[:, None]


class GaussianEnergy(torch.nn.Module):
    """E(x) = (x - mu)^2 / (2 v) in 1-D, parameters mu and log v."""

    def __init__(self):
        super().__init__()
        self.mean = torch.nn.Parameter(torch.zeros((), dtype=torch.float64))
        self.log_variance = torch.nn.Parameter(torch.zeros((), dtype=torch.float64))

    def forward(self, x):
        return 0.5 * (x[:, 0] - self.mean) ** 2 * torch.exp(-self.log_variance)


def fit_gaussian(loss_fn, steps, lr=0.05):
    energy = GaussianEnergy()
    optimiser = torch.optim.Adam(energy.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, steps)
    for _ in range(steps):
        loss = loss_fn(energy)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
    return energy.mean.item(), energy.log_variance.exp().item()


def test_gaussian_energy_discrepancy_recovers_mean_and_variance():
    data = normal_quantiles(1.0, 2.0, 2048)
    generator = torch.Generator().manual_seed(0)
    mean, variance = fit_gaussian(lambda e: energy_discrepancy(e, data, Gaussian(1.0), 32, generator=generator), 300)
    assert abs(mean - 1.0) < 0.02 and abs(variance / 2.0 - 1) < 0.02, (mean, variance)


def test_score_matching_recovers_sample_moments():
    data = normal_quantiles(-0.5, 0.7, 256)
    mean, variance = fit_gaussian(lambda e: score_matching(e, data), 400)
    # the SM minimiser in the Gaussian family is exactly the sample mean and (biased) variance
    assert abs(mean - data.mean().item()) < 1e-3 and abs(variance / data.var(unbiased=False).item() - 1) < 1e-3


def test_denoising_score_matching_fits_data_convolved_with_noise():
    sigma, data = 0.5, normal_quantiles(1.0, 2.0, 4096)
    generator = torch.Generator().manual_seed(0)
    mean, variance = fit_gaussian(lambda e: denoising_score_matching(e, data, sigma, generator), 400)
    assert abs(mean - 1.0) < 0.02 and abs(variance / (2.0 + sigma**2) - 1) < 0.02, (mean, variance)


# --- closed forms and gradient signs -------------------------------------------------------------


def test_score_matching_matches_closed_form_for_a_quadratic_energy():
    precision = torch.tensor([[2.0, 0.5], [0.5, 1.0]], dtype=torch.float64)
    centre = torch.tensor([0.3, -1.0], dtype=torch.float64)

    def energy(x):
        return 0.5 * ((x - centre) @ precision * (x - centre)).sum(-1)

    x = torch.randn(7, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    expected = 0.5 * ((x - centre) @ precision).pow(2).sum(-1) - precision.trace()
    assert torch.allclose(score_matching(energy, x, reduction="none"), expected)

    def linear(x):
        return x @ centre  # no second derivative: the Laplacian term is zero

    assert torch.allclose(score_matching(linear, x, reduction="none"), 0.5 * centre.pow(2).sum().expand(7))


def test_discrete_gradients_lower_the_energy_of_data():
    states = all_binary_states(4)
    x_data = states[[5]].repeat(256, 1)
    energy = TabularEnergy(16, binary_index)
    energy_discrepancy(energy, x_data, BernoulliFlip(0.3), 16, generator=torch.Generator().manual_seed(0)).backward()
    assert energy.table.grad[5] > 0 and (energy.table.grad[torch.arange(16) != 5] <= 0).all()

    energy.table.grad = None
    x_model = states[torch.tensor([0, 0, 3, 5])]
    contrastive_divergence(energy, x_data[:4], x_model).backward()
    # gradient of CD = empirical data frequencies minus empirical model frequencies
    expected = torch.zeros(16, dtype=torch.float64)
    expected[5], expected[0], expected[3] = 1 - 0.25, -0.5, -0.25
    assert torch.allclose(energy.table.grad, expected)


@pytest.mark.parametrize("objective", ["ed", "cd", "dsm", "sm"])
def test_continuous_gradient_step_lowers_the_energy_of_data(objective):
    data = normal_quantiles(2.0, 1.0, 512)
    energy = GaussianEnergy()  # centred at 0: the data lie uphill
    generator = torch.Generator().manual_seed(0)
    loss = {
        "ed": lambda: energy_discrepancy(energy, data, Gaussian(0.5), 16, generator=generator),
        "cd": lambda: contrastive_divergence(
            energy, data, torch.randn(512, 1, generator=generator, dtype=torch.float64)
        ),
        "dsm": lambda: denoising_score_matching(energy, data, 0.3, generator),
        "sm": lambda: score_matching(energy, data),
    }[objective]()
    loss.backward()
    assert energy.mean.grad < 0  # descent moves the minimum towards the data
    before = energy(data).mean()
    with torch.no_grad():
        for parameter in energy.parameters():
            parameter -= 0.01 * parameter.grad
    assert energy(data).mean() < before


def test_contrastive_divergence_detaches_model_samples_and_uses_masks():
    calls = []

    def energy(x, mask=None):
        calls.append(mask)
        return (x * mask).sum(-1) if mask is not None else x.sum(-1)

    x_model = torch.ones(3, 4, requires_grad=True)
    mask = torch.tensor([[1.0, 1.0, 0.0, 0.0]]).expand(3, 4)
    value = contrastive_divergence(energy, torch.full((3, 4), 2.0), x_model, mask=mask)
    assert value.item() == 2.0 and not value.requires_grad
    model_mask = torch.ones(3, 4)
    assert contrastive_divergence(energy, torch.full((3, 4), 2.0), x_model, mask, model_mask).item() == 0.0
    assert calls[-1] is model_mask and calls[-2] is mask


# --- batching, masks, seeds, errors ---------------------------------------------------------------


class RecordingEnergy:
    def __init__(self):
        self.calls = []

    def __call__(self, x, mask=None):
        self.calls.append((x.clone(), None if mask is None else mask.clone()))
        return x.flatten(1).sum(-1)


@pytest.mark.parametrize(
    "x, perturbation",
    [
        (torch.randint(2, (5, 6)).float(), BernoulliFlip(0.5)),
        (torch.nn.functional.one_hot(torch.randint(3, (5, 6)), 3).float(), UniformCategorical(0.9, 3)),
        (torch.randn(5, 6), Gaussian(1.0)),
    ],
    ids=["binary", "categorical", "continuous"],
)
def test_one_batched_energy_call_that_respects_the_mask(x, perturbation):
    batch, m = 5, 7
    mask = torch.ones(batch, 6)
    mask[:, 4:] = 0
    mask[0] = 0
    energy = RecordingEnergy()
    energy_discrepancy(energy, x, perturbation, m, mask=mask, generator=torch.Generator().manual_seed(0))
    assert len(energy.calls) == 1
    states, state_mask = energy.calls[0]
    assert states.shape == (batch * (m + 1), *x.shape[1:])
    assert torch.equal(state_mask, mask.repeat_interleave(m + 1, 0))
    grouped = states.view(batch, m + 1, *x.shape[1:])
    assert torch.equal(grouped[:, 0], x)
    moved = (grouped != x[:, None]).reshape(batch, m + 1, 6, -1).any(-1)
    assert not moved[(mask == 0)[:, None].expand(batch, m + 1, 6)].any()
    assert moved.any()


def test_energy_is_called_without_mask_when_none_is_given():
    energy = RecordingEnergy()
    energy_discrepancy(energy, torch.zeros(2, 3), BernoulliFlip(0.1), 4)
    assert energy.calls[0][1] is None


def test_same_seed_same_loss():
    x = torch.randint(2, (16, 8)).float()

    def energy(z):
        return (z[:, :-1] * z[:, 1:]).sum(-1)

    losses = [
        energy_discrepancy(energy, x, BernoulliFlip(0.2), 8, generator=torch.Generator().manual_seed(seed)).item()
        for seed in (3, 3, 4)
    ]
    assert losses[0] == losses[1] != losses[2]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(num_negatives=0), "num_negatives"),
        (dict(num_negatives=2.5), "num_negatives"),
        (dict(w=-1.0), "w "),
        (dict(w=float("nan")), "w "),
        (dict(reduction="sum"), "reduction"),
        (dict(mask=torch.ones(3, 4)), "mask"),
        (dict(mask=torch.ones(4)), "mask"),
    ],
)
def test_energy_discrepancy_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        energy_discrepancy(lambda x, mask=None: x.sum(-1), torch.zeros(2, 4), BernoulliFlip(0.1), **kwargs)


def test_energy_with_wrong_output_shape_is_rejected():
    with pytest.raises(ValueError, match="one value per sample"):
        energy_discrepancy(lambda x: x, torch.zeros(2, 4), BernoulliFlip(0.1), 3)
    with pytest.raises(ValueError, match="sigma"):
        denoising_score_matching(lambda x: x.sum(-1), torch.zeros(2, 1), sigma=0.0)


# --- persistent chains ------------------------------------------------------------------------------


def test_persistent_chains_sample_distinct_slots_and_store_updates():
    chains = PersistentChains(torch.arange(10.0)[:, None].repeat(1, 3))
    batch = chains.sample(6, generator=torch.Generator().manual_seed(0))
    assert batch.indices.unique().numel() == 6 and batch.mask is None
    assert torch.equal(batch.states, chains.states[batch.indices])
    batch.states.add_(100)  # the returned states are a copy
    assert chains.states.max() == 9
    chains.update(batch.indices, batch.states)
    assert torch.equal(chains.states[batch.indices], batch.states)
    untouched = torch.ones(10, dtype=torch.bool)
    untouched[batch.indices] = False
    assert torch.equal(chains.states[untouched, 0], torch.arange(10.0)[untouched])
    again = chains.sample(6, generator=torch.Generator().manual_seed(0))
    assert torch.equal(again.indices, batch.indices)


def test_persistent_chains_restart_only_free_entries_at_the_given_rate():
    n, width = 4000, 5
    mask = torch.ones(n, width)
    mask[:, -2:] = 0  # padding stays padding on restart
    chains = PersistentChains(
        torch.zeros(n, width), mask=mask, reinit=lambda k, generator: torch.ones(k, width), reinit_prob=0.25
    )
    batch = chains.sample(n, generator=torch.Generator().manual_seed(0))
    assert torch.equal(batch.mask, mask[batch.indices])
    restarted = batch.states[:, 0] == 1
    assert (batch.states[:, -2:] == 0).all()
    assert torch.equal(batch.states[:, :3], restarted[:, None].float().expand(n, 3))
    # binomial standard error sqrt(0.25 * 0.75 / 4000) ~ 0.007
    assert abs(restarted.float().mean().item() - 0.25) < 0.035


def test_persistent_chains_restart_categorical_states_by_site():
    states = torch.nn.functional.one_hot(torch.zeros(2, 3, dtype=torch.long), 4).float()
    fresh = torch.nn.functional.one_hot(torch.full((2, 3), 2), 4).float()
    mask = torch.tensor([[1, 0, 1], [0, 0, 0]])
    chains = PersistentChains(states, mask=mask, reinit=lambda k, generator: fresh[:k], reinit_prob=1.0)
    batch = chains.sample(2, generator=torch.Generator().manual_seed(0))
    categories = batch.states.argmax(-1)
    expected = torch.where(batch.mask != 0, 2, 0)
    assert torch.equal(categories, expected)


def test_persistent_chains_reject_bad_arguments():
    with pytest.raises(ValueError, match="reinit"):
        PersistentChains(torch.zeros(3, 2), reinit_prob=0.1)
    with pytest.raises(ValueError, match="reinit_prob"):
        PersistentChains(torch.zeros(3, 2), reinit=lambda k, g: torch.zeros(k, 2), reinit_prob=1.5)
    with pytest.raises(ValueError, match="mask"):
        PersistentChains(torch.zeros(3, 2), mask=torch.ones(4, 2))
    chains = PersistentChains(torch.zeros(3, 2))
    with pytest.raises(ValueError, match="batch_size"):
        chains.sample(4)
    with pytest.raises(ValueError, match="states must have shape"):
        chains.update(torch.tensor([0, 1]), torch.zeros(2, 3))
    assert repr(chains) == "PersistentChains(num_chains=3, state_shape=(2,), reinit_prob=0.0)"


def test_contrastive_divergence_energy_penalty_adds_the_squared_energies():
    energy = lambda x: x.sum(-1)  # noqa: E731
    data, model = torch.ones(4, 3), torch.zeros(5, 3) + 2.0
    plain = contrastive_divergence(energy, data, model)
    penalised = contrastive_divergence(energy, data, model, energy_penalty=0.5)
    assert plain.item() == pytest.approx(3.0 - 6.0)
    assert penalised.item() == pytest.approx(3.0 - 6.0 + 0.5 * (9.0 + 36.0))


def test_a_chain_restarted_with_a_mask_takes_the_mask_of_its_new_state():
    mask = torch.tensor([[True, False, False]] * 4)  # every slot a 2-node graph
    new_mask = torch.ones(4, 3, dtype=torch.bool)  # restarts are 3-node graphs
    chains = PersistentChains(
        torch.zeros(4, 3), mask, reinit=lambda k, g: (torch.ones(k, 3), new_mask[:k]), reinit_prob=1.0
    )
    batch = chains.sample(2, torch.Generator().manual_seed(0))
    assert torch.equal(batch.states, torch.ones(2, 3)) and torch.equal(batch.mask, new_mask[:2])
    assert torch.equal(chains.mask[batch.indices], new_mask[:2])  # the slots keep their new masks
    untouched = [i for i in range(4) if i not in batch.indices.tolist()]
    assert torch.equal(chains.mask[untouched], mask[untouched])
