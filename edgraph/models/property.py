r"""Molecular property regressors :math:`f_\phi(\text{atoms}, \text{bonds}, m) \approx y`, to steer sampling.

A :class:`PropertyRegressor` is a :class:`~edgraph.energies.MoleculeEnergy` network read as a
regression of an RDKit property (:data:`edgraph.chem.PROPERTIES`: ``"qed"``, ``"logp"``) on the
typed graph. :meth:`PropertyRegressor.fit` fits it by least squares on a molecule model's own
training molecules, so steering needs no data beyond the model's. It is differentiable in the
one-hot states, as the model's energy is, and :meth:`PropertyRegressor.term` makes it the energy
term :math:`\lambda (f_\phi(x) - y^*)^2` (:class:`~edgraph.energies.terms.PropertyTarget`) for
``MoleculeEBM.sample(terms=...)``.
"""

from __future__ import annotations

import io
import math
import sys
from pathlib import Path

import torch
from torch import Tensor, nn

from edgraph.chem import NUM_BOND_TYPES, PROPERTIES, molecule_properties
from edgraph.energies.molecule import MoleculeEnergy
from edgraph.energies.terms import PropertyTarget, parse_term_spec
from edgraph.io import atomic_write
from edgraph.models.base import hold_out
from edgraph.models.molecule import MoleculeEBM
from edgraph.progress import progress_range

#: Regressors fit on at most this many of the model's training molecules (a seeded subset).
MAX_MOLECULES = 20_000


class PropertyRegressor(nn.Module):
    r"""A regressor :math:`f_\phi(\text{atoms}, \text{bonds}, m) = \mu + \sigma\, g_\phi(\cdot)` of
    the property ``name``, with :math:`g_\phi` a :class:`~edgraph.energies.MoleculeEnergy` and
    :math:`\mu, \sigma` the mean and spread of the training values.

    ``forward(atoms [B, N, Ka], bonds [B, D, Kb], node_mask [B, N]) -> [B]`` in the property's units.

    Example:
        >>> model = MoleculeEBM(max_atoms=4, hidden=8, layers=1).fit(["CCO", "CC=O", "CN", "OCCO"], max_steps=1)
        >>> regressor = PropertyRegressor.fit(model, "logp", steps=5, val_fraction=0.0)
        >>> len(model.sample(2, steps=5, seed=0, terms=[regressor.term(target=1.0, weight=2.0)]))
        2
    """

    mean: Tensor
    scale: Tensor
    validation_mae: Tensor

    def __init__(self, name: str, max_atoms: int, num_atom_types: int, hidden: int = 32, layers: int = 3) -> None:
        super().__init__()
        if name not in PROPERTIES:
            raise ValueError(f"unknown molecular property {name!r}; choose from {sorted(PROPERTIES)}")
        self.name, self.hidden, self.layers = name, hidden, layers
        self.network = MoleculeEnergy(max_atoms, num_atom_types, NUM_BOND_TYPES, hidden=hidden, layers=layers)
        self.register_buffer("mean", torch.zeros(()))
        self.register_buffer("scale", torch.ones(()))
        self.register_buffer("validation_mae", torch.tensor(math.nan))  # mean absolute error on held-out molecules

    def forward(self, atoms: Tensor, bonds: Tensor, node_mask: Tensor) -> Tensor:
        """Predicted property values ``[B]``, in the property's units, of one-hot ``atoms [B, N, Ka]``
        and ``bonds [B, D, Kb]`` with the bool ``node_mask [B, N]``."""
        return self.mean + self.scale * self.network(atoms, bonds, node_mask)

    def term(self, target: float, weight: float = 1.0) -> PropertyTarget:
        r"""The energy term :math:`\lambda (f_\phi(x) - y^*)^2`, with :math:`y^*` the ``target``
        and :math:`\lambda` the ``weight``."""
        return PropertyTarget(self, target, weight)

    @classmethod
    def fit(
        cls,
        model: MoleculeEBM,
        name: str,
        *,
        steps: int = 2000,
        batch_size: int = 128,
        lr: float = 1e-3,
        hidden: int = 32,
        layers: int = 3,
        max_molecules: int = MAX_MOLECULES,
        val_fraction: float = 0.1,
        seed: int = 0,
        progress: bool = False,
    ) -> PropertyRegressor:
        """Fit the property ``name`` of ``model``'s training molecules (at most ``max_molecules``, a
        seeded subset) by least squares with Adam for ``steps`` steps; a seeded ``val_fraction`` is
        held out and its mean absolute error kept in ``validation_mae`` (and printed with ``progress``)."""
        if steps < 1 or batch_size < 1 or max_molecules < 1:
            raise ValueError(
                f"need steps, batch_size and max_molecules >= 1; got {steps}, {batch_size}, {max_molecules}"
            )
        c = model.config
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            regressor = cls(name, c.max_atoms, len(c.atom_types), hidden, layers)
            atoms, bonds, node_mask = model._training_tensors()
            rows = torch.randperm(len(atoms))[:max_molecules].sort().values
            atoms, bonds, node_mask = atoms[rows], bonds[rows], node_mask[rows]
            values = molecule_properties(model.decode((atoms, bonds, node_mask)), name)
            known = torch.tensor([v is not None for v in values])
            if not known.any():
                raise ValueError(f"none of the model's training molecules has an RDKit {name}")
            y = torch.tensor([v for v in values if v is not None], dtype=torch.float32)
            atoms, bonds, node_mask = atoms[known], bonds[known], node_mask[known]
            train, held = hold_out(list(range(len(y))), val_fraction, seed)
            fit_rows, held_rows = torch.tensor(train), torch.tensor(held, dtype=torch.long)
            regressor.mean.fill_(y[fit_rows].mean())
            regressor.scale.fill_(y[fit_rows].std().clamp(min=1e-6) if len(fit_rows) > 1 else 1.0)
            optimiser = torch.optim.Adam(regressor.network.parameters(), lr=lr)
            for _ in progress_range(steps, f"fitting a {name} regressor", progress):
                batch = fit_rows[torch.randint(len(fit_rows), (min(batch_size, len(fit_rows)),))]
                predicted = regressor(atoms[batch], bonds[batch], node_mask[batch])
                loss = ((predicted - y[batch]) / regressor.scale).pow(2).mean()
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
        regressor.requires_grad_(False).eval()
        if len(held_rows):
            with torch.no_grad():
                error = (regressor(atoms[held_rows], bonds[held_rows], node_mask[held_rows]) - y[held_rows]).abs()
            regressor.validation_mae.fill_(error.mean())
            if progress:
                print(
                    f"{name} regressor: mean absolute error {error.mean():.3f} on {len(held_rows)} held-out "
                    f"molecules (values {y.min():.2f}..{y.max():.2f}, std {y.std():.3f})",
                    file=sys.stderr,
                    flush=True,
                )
        return regressor

    def save(self, path: str | Path) -> None:
        """Write the regressor (its property, sizes and weights) to ``path``, atomically."""
        buffer = io.BytesIO()
        network = self.network
        config = {
            "name": self.name,
            "max_atoms": network.max_atoms,
            "num_atom_types": network.num_atom_types,
            "hidden": self.hidden,
            "layers": self.layers,
        }
        torch.save({"format": "edgraph.PropertyRegressor", "config": config, "weights": self.state_dict()}, buffer)
        atomic_write(path, buffer.getvalue())

    @classmethod
    def load(cls, path: str | Path) -> PropertyRegressor:
        """A regressor written by :meth:`save` (read with ``weights_only``, so no code runs)."""
        payload = torch.load(path, map_location="cpu", weights_only=True)
        if not isinstance(payload, dict) or payload.get("format") != "edgraph.PropertyRegressor":
            raise ValueError(f"{path} is not an edgraph property regressor")
        regressor = cls(**payload["config"])
        regressor.load_state_dict(payload["weights"])
        return regressor.requires_grad_(False).eval()


def property_term_from_spec(model: MoleculeEBM, spec: str, progress: bool = False) -> PropertyTarget:
    """The term of ``NAME=WEIGHT:TARGET`` for a molecule model, with ``NAME`` a property of
    :data:`~edgraph.chem.PROPERTIES` (``qed``, ``logp``): a :class:`PropertyRegressor` fit on the
    model's training molecules, as ``edgraph sample --term qed=20:0.6`` builds it."""
    name, weight, target = parse_term_spec(spec)
    if name not in PROPERTIES:
        raise ValueError(
            f"unknown molecule energy term {name!r} in {spec!r}; molecule models take {sorted(PROPERTIES)}"
        )
    if target is None:
        raise ValueError(f"energy term {name!r} needs a target: {name}=WEIGHT:TARGET")
    return PropertyRegressor.fit(model, name, progress=progress).term(target, weight)
