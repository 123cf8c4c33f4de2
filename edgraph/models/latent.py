r"""``LatentGraphEBM``: a graph autoencoder with an energy-based prior over its latent space.

The generator decodes graphs from latent vectors :math:`z \in \mathbb R^d`; the prior is

.. math::
    p_\theta(z) \propto e^{-E_\theta(z)}\,\mathcal N(z; 0, I)

(Pang et al., "Learning Latent Space Energy-Based Prior Model", NeurIPS 2020), with
:math:`E_\theta` an MLP (:class:`~edgraph.energies.feedforward.TiltedGaussianEnergy`). Its
energy is learned from latent codes of the training graphs by Gaussian Energy Discrepancy
(Schröder et al., NeurIPS 2023), with no MCMC in training.

**Training** runs one loop over batches of training graphs, with two parts that share no weights:

* a variational autoencoder: a GIN encoder (:class:`~edgraph.energies.gnn.GraphReadout`) gives
  :math:`q_\phi(z \mid x) = \mathcal N(\mu_\phi(x), \mathrm{diag}\,\sigma^2_\phi(x))`, and an MLP
  decoder gives the node count :math:`p_\beta(n \mid z)` (a softmax over ``1..N``) and
  independent edges :math:`p_\beta(x_{ij} \mid z)` (a sigmoid per node pair). The loss is the
  negative evidence lower bound, :math:`-\log p_\beta(n \mid z) - \sum_{i<j \le n} \log
  p_\beta(x_{ij} \mid z) + \beta_{KL}\, \mathrm{KL}(q_\phi(z \mid x) \,\|\, \mathcal N(0, I))`;
* the prior, fitted to the batch's codes :math:`z \sim q_\phi(z \mid x)` taken as data
  (detached), by the rule that ``prior`` names: ``"ed"`` (Gaussian ED), ``"mcmc"`` (contrastive
  divergence against short-run Langevin chains from :math:`\mathcal N(0, I)`, Pang et al.'s
  recipe) or ``"gaussian"`` (no tilt: the plain VAE).

The prior never changes the autoencoder, so the autoencoder trains as it would alone and the
prior fits its codes: the two-stage recipe, run in one loop (the prior follows the codes as the
autoencoder settles under the decaying learning rate).

``training="joint"`` learns without an encoder, by maximum likelihood as Pang et al. do: each
step draws :math:`z \sim p(z \mid x) \propto p_\theta(z)\, p_\beta(x \mid z)` for the batch by
short-run Langevin from :math:`\mathcal N(0, I)` on :math:`U(z \mid x) = E_\theta(z) +
\tfrac12\lVert z\rVert^2 - \log p_\beta(x \mid z)`, steps the decoder on :math:`-\log
p_\beta(x \mid z)` at those samples, and fits the prior to them (detached) by the same ``prior``
rule: with ``"ed"``, Energy Discrepancy on posterior samples replaces Pang et al.'s short-run
prior chains.

**Node order.** The decoder emits one adjacency matrix, so graphs are renumbered before
training by :func:`~edgraph.graphs.bfs_order`: breadth-first from the node of largest degree,
neighbours by decreasing degree. That keeps edges near the diagonal and puts hubs first, a
target a decoder can learn; a permutation-invariant reconstruction loss would need a graph
matching per training graph and step.

**Sampling** draws :math:`z_0 \sim \mathcal N(0, I)`, runs MALA on
:math:`U(z) = E_\theta(z) + \tfrac12\lVert z\rVert^2` for ``sampler_steps`` steps (none for the
Gaussian prior, whose samples are exact) and draws :math:`x \sim p_\beta(x \mid z)`: a node
count from the decoder's softmax, then each pair of those nodes an edge with its probability
:math:`\sigma(\ell_{ij} / T)`, where :math:`\ell_{ij}` is the decoder's logit and :math:`T` the
decoder temperature (``decoder_temperature``: 1 until a fit chooses it). A decoder that draws every pair
independently given :math:`z` blurs structure that the pairs share (two communities, say) into
edge probabilities between 0 and 1; :math:`T < 1` sharpens them towards the graph :math:`z` stands
for, at the price of diversity. When :meth:`LatentGraphEBM.fit` holds out validation graphs, it
chooses :math:`T` on them after training, among :data:`DECODER_TEMPERATURES`
(:meth:`LatentGraphEBM.choose_decoder_temperature`).
"""

from __future__ import annotations

import math
from abc import abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import networkx as nx
import torch
from torch import Tensor, nn
from torch.nn import functional as F

from edgraph.energies.feedforward import TiltedGaussianEnergy
from edgraph.energies.gnn import NODE_FEATURES, GraphReadout, mlp
from edgraph.energies.terms import EnergyTerm
from edgraph.graphs import GraphLike, dense_to_graphs, edges_to_adj, node_mask_from_pairs, num_pairs, pair_mask
from edgraph.models.base import EnergyModel, States, check_options
from edgraph.models.graph import (
    VALIDATION_STATS,
    fit_graphs,
    graph_record,
    novelty_required,
    validation_metrics,
    validation_score,
)
from edgraph.objectives import contrastive_divergence, energy_discrepancy
from edgraph.perturbations import Gaussian
from edgraph.samplers import CONTINUOUS_SAMPLERS, Langevin, Sampler
from edgraph.samplers.base import check_positive

if TYPE_CHECKING:
    from edgraph.training import Loss, TrainConfig

#: How the latent prior is trained (Energy Discrepancy, short-run MCMC, or not at all, N(0, I)).
PRIORS = ("ed", "mcmc", "gaussian")
#: How the generator learns (a VAE with an encoder, or jointly from posterior Langevin samples).
TRAININGS = ("vae", "joint")
#: What :meth:`LatentGraphEBM.fit` does unless told otherwise: 20,000 steps (a step costs a fraction
#: of a GraphEBM step), a fifth of the graphs held out, and every 1,000 steps and at the last 256
#: samples scored against them, so that the model keeps the weights that scored best among those
#: novel enough (:func:`~edgraph.models.graph.novelty_required`).
FIT_DEFAULTS: dict[str, Any] = {"max_steps": 20_000, "val_fraction": 0.2, "val_every": 1000, "val_graphs": 256}
#: The decoder temperatures validation chooses among, warmest first (ties keep the warmer); the
#: first, :math:`T = 1`, is the decoder as trained, which the others' novelty is measured against.
DECODER_TEMPERATURES = (1.0, 0.85, 0.7, 0.6, 0.5)
#: How much less novel than at :math:`T = 1` a colder decoder's samples may be: sharpening draws
#: samples towards the graphs the codes came from, and must not buy its MMD by copying them.
TEMPERATURE_NOVELTY_DROP = 0.05


@dataclass(kw_only=True)
class LatentPriorConfig:
    """The arguments every latent model shares (latent space, decoder width, prior, sampler), checked."""

    latent_dim: int = 16
    decoder_hidden: int = 256
    kl_weight: float = 0.3
    prior: str = "ed"
    prior_hidden: int = 128
    prior_layers: int = 3
    prior_noise: float = 0.1
    num_negatives: int = 32
    w: float = 1.0
    mcmc_steps: int = 60
    mcmc_step_size: float = 0.08
    sampler: str = "mala"
    sampler_steps: int = 1000
    step_size: float = 0.05
    training: str = "vae"
    posterior_steps: int = 20
    posterior_step_size: float = 0.1

    def __post_init__(self) -> None:
        check_options(self, CONTINUOUS_SAMPLERS)
        if self.prior not in PRIORS:
            raise ValueError(f"unknown prior {self.prior!r}; choose from {PRIORS}")
        if self.training not in TRAININGS:
            raise ValueError(f"unknown training {self.training!r}; choose from {TRAININGS}")
        names = ("latent_dim", "decoder_hidden", "prior_hidden", "prior_layers", "mcmc_steps", "posterior_steps")
        for name in names:
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not (math.isfinite(self.kl_weight) and self.kl_weight >= 0):
            raise ValueError(f"kl_weight must be a finite number >= 0, got {self.kl_weight}")
        for name in ("prior_noise", "mcmc_step_size", "posterior_step_size"):
            if not (math.isfinite(getattr(self, name)) and getattr(self, name) > 0):
                raise ValueError(f"{name} must be a finite number > 0, got {getattr(self, name)}")


@dataclass(kw_only=True)
class LatentConfig(LatentPriorConfig):
    """The arguments of :class:`LatentGraphEBM`, checked."""

    max_nodes: int
    hidden: int = 64
    layers: int = 4
    features: Sequence[str] = ("degree", "triangles", "size")
    kl_weight: float = 1.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.max_nodes < 2:
            raise ValueError(f"max_nodes must be at least 2, got {self.max_nodes}")
        unknown = sorted(set(self.features) - set(NODE_FEATURES))
        if unknown or not self.features:
            raise ValueError(f"features must be a non-empty subset of {NODE_FEATURES}, got {list(self.features)}")


class LatentNetwork(nn.Module):
    r"""Encoder, decoder and latent prior of a latent model; called on latent vectors
    ``z [B, d]`` it is the prior's energy :math:`U(z) = E_\theta(z) + \tfrac12\lVert z\rVert^2`
    (``[B]``), which the samplers run on.

    ``encoder(*states) -> [B, 2d]`` reads the model's states (``(x, mask)`` for graphs) and gives
    the posterior's mean and log-variance (``None`` for a model trained jointly, which samples its
    posterior instead); ``decoder(z) -> [B, F]`` gives the flat parameters
    of :math:`p_\beta(x \mid z)`, which the model reads; ``prior`` is the tilt
    :math:`E_\theta` (``None``: the base :math:`\mathcal N(0, I)` alone).

    >>> network = LatentNetwork(GraphReadout(4, 6, hidden=8, layers=1), mlp([3, 8, 10]), None)
    >>> network(torch.zeros(2, 3)).tolist(), network.posterior(torch.ones(2, 6), torch.ones(2, 6))[0].shape
    ([0.0, 0.0], torch.Size([2, 3]))
    """

    def __init__(self, encoder: nn.Module | None, decoder: nn.Module, prior: nn.Module | None) -> None:
        super().__init__()
        self.encoder, self.decoder, self.prior = encoder, decoder, prior

    def parameter_groups(self) -> list[list[nn.Parameter]]:
        """The autoencoder's parameters and the prior's, whose gradients are clipped separately."""
        autoencoder = [*(self.encoder.parameters() if self.encoder else ()), *self.decoder.parameters()]
        return [autoencoder] if self.prior is None else [autoencoder, list(self.prior.parameters())]

    def forward(self, z: Tensor) -> Tensor:
        """The prior's energy ``[B]`` of latent vectors ``z [B, d]``."""
        return 0.5 * (z**2).sum(-1) if self.prior is None else self.prior(z)

    def posterior(self, *states: Tensor) -> tuple[Tensor, Tensor]:
        r"""Mean and log-variance ``[B, d]`` of :math:`q_\phi(z \mid x)` for a batch of states."""
        if self.encoder is None:
            raise ValueError("a latent model trained jointly has no encoder; LatentEBM.posterior_samples samples z | x")
        mean, log_var = self.encoder(*states).chunk(2, dim=-1)
        return mean, log_var.clamp(-12.0, 8.0)  # keeps exp(log_var) finite in float32


class LatentEBM(EnergyModel):
    r"""What every latent model shares: the VAE loss, the latent prior and its training, and
    sampling by a chain on the prior followed by the decoder (see :mod:`edgraph.models.latent`).

    A subclass defines its states as for any :class:`~edgraph.models.base.EnergyModel`, plus
    ``_encoder`` (states to ``[B, 2d]``), :attr:`decoder_outputs` (``F``), and how the
    decoder's output ``[B, F]`` scores states (:meth:`reconstruction_nll`) and draws them
    (:meth:`generate`).
    """

    samplers = CONTINUOUS_SAMPLERS
    states = "latent vectors"
    #: What the decoder gives (for messages).
    decodes: ClassVar[str]
    config: LatentPriorConfig

    @abstractmethod
    def _encoder(self) -> nn.Module:
        """A fresh encoder, ``(*states) -> [B, 2d]``."""

    @property
    @abstractmethod
    def decoder_outputs(self) -> int:
        """``F``, the number of decoder outputs per latent vector."""

    @abstractmethod
    def reconstruction_nll(self, out: Tensor, *states: Tensor) -> Tensor:
        r""":math:`-\log p_\beta(x \mid z)` ``[B]`` of states under decoder outputs ``out [B, F]``."""

    @abstractmethod
    def generate(self, out: Tensor, generator: torch.Generator | None = None) -> States:
        r"""States drawn from :math:`p_\beta(x \mid z)` given decoder outputs ``out [B, F]``."""

    def _new_energy(self) -> LatentNetwork:
        c = self.config
        # built first, then the decoder and the prior: the order seeds initialise in
        encoder = self._encoder() if c.training == "vae" else None
        decoder = mlp([c.latent_dim, c.decoder_hidden, c.decoder_hidden, self.decoder_outputs])
        prior = None if c.prior == "gaussian" else TiltedGaussianEnergy(c.latent_dim, c.prior_hidden, c.prior_layers)
        return LatentNetwork(encoder, decoder, prior)

    def training_loss(self, config: TrainConfig) -> Loss:
        r"""The loss ``(network, *states) -> scalar``: the autoencoder's negative evidence lower
        bound plus the prior's loss on the detached codes (see :mod:`edgraph.models.latent`)."""
        if config.objective != "ed":
            raise ValueError(
                f"a {type(self).__name__} trains its prior by its own prior option ({self.config.prior!r}); "
                f"objective {config.objective!r} is for GraphEBM"
            )
        c = self.config
        if c.training == "joint":

            def joint(network: nn.Module, *states: Tensor) -> Tensor:
                assert isinstance(network, LatentNetwork)
                z = self.posterior_samples(network, *states)
                return self.reconstruction_nll(network.decoder(z), *states).mean() + self._prior_loss(network, z)

            return joint

        def loss(network: nn.Module, *states: Tensor) -> Tensor:
            assert isinstance(network, LatentNetwork)
            mean, log_var = network.posterior(*states)
            z = mean + torch.randn_like(mean) * (0.5 * log_var).exp()
            nll = self.reconstruction_nll(network.decoder(z), *states)
            kl = 0.5 * (mean**2 + log_var.exp() - 1 - log_var).sum(1)
            return (nll + c.kl_weight * kl).mean() + self._prior_loss(network, z.detach())

        return loss

    def posterior_samples(
        self, network: LatentNetwork, *states: Tensor, generator: torch.Generator | None = None
    ) -> Tensor:
        r"""Short-run samples ``z [B, d]`` of the model's posterior
        :math:`p(z \mid x) \propto p_\theta(z)\, p_\beta(x \mid z)` for a batch of states:
        ``posterior_steps`` Langevin steps of size ``posterior_step_size`` from
        :math:`\mathcal N(0, I)` on :math:`U(z \mid x) = E_\theta(z) + \tfrac12\lVert z\rVert^2 -
        \log p_\beta(x \mid z)` (detached: no gradient reaches the network)."""
        c = self.config

        def energy(z: Tensor) -> Tensor:
            return network(z) + self.reconstruction_nll(network.decoder(z), *states)

        start = torch.randn(len(states[0]), c.latent_dim, generator=generator, device=states[0].device)
        return Langevin(c.posterior_step_size).sample(energy, start, c.posterior_steps, generator=generator)

    def _prior_loss(self, network: LatentNetwork, codes: Tensor) -> Tensor:
        """The prior's loss on codes ``[B, d]`` taken as its data."""
        c = self.config
        if c.prior == "ed":
            return energy_discrepancy(network, codes, Gaussian(c.prior_noise), c.num_negatives, c.w)
        if c.prior == "mcmc":
            chains = Langevin(c.mcmc_step_size).sample(network, torch.randn_like(codes), c.mcmc_steps)
            return contrastive_divergence(network, codes, chains)
        return codes.new_zeros(())

    def noise_states(
        self, num: int, generator: torch.Generator, device: torch.device, label: int | None = None
    ) -> States:
        r"""Chain starts :math:`z_0 \sim \mathcal N(0, I)`: ``z [num, d]``.

        >>> LatentGraphEBM(4).noise_states(3, torch.Generator().manual_seed(0), torch.device("cpu"))[0].shape
        torch.Size([3, 16])
        """
        self.conditioned(self.energy, label, 0.0)
        return (torch.randn(num, self.config.latent_dim, generator=generator, device=device),)

    def data_states(
        self, num: int, generator: torch.Generator, device: torch.device, label: int | None = None
    ) -> States:
        r"""Chain starts at the posterior means :math:`\mu_\phi(x)` of training examples drawn
        uniformly with replacement (posterior samples for a model trained jointly): ``z [num, d]``."""
        self.conditioned(self.energy, label, 0.0)
        states = self._training_tensors()
        rows = torch.randint(len(states[0]), (num,), generator=generator, device=generator.device).cpu()
        network = self.sampling_energy
        home = next(network.parameters()).device
        drawn = [t[rows].to(home) for t in states]
        assert isinstance(network, LatentNetwork)
        if network.encoder is None:
            return (self.posterior_samples(network, *drawn, generator=generator).to(device),)
        with torch.no_grad():
            mean, _ = network.posterior(*drawn)
        return (mean.to(device),)

    def sample_tensors(
        self, num: int, *, terms: Sequence[EnergyTerm | Callable[..., Tensor]] = (), **options: Any
    ) -> States:
        """The dense tensors of ``num`` samples; arguments as in
        :meth:`~edgraph.models.base.EnergyModel.sample`, with ``sampler`` ``"mala"`` or
        ``"langevin"``. Energy terms act on the decoded states, which the latent chains never see,
        so they are refused."""
        if terms:
            raise ValueError(
                f"energy terms act on {self.decodes}; a {type(self).__name__} samples latent vectors and takes none"
            )
        return super().sample_tensors(num, **options)

    def _run_chains(
        self, energy: nn.Module, chain: Sampler, states: States, steps: int, generator: torch.Generator, progress: bool
    ) -> States:
        (z,) = states
        assert isinstance(energy, LatentNetwork)
        if energy.prior is not None and steps:  # the Gaussian prior's starts are exact samples already
            z = chain.sample(energy, z, steps, generator=generator, progress=progress)
        return self.generate(energy.decoder(z), generator)


class LatentGraphEBM(LatentEBM):
    r"""Graph autoencoder with an energy-based latent prior trained by Energy Discrepancy (see
    :mod:`edgraph.models.latent`).

    Args:
        max_nodes: ``N``, the largest graph the model handles; larger inputs are refused.
        latent_dim: ``d``, the size of the latent vectors.
        hidden: width of the GIN encoder's node embeddings.
        layers: message-passing layers of the encoder.
        features: structural node features of the encoder (:data:`~edgraph.energies.gnn.NODE_FEATURES`).
        decoder_hidden: width of the decoder's two hidden layers.
        kl_weight: :math:`\beta_{KL}`, the weight of the KL term (1: the evidence lower bound;
            below 1 the codes spread further and reconstruct better, and the prior must then
            model their distribution).
        prior: ``"ed"``, ``"mcmc"`` or ``"gaussian"`` (:data:`PRIORS`), how the prior is trained.
        prior_hidden: hidden width of the prior's tilt :math:`E_\theta`.
        prior_layers: hidden layers of the tilt.
        prior_noise: ``t``, the variance of the Gaussian ED perturbation in latent space.
        num_negatives: ``M``, negatives per code in the ED estimator.
        w: the ED stabiliser.
        mcmc_steps: Langevin steps of each short-run chain (``prior="mcmc"``); with
            ``mcmc_step_size`` the :math:`K = 60`, :math:`s = 0.4` (:math:`h = s^2/2`) of Pang et al.
        mcmc_step_size: their step size :math:`h` in :math:`z - h\nabla U(z) + \sqrt{2h}\,\xi`.
        sampler: ``"mala"`` or ``"langevin"``, run on the prior at sampling time.
        sampler_steps: default number of sampler steps.
        step_size: the sampler's step size.
        training: ``"vae"`` (an encoder, the evidence lower bound) or ``"joint"`` (no encoder:
            maximum likelihood with posterior Langevin samples, see :mod:`edgraph.models.latent`).
        posterior_steps: Langevin steps of each posterior chain (``training="joint"``).
        posterior_step_size: their step size :math:`h`.

    Example:
        >>> graphs = [nx.cycle_graph(4), nx.path_graph(5)] * 4
        >>> model = LatentGraphEBM(max_nodes=5, latent_dim=2, hidden=8, layers=1, decoder_hidden=16)
        >>> model = model.fit(graphs, max_steps=2, progress=False)
        >>> len(model.sample(3, steps=5, seed=0))
        3
    """

    format = "edgraph.LatentGraphEBM"
    fit_defaults = FIT_DEFAULTS
    decodes = "graphs"
    config: LatentConfig

    def __init__(
        self,
        max_nodes: int,
        *,
        latent_dim: int = 16,
        hidden: int = 64,
        layers: int = 4,
        features: Sequence[str] = ("degree", "triangles", "size"),
        decoder_hidden: int = 256,
        kl_weight: float = 1.0,
        prior: str = "ed",
        prior_hidden: int = 128,
        prior_layers: int = 3,
        prior_noise: float = 0.1,
        num_negatives: int = 32,
        w: float = 1.0,
        mcmc_steps: int = 60,
        mcmc_step_size: float = 0.08,
        sampler: str = "mala",
        sampler_steps: int = 1000,
        step_size: float = 0.05,
        training: str = "vae",
        posterior_steps: int = 20,
        posterior_step_size: float = 0.1,
    ) -> None:
        super().__init__(
            LatentConfig(
                max_nodes=max_nodes,
                latent_dim=latent_dim,
                hidden=hidden,
                layers=layers,
                features=features,
                decoder_hidden=decoder_hidden,
                kl_weight=kl_weight,
                prior=prior,
                prior_hidden=prior_hidden,
                prior_layers=prior_layers,
                prior_noise=prior_noise,
                num_negatives=num_negatives,
                w=w,
                mcmc_steps=mcmc_steps,
                mcmc_step_size=mcmc_step_size,
                sampler=sampler,
                sampler_steps=sampler_steps,
                step_size=step_size,
                training=training,
                posterior_steps=posterior_steps,
                posterior_step_size=posterior_step_size,
            )
        )
        self._decoder_temperature = 1.0

    @property
    def decoder_temperature(self) -> float:
        r""":math:`T`: samples draw each pair an edge with probability :math:`\sigma(\ell_{ij} / T)`
        (1: the decoder as trained). :meth:`fit` chooses it on held-out graphs; set it to change it.

        >>> model = LatentGraphEBM(4)
        >>> model.decoder_temperature = 0.7
        >>> model.decoder_temperature
        0.7
        """
        return self._decoder_temperature

    @decoder_temperature.setter
    def decoder_temperature(self, value: float) -> None:
        self._decoder_temperature = check_positive("decoder_temperature", value)

    def metadata(self) -> dict[str, Any]:
        """What :meth:`~edgraph.models.base.EnergyModel.metadata` holds, and the decoder temperature."""
        return {**super().metadata(), "decoder_temperature": self.decoder_temperature}

    def _read_metadata(self, meta: dict[str, Any]) -> None:
        super()._read_metadata(meta)
        self.decoder_temperature = float(meta.get("decoder_temperature", 1.0))

    def _encoder(self) -> GraphReadout:
        c = self.config
        return GraphReadout(c.max_nodes, 2 * c.latent_dim, c.hidden, c.layers, c.features)

    @property
    def decoder_outputs(self) -> int:
        """Node-count logits for ``n = 1..N``, then one edge logit per node pair: ``N + D``."""
        return self.config.max_nodes + num_pairs(self.config.max_nodes)

    def reconstruction_nll(self, out: Tensor, x: Tensor, mask: Tensor) -> Tensor:  # type: ignore[override]
        r""":math:`-\log p_\beta(n \mid z) - \sum_{i<j \le n} \log p_\beta(x_{ij} \mid z)` ``[B]``
        of edge vectors ``x [B, D]`` with pair mask ``mask [B, D]``."""
        count_logits, edge_logits = out.split([self.config.max_nodes, x.shape[1]], dim=-1)
        sizes = node_mask_from_pairs(mask, self.config.max_nodes).sum(1)
        edges_nll = (F.binary_cross_entropy_with_logits(edge_logits, x, reduction="none") * mask).sum(1)
        return F.cross_entropy(count_logits, sizes - 1, reduction="none") + edges_nll

    def generate(self, out: Tensor, generator: torch.Generator | None = None) -> States:
        r"""Graphs drawn from the decoder, :math:`n \sim p_\beta(n \mid z)` and then each pair of
        the :math:`n` nodes an edge with probability :math:`\sigma(\ell_{ij} / T)`, the decoder's
        logit over ``decoder_temperature``: ``adj [B, N, N]`` and ``node_mask [B, N]``."""
        n_max = self.config.max_nodes
        count_logits, edge_logits = out.split([n_max, num_pairs(n_max)], dim=-1)
        sizes = torch.multinomial(count_logits.softmax(-1), 1, generator=generator).squeeze(1) + 1
        node_mask = torch.arange(n_max, device=out.device) < sizes[:, None]
        edge_probs = torch.sigmoid(edge_logits / self.decoder_temperature)
        edges = torch.bernoulli(edge_probs, generator=generator) * pair_mask(node_mask)
        return edges_to_adj(edges, n_max), node_mask

    def encode(self, data: Iterable[GraphLike], labels: Sequence[int] | Tensor | None = None) -> dict[str, Tensor]:
        """The training record of graphs renumbered in BFS order
        (:func:`~edgraph.models.graph.graph_record` with ``bfs=True``): the hub of a star comes first.

        >>> LatentGraphEBM(4).encode([nx.star_graph(2)])["edges"].int().tolist()
        [[1, 1, 0, 0, 0, 0]]
        """
        if labels is not None:
            raise ValueError("LatentGraphEBM is not class-conditional: it takes no labels")
        return graph_record(list(data), self.config.max_nodes, bfs=True)

    def _training_tensors(self) -> States:
        record = self._require_data()
        node_mask = torch.arange(self.config.max_nodes) < record["num_nodes"][:, None]
        return record["edges"].float(), pair_mask(node_mask)

    def fit(
        self,
        graphs: Iterable[GraphLike],
        run_dir: str | Path | None = None,
        resume: bool = False,
        *,
        reference: Sequence[GraphLike] | None = None,
        run_info: dict[str, Any] | None = None,
        **train_options: Any,
    ) -> LatentGraphEBM:
        """Train the autoencoder and the prior on ``graphs``; run directory, resuming, budgets,
        validation and ``train_options`` as in :meth:`~edgraph.GraphEBM.fit`, except that the
        defaults are :data:`FIT_DEFAULTS` (``val_fraction=0`` trains on every graph and keeps the
        last weights). With held-out graphs it then chooses the decoder temperature on them
        (:meth:`choose_decoder_temperature`) before ``model.pt`` is written; without, the
        temperature is 1. In a distributed run rank 0 chooses it, and the other ranks keep 1. A
        fit that fails leaves the temperature as it was."""
        train_options = {**self.fit_defaults, **train_options}

        def choose(trained_on: list[GraphLike], held_out: list[GraphLike]) -> None:
            if held_out:
                self.choose_decoder_temperature(trained_on, held_out, train_options["val_graphs"])

        before, self.decoder_temperature = self.decoder_temperature, 1.0  # the checks score the decoder as trained
        try:
            fit_graphs(self, list(graphs), None, run_dir, resume, reference, run_info, train_options, choose)
        except BaseException:
            self.decoder_temperature = before
            raise
        return self

    def choose_decoder_temperature(
        self, train: Sequence[GraphLike], held_out: Sequence[GraphLike], num: int = FIT_DEFAULTS["val_graphs"]
    ) -> float:
        r"""Set :attr:`decoder_temperature` to the :math:`T` in :data:`DECODER_TEMPERATURES` whose
        ``num`` samples score best against ``held_out`` graphs, and return it.

        Each :math:`T` is ranked as a validation check is
        (:func:`~edgraph.models.graph.validation_score`: novelty shortfall first, then the sum of
        degree, clustering and orbit MMD), with the novelty required of it raised to that of the
        samples at :math:`T = 1` less :data:`TEMPERATURE_NOVELTY_DROP`. ``train`` is what the
        model was trained on.

        >>> graphs = [nx.cycle_graph(4), nx.path_graph(5), nx.star_graph(3)] * 4
        >>> model = LatentGraphEBM(max_nodes=5, latent_dim=2, hidden=8, layers=1, decoder_hidden=16)
        >>> model = model.fit(graphs, max_steps=2, val_fraction=0, progress=False)
        >>> model.choose_decoder_temperature(graphs[:6], graphs[6:], num=16) in DECODER_TEMPERATURES
        True
        """
        if not held_out:
            raise ValueError("choose_decoder_temperature needs at least one held_out graph")
        if num < 1:
            raise ValueError(f"num must be a positive number of samples, got {num}")
        checks, before = {}, self.decoder_temperature
        try:
            for temperature in DECODER_TEMPERATURES:
                self.decoder_temperature = temperature
                checks[temperature] = validation_metrics(self, num, held_out, VALIDATION_STATS, train)
        finally:
            self.decoder_temperature = before
        required = max(novelty_required(held_out, train), checks[1.0]["novelty"] - TEMPERATURE_NOVELTY_DROP)
        self.decoder_temperature = min(checks, key=lambda t: validation_score(checks[t], VALIDATION_STATS, required))
        return self.decoder_temperature

    def decode(self, tensors: States) -> list[nx.Graph]:
        """Networkx graphs on nodes ``0..n-1`` from ``(adj [B, N, N], node_mask [B, N])``, as
        :meth:`edgraph.GraphEBM.decode`."""
        adj, node_mask = tensors
        return dense_to_graphs(adj, node_mask)
