"""Perturbations: transition frequencies against the exact kernels, masks, shapes, seeds, errors."""

import itertools
import math

import networkx as nx
import pytest
import torch

from edgraph.graphs import edges_to_adj, graphs_to_edges
from edgraph.perturbations import BernoulliFlip, EdgeSwap, Gaussian, UniformCategorical


def all_binary_states(d: int) -> torch.Tensor:
    """All 2^d binary states as float rows; row s is the binary expansion of s (bit k = site k)."""
    return ((torch.arange(2**d)[:, None] >> torch.arange(d)) & 1).float()


def bernoulli_kernel(states: torch.Tensor, eps: float) -> torch.Tensor:
    """Exact q(y | x) = eps^h (1 - eps)^(D - h), h = Hamming distance, as a matrix [x, y]."""
    hamming = torch.cdist(states.double(), states.double(), p=1)
    return eps**hamming * (1 - eps) ** (states.shape[1] - hamming)


def assert_frequencies_match(counts: torch.Tensor, kernel: torch.Tensor, draws: int) -> None:
    """Every empirical transition frequency lies within 5 binomial standard errors of the kernel."""
    frequencies = counts.double() / draws
    standard_error = (kernel * (1 - kernel) / draws).sqrt()
    assert torch.allclose(frequencies.sum(1), torch.ones(len(kernel), dtype=torch.float64))
    assert ((frequencies - kernel).abs() <= 5 * standard_error + 1e-12).all(), (frequencies - kernel).abs().max()


@pytest.mark.parametrize("eps", [0.1, 0.3])
def test_bernoulli_transition_frequencies_match_exact_kernel(eps):
    d, draws = 3, 20_000
    states = all_binary_states(d)
    x = states.repeat_interleave(draws, 0)
    y = BernoulliFlip(eps).sample(x, generator=torch.Generator().manual_seed(0))
    start = (x * 2 ** torch.arange(d)).sum(1).long()
    end = (y * 2 ** torch.arange(d)).sum(1).long()
    counts = torch.zeros(2**d, 2**d).index_put_((start, end), torch.ones(len(x)), accumulate=True)
    assert_frequencies_match(counts, bernoulli_kernel(states, eps), draws)


def test_categorical_transition_frequencies_match_exact_kernel():
    sites, k, eps, draws = 2, 3, 0.4, 20_000
    codes = torch.cartesian_prod(torch.arange(k), torch.arange(k))  # all 9 states [9, 2]
    site_kernel = (1 - eps) * torch.eye(k, dtype=torch.float64) + eps / k
    kernel = site_kernel[codes[:, None, 0], codes[None, :, 0]] * site_kernel[codes[:, None, 1], codes[None, :, 1]]
    x = torch.nn.functional.one_hot(codes, k).float().repeat_interleave(draws, 0)
    y = UniformCategorical(eps, k).sample(x, generator=torch.Generator().manual_seed(0))
    assert ((y == 0) | (y == 1)).all() and (y.sum(-1) == 1).all()

    def index(z):
        return (z.argmax(-1) * torch.tensor([k, 1])).sum(1)

    counts = torch.zeros(k**sites, k**sites).index_put_((index(x), index(y)), torch.ones(len(x)), accumulate=True)
    assert_frequencies_match(counts, kernel, draws)


def test_gaussian_increment_has_variance_t():
    t, n = 0.3, 200_000
    x = torch.full((n, 2), 5.0)
    increment = Gaussian(t).sample(x, generator=torch.Generator().manual_seed(0)) - x
    # mean: standard error sqrt(t/n); variance: standard error t*sqrt(2/n)
    assert increment.mean(0).abs().max() < 5 * math.sqrt(t / n)
    assert (increment.var(0) - t).abs().max() < 5 * t * math.sqrt(2 / n)


STACK = (4, 6, 5)  # [B, M, D]


def stack_for(perturbation):
    torch.manual_seed(0)
    if isinstance(perturbation, UniformCategorical):
        return torch.nn.functional.one_hot(torch.randint(3, STACK), 3).float()
    if isinstance(perturbation, BernoulliFlip):
        return torch.randint(2, STACK).float()
    return torch.randn(STACK)


PERTURBATIONS = [BernoulliFlip(0.5), UniformCategorical(0.9, num_categories=3), Gaussian(1.0)]


@pytest.mark.parametrize("perturbation", PERTURBATIONS, ids=repr)
@pytest.mark.parametrize("mask_dtype", [torch.bool, torch.float32])
def test_stacks_keep_shape_and_frozen_entries(perturbation, mask_dtype):
    x = stack_for(perturbation)
    site_mask = (torch.rand(STACK[0], 1, STACK[2], generator=torch.Generator().manual_seed(1)) < 0.5).to(mask_dtype)
    y = perturbation.sample(x, site_mask, generator=torch.Generator().manual_seed(2))
    assert y.shape == x.shape and y.dtype == x.dtype
    frozen = (site_mask == 0).expand(STACK)
    changed = (y != x).reshape(*STACK, -1).any(-1)
    assert not changed[frozen].any()
    assert changed[~frozen].float().mean() > 0.3  # eps/t large: free entries do move
    assert torch.equal(perturbation.sample(x, torch.zeros(STACK[0], 1, STACK[2]), torch.Generator().manual_seed(3)), x)


@pytest.mark.parametrize("perturbation", PERTURBATIONS, ids=repr)
def test_flat_batch_with_flat_mask(perturbation):
    x = stack_for(perturbation)[:, 0]  # [B, D] (or [B, D, K])
    mask = torch.ones(STACK[0], STACK[2])
    mask[:, :2] = 0
    y = perturbation.sample(x, mask, generator=torch.Generator().manual_seed(0))
    assert torch.equal(y[:, :2], x[:, :2])


@pytest.mark.parametrize("perturbation", PERTURBATIONS, ids=repr)
def test_same_seed_same_result(perturbation):
    x = stack_for(perturbation)
    first = perturbation.sample(x, generator=torch.Generator().manual_seed(7))
    again = perturbation.sample(x, generator=torch.Generator().manual_seed(7))
    other = perturbation.sample(x, generator=torch.Generator().manual_seed(8))
    assert torch.equal(first, again)
    assert not torch.equal(first, other)


@pytest.mark.parametrize("perturbation", PERTURBATIONS, ids=repr)
def test_mask_that_does_not_broadcast_is_rejected(perturbation):
    x = stack_for(perturbation)
    with pytest.raises(ValueError, match="mask"):
        perturbation.sample(x, torch.ones(STACK[0], STACK[2]))  # [B, D] against a [B, M, D] stack


@pytest.mark.parametrize(
    "make",
    [
        lambda: BernoulliFlip(0.0),
        lambda: BernoulliFlip(1.0),
        lambda: BernoulliFlip(-0.1),
        lambda: BernoulliFlip(float("nan")),
        lambda: BernoulliFlip("0.1"),
        lambda: UniformCategorical(1.2, 3),
        lambda: UniformCategorical(0.1, 1),
        lambda: UniformCategorical(0.1, 2.5),
        lambda: Gaussian(0.0),
        lambda: Gaussian(-1.0),
        lambda: Gaussian(float("inf")),
    ],
)
def test_invalid_arguments_are_rejected(make):
    with pytest.raises(ValueError, match="eps|num_categories|t "):
        make()


def test_categorical_rejects_wrong_number_of_categories():
    with pytest.raises(ValueError, match=r"\[\.\.\., D, 4\]"):
        UniformCategorical(0.1, 4).sample(torch.zeros(2, 5, 3))


def test_repr_names_the_parameters():
    assert repr(BernoulliFlip(0.1)) == "BernoulliFlip(eps=0.1)"
    assert repr(UniformCategorical(0.2, 5)) == "UniformCategorical(eps=0.2, num_categories=5)"
    assert repr(Gaussian(0.5)) == "Gaussian(t=0.5)"


def test_scaled_flip_gives_every_state_the_same_expected_flips():
    from edgraph.perturbations import ScaledBernoulliFlip

    mask = torch.zeros(3, 40)
    mask[0, :6], mask[1, :20], mask[2, :] = 1, 1, 1
    gen = torch.Generator().manual_seed(0)
    for x in (torch.zeros(3, 40), torch.ones(3, 40)):  # the rate depends on the mask, not on x
        y = ScaledBernoulliFlip(2.0).sample(x.expand(20000, 3, 40), mask.unsqueeze(0), gen)
        flips = (y != x).float()
        assert torch.all(flips * (1 - mask) == 0)  # frozen bits never flip
        counts = flips.sum(-1)  # [20000, 3]
        for row, free in enumerate((6, 20, 40)):
            expected = free * min(2.0 / free, 0.5)
            std_error = (free * (2.0 / free) * (1 - 2.0 / free) / 20000) ** 0.5
            assert abs(counts[:, row].mean().item() - expected) < 5 * std_error
    capped = ScaledBernoulliFlip(3.0).sample(torch.zeros(20000, 4), None, gen)
    assert abs(capped.mean().item() - 0.5) < 0.01  # probability capped at 1/2 for tiny states


def test_scaled_flip_caps_the_flip_probability_at_max_eps():
    from edgraph.perturbations import ScaledBernoulliFlip

    mask = torch.zeros(2, 100)
    mask[0, :10], mask[1, :] = 1, 1  # 10 free bits: 0.2 x 10 = 2 flips; 100 free bits: 8 flips, not 20
    y = ScaledBernoulliFlip(8.0, max_eps=0.2).sample(torch.zeros(20000, 2, 100), mask, torch.Generator().manual_seed(1))
    rates = y.mean(0).sum(-1)
    assert abs(rates[0].item() - 2.0) < 0.03 and abs(rates[1].item() - 8.0) < 0.06
    with pytest.raises(ValueError, match="max_eps"):
        ScaledBernoulliFlip(8.0, max_eps=1.5)


def test_scaled_flip_validates_its_argument():
    from edgraph.perturbations import ScaledBernoulliFlip

    with pytest.raises(ValueError, match="flips must be a positive number"):
        ScaledBernoulliFlip(0.0)


def swap_kernel(states: list[frozenset], attempts: int) -> torch.Tensor:
    """Exact kernel of ``attempts`` double-edge-swap attempts on edge sets (of ``frozenset`` pairs),
    enumerating from each all (2m)^2 ordered pairs of oriented edges: (a, b), (c, d) -> (a, d), (c, b)
    when that makes no self-loop and no existing edge."""
    index = {state: i for i, state in enumerate(states)}
    one = torch.zeros(len(states), len(states), dtype=torch.float64)
    for state in states:
        oriented = [tuple(e) for e in state] + [tuple(e)[::-1] for e in state]
        for a, b in oriented:
            for c, d in oriented:
                added = {frozenset((a, d)), frozenset((c, b))}
                allowed = a != d and c != b and not added & state
                target = (state - {frozenset((a, b)), frozenset((c, d))}) | added if allowed else state
                one[index[state], index[target]] += 1 / len(oriented) ** 2
    return torch.linalg.matrix_power(one, attempts)


def test_edge_swap_transition_frequencies_match_the_exact_symmetric_kernel():
    nodes, edges, draws = 5, 4, 20_000
    pairs = [(u, v) for u in range(nodes) for v in range(u + 1, nodes)]
    states = [frozenset(map(frozenset, c)) for c in itertools.combinations(pairs, edges)]
    kernel = swap_kernel(states, attempts=2)  # share 0.5 of 4 edges
    assert torch.allclose(kernel, kernel.T)
    assert torch.allclose(kernel.sum(1), torch.ones(len(states), dtype=torch.float64))
    starts = [0, 17, 101]
    x = torch.tensor([[float(frozenset(p) in states[s]) for p in pairs] for s in starts]).repeat_interleave(draws, 0)
    y = EdgeSwap(0.5).sample(x, generator=torch.Generator().manual_seed(0))
    index = {state: i for i, state in enumerate(states)}
    end = torch.tensor([index[frozenset(frozenset(p) for p, bit in zip(pairs, row) if bit)] for row in y.tolist()])
    counts = torch.zeros(len(starts), len(states)).index_put_(
        (torch.arange(len(starts)).repeat_interleave(draws), end), torch.ones(len(end)), accumulate=True
    )
    assert_frequencies_match(counts, kernel[starts], draws)


def test_edge_swap_keeps_degrees_padding_and_frozen_pairs():
    graphs = [nx.gnp_random_graph(n, 0.4, seed=n) for n in (6, 9, 12)]
    x, mask = graphs_to_edges(graphs, 12)
    stack = x.unsqueeze(1).expand(3, 50, -1)
    y = EdgeSwap(1.0).sample(stack, mask.unsqueeze(1), torch.Generator().manual_seed(0))
    assert torch.equal(edges_to_adj(y, 12).sum(-1), edges_to_adj(stack, 12).sum(-1))
    assert not (y * ~mask.unsqueeze(1)).any()
    assert (y != stack).any(-1).float().mean() > 0.5  # most draws do rewire
    frozen = mask & (torch.rand(mask.shape, generator=torch.Generator().manual_seed(1)) < 0.3)
    z = EdgeSwap(1.0).sample(stack, (mask & ~frozen).unsqueeze(1), torch.Generator().manual_seed(0))
    assert torch.equal(z[frozen.unsqueeze(1).expand_as(z)], stack[frozen.unsqueeze(1).expand_as(z)])
    assert (z != stack).any()
    first = EdgeSwap(1.0).sample(stack, generator=torch.Generator().manual_seed(5))
    assert torch.equal(first, EdgeSwap(1.0).sample(stack, generator=torch.Generator().manual_seed(5)))


def test_edge_swap_rejects_bad_arguments():
    for share in (0, -1.0, float("inf"), "1"):
        with pytest.raises(ValueError, match="share"):
            EdgeSwap(share)
    with pytest.raises(ValueError, match="N\\(N-1\\)/2 entries, got 5"):
        EdgeSwap(1.0).sample(torch.zeros(2, 5))
