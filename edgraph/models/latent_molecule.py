r"""``LatentMoleculeEBM``: a molecule autoencoder with an energy-based prior over its latent space.

The latent model of :mod:`edgraph.models.latent` for typed graphs (:mod:`edgraph.chem`): the
encoder is a relational GIN over atom and bond types
(:class:`~edgraph.energies.molecule.MoleculeReadout`), and the decoder gives, for a latent
vector :math:`z`, the number of atoms :math:`p_\beta(n \mid z)` (a softmax over ``1..N``),
independent atom types :math:`p_\beta(a_i \mid z)` (a softmax over the ``Ka`` types per atom) and
independent bond types :math:`p_\beta(b_{ij} \mid z)` (a softmax over none, single, double,
triple per atom pair). The prior, its training (Gaussian ED by default) and sampling (MALA on the
prior, then one draw from the decoder) are those of every latent model.

**Atom order.** Training molecules are renumbered by
:func:`~edgraph.chem.in_canonical_order`, the order in which RDKit's canonical SMILES writes
their atoms, so that one molecule always gives the decoder the same target (a fixed rule, as
the breadth-first order is for graphs).

Samples decode to canonical SMILES, ``None`` where RDKit does not sanitize the graph;
``correct=True`` applies the valence correction first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor
from torch.nn import functional as F

from edgraph.chem import NUM_BOND_TYPES, QM9_ATOMS, QM9_MAX_ATOMS, MolLike, dense_to_smiles
from edgraph.energies.molecule import MOLECULE_FEATURES, MoleculeReadout
from edgraph.graphs import num_pairs, pair_mask
from edgraph.models.base import States
from edgraph.models.latent import LatentEBM, LatentPriorConfig
from edgraph.models.molecule import check_molecule_record, dense_molecules, molecule_record, one_hot_molecules

#: Training steps of :meth:`LatentMoleculeEBM.fit` unless ``max_steps`` is given.
DEFAULT_STEPS = 5000


@dataclass(kw_only=True)
class LatentMoleculeConfig(LatentPriorConfig):
    """The arguments of :class:`LatentMoleculeEBM`, checked."""

    max_atoms: int = QM9_MAX_ATOMS
    atom_types: Sequence[str] = QM9_ATOMS
    hidden: int = 64
    layers: int = 3

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.max_atoms < 2:
            raise ValueError(f"max_atoms must be at least 2, got {self.max_atoms}")
        if len(self.atom_types) < 2 or len(set(self.atom_types)) != len(self.atom_types):
            raise ValueError(f"atom_types must hold at least two distinct types, got {self.atom_types}")


class LatentMoleculeEBM(LatentEBM):
    r"""Molecule autoencoder with an energy-based latent prior trained by Energy Discrepancy
    (see :mod:`edgraph.models.latent_molecule`).

    Args:
        max_atoms: ``N``, the largest molecule (heavy atoms) the model handles.
        atom_types: atom vocabulary (:mod:`edgraph.chem`), default QM9's C, N, O, F.
        hidden: width of the encoder's atom embeddings.
        layers: message-passing layers of the encoder.
        latent_dim: ``d``; this and the arguments that follow are those of
            :class:`~edgraph.models.latent.LatentGraphEBM`.

    Example:
        >>> model = LatentMoleculeEBM(max_atoms=4, latent_dim=2, hidden=8, layers=1, decoder_hidden=16)
        >>> model = model.fit(["CCO", "CC=O", "CN", "OCCO"], max_steps=2, progress=False)
        >>> [s is None or isinstance(s, str) for s in model.sample(3, steps=5, seed=0)]
        [True, True, True]
    """

    format = "edgraph.LatentMoleculeEBM"
    decodes = "molecules"
    config: LatentMoleculeConfig

    def __init__(
        self,
        max_atoms: int = QM9_MAX_ATOMS,
        *,
        atom_types: Sequence[str] = QM9_ATOMS,
        hidden: int = 64,
        layers: int = 3,
        latent_dim: int = 16,
        decoder_hidden: int = 256,
        kl_weight: float = 0.3,
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
            LatentMoleculeConfig(
                max_atoms=max_atoms,
                atom_types=atom_types,
                hidden=hidden,
                layers=layers,
                latent_dim=latent_dim,
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

    def _encoder(self) -> MoleculeReadout:
        c = self.config
        return MoleculeReadout(
            c.max_atoms, 2 * c.latent_dim, len(c.atom_types), NUM_BOND_TYPES, c.hidden, c.layers, MOLECULE_FEATURES
        )

    @property
    def _split(self) -> list[int]:
        """Decoder outputs per part: atom-count logits, atom-type logits, bond-type logits."""
        c = self.config
        return [c.max_atoms, c.max_atoms * len(c.atom_types), num_pairs(c.max_atoms) * NUM_BOND_TYPES]

    @property
    def decoder_outputs(self) -> int:
        """Atom-count logits for ``n = 1..N``, ``Ka`` logits per atom and ``Kb`` per atom pair."""
        return sum(self._split)

    def _logits(self, out: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Count logits ``[B, N]``, atom logits ``[B, N, Ka]`` and bond logits ``[B, D, Kb]``."""
        counts, atoms, bonds = out.split(self._split, dim=-1)
        return counts, atoms.unflatten(-1, (self.config.max_atoms, -1)), bonds.unflatten(-1, (-1, NUM_BOND_TYPES))

    def reconstruction_nll(  # type: ignore[override]
        self, out: Tensor, atoms: Tensor, bonds: Tensor, node_mask: Tensor
    ) -> Tensor:
        r""":math:`-\log p_\beta(n \mid z) - \sum_{i \le n} \log p_\beta(a_i \mid z) -
        \sum_{i<j \le n} \log p_\beta(b_{ij} \mid z)` ``[B]`` of one-hot ``atoms [B, N, Ka]`` and
        ``bonds [B, D, Kb]`` with ``node_mask [B, N]``."""
        count_logits, atom_logits, bond_logits = self._logits(out)
        node_mask = node_mask.bool()
        atoms_nll = -(atom_logits.log_softmax(-1) * atoms).sum(-1) * node_mask
        bonds_nll = -(bond_logits.log_softmax(-1) * bonds).sum(-1) * pair_mask(node_mask)
        sizes = node_mask.sum(1)
        return F.cross_entropy(count_logits, sizes - 1, reduction="none") + atoms_nll.sum(1) + bonds_nll.sum(1)

    def generate(self, out: Tensor, generator: torch.Generator | None = None) -> States:
        r"""Molecules drawn from the decoder: :math:`n \sim p_\beta(n \mid z)`, then every atom
        type and every bond type of the :math:`n` atoms from its softmax: ``(atoms [B, N, Ka],
        bonds [B, D, Kb], node_mask [B, N])``."""

        def draw(logits: Tensor) -> Tensor:
            flat = logits.reshape(-1, logits.shape[-1]).softmax(-1)
            return torch.multinomial(flat, 1, generator=generator).view(logits.shape[:-1])

        count_logits, atom_logits, bond_logits = self._logits(out)
        sizes = draw(count_logits) + 1
        node_mask = torch.arange(self.config.max_atoms, device=out.device) < sizes[:, None]
        record = {
            "atom_types": torch.where(node_mask, draw(atom_logits), 0),
            "bond_types": torch.where(pair_mask(node_mask), draw(bond_logits), 0),
            "num_atoms": sizes,
        }
        return one_hot_molecules(record, len(self.config.atom_types))

    def encode(self, data: Sequence[MolLike], labels: None = None) -> dict[str, Tensor]:
        """The training record (:func:`~edgraph.models.molecule.molecule_record`) of SMILES or
        RDKit molecules, each renumbered by :func:`~edgraph.chem.in_canonical_order`."""
        if labels is not None:
            raise ValueError("LatentMoleculeEBM is not class-conditional: it takes no labels")
        if isinstance(data, tuple) and data and all(torch.is_tensor(t) for t in data):
            raise ValueError(
                "a LatentMoleculeEBM numbers atoms in canonical order, so it takes SMILES or RDKit molecules, "
                "not dense tensors"
            )
        c = self.config
        return molecule_record(dense_molecules(data, c.atom_types, c.max_atoms, canonical=True))

    def _set_training_data(self, record: dict[str, Tensor]) -> None:
        check_molecule_record(record, self.config.max_atoms, len(self.config.atom_types))
        super()._set_training_data(record)

    def _training_tensors(self) -> States:
        return one_hot_molecules(self._require_data(), len(self.config.atom_types))

    def fit(
        self,
        molecules: Sequence[MolLike],
        run_dir: str | Path | None = None,
        resume: bool = False,
        *,
        run_info: dict[str, Any] | None = None,
        **train_options: Any,
    ) -> LatentMoleculeEBM:
        """Train the autoencoder and the prior on ``molecules`` (SMILES or RDKit molecules);
        ``run_dir``, ``resume``, ``run_info`` and ``train_options`` as in
        :meth:`edgraph.MoleculeEBM.fit`, except that ``max_steps`` defaults to :data:`DEFAULT_STEPS`."""
        if train_options.get("val_fraction", 0.0):
            raise ValueError(
                "validation graphs are held out for graph models; a molecule model trains on all molecules"
            )
        train_options = {"max_steps": DEFAULT_STEPS, **train_options}
        self._fit(self.encode(molecules), run_dir, resume, train_options, run_info)
        return self

    def decode(self, tensors: States, correct: bool = False) -> list[str | None]:
        """Canonical SMILES of ``(atoms, bonds, node_mask)``, ``None`` where a graph does not
        sanitize; ``correct=True`` applies the valence correction (and keeps the largest fragment)."""
        atoms, bonds, node_mask = tensors
        return dense_to_smiles(atoms, bonds, node_mask, atom_types=self.config.atom_types, correct=correct)

    def sample(  # type: ignore[override]
        self,
        num: int,
        *,
        seed: int | None = None,
        sampler: str | None = None,
        steps: int | None = None,
        step_size: float | None = None,
        init: str = "noise",
        device: str | torch.device | None = None,
        progress: bool = False,
        correct: bool = False,
    ) -> list[str | None]:
        """Generate ``num`` molecules as canonical SMILES (``None`` where a generated graph does
        not sanitize); ``correct=True`` applies the valence correction first. The other arguments
        are those of :meth:`edgraph.models.base.EnergyModel.sample`, with ``sampler`` ``"mala"``
        or ``"langevin"``."""
        tensors = self.sample_tensors(
            num,
            seed=seed,
            sampler=sampler,
            steps=steps,
            step_size=step_size,
            init=init,
            device=device,
            progress=progress,
        )
        return self.decode(tensors, correct=correct)
