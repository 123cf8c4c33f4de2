r"""``MoleculeEBM``: an energy-based model of molecules — fit on SMILES, sample SMILES, save, load.

A molecule on :math:`n \le N` heavy atoms is a typed graph (:mod:`edgraph.chem`): one-hot
atom types ``atoms [B, N, Ka]``, one-hot bond types over atom pairs ``bonds [B, D, Kb]`` and a
``node_mask [B, N]``. The energy :math:`E_\theta(\text{atoms}, \text{bonds}, m)` is a
:class:`~edgraph.energies.MoleculeEnergy`.

**Training** is Energy Discrepancy on the two-part state with the product perturbation

.. math::
    q(y \mid x) = \prod_{i \le n} q_{\varepsilon_a}(y^a_i \mid x^a_i)
                  \prod_{i<j \le n} q_{\varepsilon_b}(y^b_{ij} \mid x^b_{ij}),

where :math:`q_\varepsilon` resamples a site uniformly over its categories with probability
:math:`\varepsilon` (:class:`~edgraph.perturbations.UniformCategorical`; Schröder, Ou, Li,
Duncan, NeurIPS 2024): atom types with ``eps_atoms``, bond types with ``eps_bonds``, padding
atoms and their pairs never. A product of symmetric kernels is symmetric, so the estimator of
:func:`~edgraph.objectives.energy_discrepancy` applies unchanged (it takes the two parts as a
tuple). The loop, checkpoints and resume are those of every model (:mod:`edgraph.models.base`).

**Sampling** draws :math:`n \sim p(n)` from the training sizes, starts atom types from their
training frequencies and bond types from the training frequencies of molecules of size
:math:`n`, and runs one of the discrete samplers (Gibbs, GWG, DULA, DMALA) on a single *joint*
one-hot state: the :math:`N` atom sites and the :math:`D` bond sites side by side,
``z [B, N + D, K]`` with :math:`K = \max(K_a, K_b)` (:func:`join_sites`). A site type with fewer
than ``K`` categories has its extra categories forbidden by an energy penalty
(:class:`JointEnergy`), so they have probability zero in floating point for every sampler:
Gibbs conditionals, gradient proposals and Metropolis tests all see :math:`+10^6`. Padding
atoms and their pairs are frozen by the sampler mask. For QM9 (``Ka = Kb = 4``) nothing is
forbidden. The final states decode to canonical SMILES, ``None`` where RDKit does not sanitize
the graph; ``correct=True`` applies the valence correction first (:mod:`edgraph.chem`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import torch
from torch import Tensor, nn

from edgraph.chem import (
    NUM_BOND_TYPES,
    QM9_ATOMS,
    QM9_MAX_ATOMS,
    MolLike,
    dense_to_smiles,
    in_canonical_order,
    mols_to_dense,
)
from edgraph.energies.molecule import MoleculeEnergy
from edgraph.energies.terms import EnergyTerm
from edgraph.graphs import num_pairs, pair_mask
from edgraph.models.base import EnergyModel, States, check_options, draw
from edgraph.objectives import energy_discrepancy
from edgraph.perturbations import UniformCategorical
from edgraph.samplers import Sampler

if TYPE_CHECKING:
    from edgraph.training import Loss, TrainConfig

#: Energy added per site that holds a category its site type does not have.
FORBIDDEN_ENERGY = 1e6

DenseMolecules = tuple[Tensor, Tensor, Tensor]  # (atoms [B, N, Ka], bonds [B, D, Kb], node_mask [B, N])


@dataclass
class MoleculeConfig:
    """The arguments of :class:`MoleculeEBM`, checked."""

    max_atoms: int
    atom_types: Sequence[str]
    hidden: int
    layers: int
    eps_atoms: float
    eps_bonds: float
    num_negatives: int
    w: float
    sampler: str
    sampler_steps: int
    step_size: float

    def __post_init__(self) -> None:
        check_options(self)
        if self.max_atoms < 2:
            raise ValueError(f"max_atoms must be at least 2, got {self.max_atoms}")
        if len(self.atom_types) < 2 or len(set(self.atom_types)) != len(self.atom_types):
            raise ValueError(f"atom_types must hold at least two distinct types, got {self.atom_types}")
        UniformCategorical(self.eps_atoms, len(self.atom_types))  # validates eps
        UniformCategorical(self.eps_bonds, NUM_BOND_TYPES)


def dense_molecules(
    molecules: Sequence[MolLike], atom_types: Sequence[str], max_atoms: int, canonical: bool = False
) -> DenseMolecules:
    """:func:`~edgraph.chem.mols_to_dense` of a list of molecules, refusing a single string;
    ``canonical=True`` first renumbers each molecule by :func:`~edgraph.chem.in_canonical_order`."""
    if isinstance(molecules, str):
        raise ValueError(f"expected a list of molecules, got the single string {molecules[:40]!r}")
    if canonical:
        molecules = [in_canonical_order(molecule, i) for i, molecule in enumerate(molecules)]
    return mols_to_dense(list(molecules), atom_types, max_atoms)


def molecule_record(molecules: DenseMolecules) -> dict[str, Tensor]:
    """The compact training record of dense molecules ``(atoms [B, N, Ka], bonds [B, D, Kb],
    node_mask [B, N])``: ``atom_types`` ``[B, N]`` and ``bond_types`` ``[B, D]`` (category
    indices, 0 at padding, int8) and ``num_atoms`` ``[B]``.

    >>> from edgraph.chem import mols_to_dense
    >>> record = molecule_record(mols_to_dense(["C=O"], max_atoms=3))
    >>> record["atom_types"].tolist(), record["bond_types"].tolist(), record["num_atoms"].tolist()
    ([[0, 2, 0]], [[2, 0, 0]], [2])
    """
    atoms, bonds, node_mask = molecules
    if len(atoms) == 0:
        raise ValueError("cannot fit a molecule model on zero molecules")
    node_mask = node_mask.bool()
    return {
        "atom_types": torch.where(node_mask, atoms.argmax(-1), 0).to(torch.int8),
        "bond_types": torch.where(pair_mask(node_mask), bonds.argmax(-1), 0).to(torch.int8),
        "num_atoms": node_mask.sum(1),
    }


def check_molecule_record(record: dict[str, Tensor], max_atoms: int, num_atom_types: int) -> None:
    """Raise ``ValueError`` unless ``record`` is a :func:`molecule_record` of molecules of up
    to ``max_atoms`` atoms with types below ``num_atom_types`` (a damaged checkpoint, say)."""
    atom_types, bond_types, sizes = record["atom_types"], record["bond_types"], record["num_atoms"]
    shapes = (tuple(atom_types.shape[1:]), tuple(bond_types.shape[1:]), tuple(sizes.shape))
    if shapes != ((max_atoms,), (num_pairs(max_atoms),), (len(atom_types),)) or len(bond_types) != len(sizes):
        raise ValueError(
            f"training molecules must be [B, {max_atoms}] atom and [B, {num_pairs(max_atoms)}] "
            f"bond types with [B] sizes, got {shapes}"
        )
    in_range = (
        ((atom_types >= 0) & (atom_types < num_atom_types)).all()
        and ((bond_types >= 0) & (bond_types < NUM_BOND_TYPES)).all()
        and ((sizes >= 1) & (sizes <= max_atoms)).all()
    )
    if not in_range:
        raise ValueError("training molecules hold type indices or sizes out of range")


def one_hot_molecules(record: dict[str, Tensor], num_atom_types: int) -> DenseMolecules:
    """``(atoms, bonds, node_mask)`` of a :func:`molecule_record` (or of drawn type indices and
    sizes under the same keys); padding atoms are all-zero rows.

    >>> from edgraph.chem import mols_to_dense
    >>> dense = mols_to_dense(["C=O", "N"], max_atoms=3)
    >>> all(torch.equal(a, b.float()) for a, b in zip(one_hot_molecules(molecule_record(dense), 4)[:2], dense))
    True
    """
    sizes = record["num_atoms"]
    node_mask = torch.arange(record["atom_types"].shape[1], device=sizes.device) < sizes[:, None]
    atoms = nn.functional.one_hot(record["atom_types"].long(), num_atom_types).float() * node_mask[..., None]
    return atoms, nn.functional.one_hot(record["bond_types"].long(), NUM_BOND_TYPES).float(), node_mask


def join_sites(atoms: Tensor, bonds: Tensor, node_mask: Tensor) -> tuple[Tensor, Tensor]:
    """One joint one-hot state ``z [B, N + D, K]`` (``K = max(Ka, Kb)``) and its site mask
    ``[B, N + D]`` (real atoms and their pairs) from a typed graph.

    Padding atoms get category 0 (any one-hot row; they are frozen and the energy ignores them).

    >>> from edgraph.chem import mols_to_dense
    >>> z, mask = join_sites(*mols_to_dense(["C=O"], max_atoms=3))
    >>> z.argmax(-1).tolist(), mask.tolist()
    ([[0, 2, 0, 2, 0, 0]], [[True, True, False, True, False, False]])
    """
    node_mask = node_mask.bool()
    categories = max(atoms.shape[-1], bonds.shape[-1])
    padding_atom = torch.nn.functional.one_hot(torch.zeros_like(node_mask, dtype=torch.long), atoms.shape[-1])
    atoms = torch.where(node_mask[..., None], atoms, padding_atom.to(atoms.dtype))
    z = torch.cat(
        [
            nn.functional.pad(atoms, (0, categories - atoms.shape[-1])),
            nn.functional.pad(bonds, (0, categories - bonds.shape[-1])),
        ],
        dim=1,
    )
    return z, torch.cat([node_mask, pair_mask(node_mask).bool()], dim=1)


def split_sites(z: Tensor, mask: Tensor, num_atom_types: int, num_bond_types: int = NUM_BOND_TYPES) -> DenseMolecules:
    """Inverse of :func:`join_sites`: ``(atoms, bonds, node_mask)``, padding atom rows zeroed.

    >>> from edgraph.chem import mols_to_dense
    >>> atoms, bonds, node_mask = mols_to_dense(["CC", "N"], max_atoms=3)
    >>> back = split_sites(*join_sites(atoms, bonds, node_mask), num_atom_types=4)
    >>> all(torch.equal(a, b) for a, b in zip(back, (atoms, bonds, node_mask)))
    True
    """
    max_atoms = _atoms_of_sites(z.shape[1])
    node_mask = mask[:, :max_atoms].bool()
    atoms = z[:, :max_atoms, :num_atom_types] * node_mask[..., None].to(z.dtype)
    return atoms, z[:, max_atoms:, :num_bond_types], node_mask


def _atoms_of_sites(sites: int) -> int:
    """``N`` with ``N + N(N-1)/2 = sites``."""
    n = int(round(((8 * sites + 1) ** 0.5 - 1) / 2))
    if n + num_pairs(n) != sites:
        raise ValueError(f"{sites} sites are not N atoms + N(N-1)/2 pairs for any N")
    return n


class JointEnergy(nn.Module):
    r"""A molecule energy as an energy of joint states ``z [B, N + D, K]`` for the samplers.

    .. math::
        E_\mathrm{joint}(z, m) = E(z^a_{:, :K_a}, z^b_{:, :K_b}, m_{:N})
        + 10^6 \Big(\sum_{i, k \ge K_a} z^a_{ik} + \sum_{ij, k \ge K_b} z^b_{ij,k}\Big)

    The penalty forbids the categories a site type does not have; it is linear, so gradient
    samplers see it too and never propose those categories.

    >>> energy = JointEnergy(lambda atoms, bonds, node_mask: atoms[..., 0].sum(-1), num_atom_types=2)
    >>> z = torch.eye(4)[torch.tensor([[0, 3, 1]])]      # N = 2 atoms and one pair; atom 1 is type 3
    >>> energy(z, torch.ones(1, 3)).item()
    1000001.0
    """

    def __init__(self, energy: nn.Module, num_atom_types: int, num_bond_types: int = NUM_BOND_TYPES) -> None:
        super().__init__()
        self.energy, self.num_atom_types, self.num_bond_types = energy, num_atom_types, num_bond_types

    def forward(self, z: Tensor, mask: Tensor) -> Tensor:
        atoms, bonds, node_mask = split_sites(z, mask, self.num_atom_types, self.num_bond_types)
        max_atoms = node_mask.shape[1]
        forbidden = z[:, :max_atoms, self.num_atom_types :].sum((1, 2)) + z[:, max_atoms:, self.num_bond_types :].sum(
            (1, 2)
        )
        return self.energy(atoms, bonds, node_mask) + FORBIDDEN_ENERGY * forbidden


class MoleculeEBM(EnergyModel):
    r"""Energy-based model of molecules (typed graphs) trained with Energy Discrepancy.

    Args:
        max_atoms: ``N``, the largest molecule (heavy atoms) the model handles.
        atom_types: atom vocabulary (:mod:`edgraph.chem`), default QM9's C, N, O, F.
        hidden: width of the energy's node embeddings.
        layers: number of message-passing layers.
        eps_atoms: probability of resampling each atom type in the ED perturbation.
        eps_bonds: probability of resampling each bond type (of real atom pairs).
        num_negatives: ``M``, negatives per training molecule in the ED estimator.
        w: the ED stabiliser (the ``w/M`` inside the logarithm).
        sampler: default sampler, one of ``"gibbs"``, ``"gwg"``, ``"dula"``, ``"dmala"``.
        sampler_steps: default number of sampler steps (one site per step for Gibbs and GWG).
        step_size: step size of DULA and DMALA.

    Example:
        >>> model = MoleculeEBM(max_atoms=4, hidden=8, layers=1, num_negatives=2)
        >>> model = model.fit(["CCO", "CC=O", "CN", "OCCO"], max_steps=2, progress=False)
        >>> [s is None or isinstance(s, str) for s in model.sample(3, steps=5, seed=0)]
        [True, True, True]
    """

    format = "edgraph.MoleculeEBM"
    states = "one-hot atoms and bonds"
    config: MoleculeConfig

    def __init__(
        self,
        max_atoms: int = QM9_MAX_ATOMS,
        *,
        atom_types: Sequence[str] = QM9_ATOMS,
        hidden: int = 32,
        layers: int = 3,
        eps_atoms: float = 0.1,
        eps_bonds: float = 0.05,
        num_negatives: int = 16,
        w: float = 1.0,
        sampler: str = "gibbs",
        sampler_steps: int = 1000,
        step_size: float = 0.25,
    ) -> None:
        super().__init__(
            MoleculeConfig(
                max_atoms,
                atom_types,
                hidden,
                layers,
                eps_atoms,
                eps_bonds,
                num_negatives,
                w,
                sampler,
                sampler_steps,
                step_size,
            )
        )
        self.node_counts: Tensor | None = None
        self.atom_frequency: Tensor | None = None
        self.bond_frequency: Tensor | None = None

    def _new_energy(self) -> MoleculeEnergy:
        c = self.config
        return MoleculeEnergy(c.max_atoms, len(c.atom_types), NUM_BOND_TYPES, hidden=c.hidden, layers=c.layers)

    def encode(self, data: Sequence[MolLike] | DenseMolecules, labels: None = None) -> dict[str, Tensor]:
        """The training record of molecules (:func:`~edgraph.models.molecule.molecule_record`). ``data`` holds SMILES or
        RDKit molecules, or is an ``(atoms, bonds, node_mask)`` tuple as
        :func:`~edgraph.datasets.load_molecule_tensors` returns."""
        if labels is not None:
            raise ValueError("MoleculeEBM is not class-conditional: it takes no labels")
        c = self.config
        if isinstance(data, tuple) and len(data) == 3 and all(torch.is_tensor(t) for t in data):
            atoms, bonds, node_mask = cast(DenseMolecules, data)
            expected = ((c.max_atoms, len(c.atom_types)), (num_pairs(c.max_atoms), NUM_BOND_TYPES), (c.max_atoms,))
            if any(tuple(t.shape[1:]) != shape for t, shape in zip((atoms, bonds, node_mask), expected)):
                raise ValueError(
                    f"dense molecules must be atoms [B, {c.max_atoms}, {len(c.atom_types)}], bonds "
                    f"[B, {num_pairs(c.max_atoms)}, {NUM_BOND_TYPES}], node_mask [B, {c.max_atoms}]; "
                    f"got {[tuple(t.shape) for t in (atoms, bonds, node_mask)]}"
                )
            return molecule_record((atoms, bonds, node_mask))
        return molecule_record(dense_molecules(cast(Sequence[MolLike], data), c.atom_types, c.max_atoms))

    def _set_training_data(self, record: dict[str, Tensor]) -> None:
        c = self.config
        check_molecule_record(record, c.max_atoms, len(c.atom_types))
        super()._set_training_data(record)
        atoms, bonds, node_mask = self._training_tensors()
        sizes = record["num_atoms"]
        self.node_counts = torch.bincount(sizes, minlength=c.max_atoms + 1).double() / len(sizes)
        self.atom_frequency = atoms.double().sum((0, 1)) / node_mask.sum()
        real_pairs = (bonds.double() * pair_mask(node_mask)[..., None]).sum(1)  # [B, Kb]
        counts = torch.zeros(c.max_atoms + 1, NUM_BOND_TYPES, dtype=torch.float64).index_add_(0, sizes, real_pairs)
        no_pairs = counts.sum(1, keepdim=True) == 0  # sizes 0 and 1, and sizes not seen: no bonds
        self.bond_frequency = torch.where(
            no_pairs,
            torch.eye(NUM_BOND_TYPES, dtype=torch.float64)[0],
            counts / counts.sum(1, keepdim=True).clamp(min=1),
        )

    def _training_tensors(self) -> States:
        return one_hot_molecules(self._require_data(), len(self.config.atom_types))

    def fit(
        self,
        molecules: Sequence[MolLike] | DenseMolecules,
        run_dir: str | Path | None = None,
        resume: bool = False,
        *,
        run_info: dict[str, Any] | None = None,
        **train_options: Any,
    ) -> MoleculeEBM:
        """Train the energy with ED on ``molecules`` (see :meth:`encode`); options are fields of
        :class:`~edgraph.training.TrainConfig` (``objective`` must be ``"ed"``), and ``run_dir``
        ``resume`` and ``run_info`` work as for :meth:`edgraph.GraphEBM.fit`."""
        if train_options.get("val_fraction", 0.0):
            raise ValueError("validation graphs are held out for graph models; MoleculeEBM trains on all molecules")
        if train_options.get("objective", "ed") != "ed":
            raise ValueError(
                f"MoleculeEBM trains with ED only; objective {train_options['objective']!r} is not supported"
            )
        self._fit(self.encode(molecules), run_dir, resume, train_options, run_info)
        return self

    def training_loss(self, config: TrainConfig) -> Loss:
        """The loss ``(energy, atoms, bonds, node_mask) -> scalar``: ED with the product of
        uniform resampling of atom types (``eps_atoms``) and bond types (``eps_bonds``)."""
        c = self.config
        perturbations = (
            UniformCategorical(c.eps_atoms, len(c.atom_types)),
            UniformCategorical(c.eps_bonds, NUM_BOND_TYPES),
        )

        def loss(energy: nn.Module, atoms: Tensor, bonds: Tensor, node_mask: Tensor) -> Tensor:
            return energy_discrepancy(
                lambda a, b, atom_mask, _pairs: energy(a, b, atom_mask),
                (atoms, bonds),
                perturbations,
                c.num_negatives,
                c.w,
                (node_mask, pair_mask(node_mask)),
            )

        return loss

    def noise_states(
        self, num: int, generator: torch.Generator, device: torch.device, label: int | None = None
    ) -> States:
        r"""Chain starts: :math:`n \sim p(n)`, atom types from their training frequencies, bond
        types from the training frequencies of molecules with :math:`n` atoms (molecule models
        have no classes: ``label`` must be ``None``)."""
        self.conditioned(self.energy, label, 0.0)
        self._require_data()
        assert self.node_counts is not None and self.atom_frequency is not None and self.bond_frequency is not None
        c = self.config
        n = draw(self.node_counts.float().to(device), num, generator)
        node_mask = torch.arange(c.max_atoms, device=device) < n[:, None]
        atom_types = draw(self.atom_frequency.float().to(device), num * c.max_atoms, generator).view(num, c.max_atoms)
        bond_probs = self.bond_frequency.float().to(device)[n]  # [num, Kb]
        bond_types = draw(bond_probs, num_pairs(c.max_atoms), generator)
        bond_types = torch.where(pair_mask(node_mask), bond_types, 0)
        return one_hot_molecules(
            {"atom_types": atom_types, "bond_types": bond_types, "num_atoms": n}, len(c.atom_types)
        )

    def data_states(
        self, num: int, generator: torch.Generator, device: torch.device, label: int | None = None
    ) -> States:
        """Chain starts at training molecules drawn uniformly with replacement (``label``: ``None``)."""
        self.conditioned(self.energy, label, 0.0)
        record = self._require_data()
        rows = torch.randint(len(record["num_atoms"]), (num,), generator=generator, device=generator.device).cpu()
        drawn = {key: values[rows] for key, values in record.items()}
        return tuple(t.to(device) for t in one_hot_molecules(drawn, len(self.config.atom_types)))

    def _run_chains(
        self, energy: nn.Module, chain: Sampler, states: States, steps: int, generator: torch.Generator, progress: bool
    ) -> States:
        z, mask = join_sites(*states)
        z = chain.sample(
            JointEnergy(energy, len(self.config.atom_types)), z, steps, mask, generator=generator, progress=progress
        )
        return split_sites(z, mask, len(self.config.atom_types))

    def decode(self, tensors: States, correct: bool = False) -> list[str | None]:
        """Canonical SMILES of ``(atoms, bonds, node_mask)``, ``None`` where a graph does not
        sanitize; ``correct=True`` applies the valence correction (and keeps the largest fragment)."""
        atoms, bonds, node_mask = tensors
        return dense_to_smiles(atoms, bonds, node_mask, atom_types=self.config.atom_types, correct=correct)

    def sample(
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
        terms: Sequence[EnergyTerm | Callable[..., Tensor]] = (),
        label: int | None = None,
        guidance: float = 0.0,
        correct: bool = False,
    ) -> list[str | None]:
        """Generate ``num`` molecules as canonical SMILES (``None`` where a generated graph does
        not sanitize); ``correct=True`` applies the valence correction first. The other arguments
        are those of :meth:`edgraph.models.base.EnergyModel.sample`; ``terms`` read this model's
        states ``(atoms, bonds, node_mask)``, as :class:`~edgraph.energies.terms.PropertyTarget`
        does (graph terms read graph models' edge vectors); molecule models have no classes, so
        ``label`` and ``guidance`` stay unset."""
        tensors = self.sample_tensors(
            num,
            seed=seed,
            sampler=sampler,
            steps=steps,
            step_size=step_size,
            init=init,
            device=device,
            progress=progress,
            terms=terms,
            label=label,
            guidance=guidance,
        )
        return self.decode(tensors, correct=correct)
