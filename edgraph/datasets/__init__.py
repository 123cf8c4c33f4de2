"""Datasets: graph benchmarks, molecules and toy data, with checksummed downloads.

Molecule datasets (``load_molecules``, ``load_molecule_tensors``, ``qm9_split``) load RDKit on first use.
"""

from __future__ import annotations

from typing import Any

from edgraph.datasets.download import cache_dir, data_root, fetch
from edgraph.datasets.graph_benchmarks import (
    DATASETS,
    MOLECULE_DATASETS,
    CommunitySmall,
    CommunitySmallGDSS,
    EgoSmall,
    Grid,
    dataset_info,
    describe,
    load_graphs,
)
from edgraph.datasets.toys import (
    TOY_DENSITIES,
    gray_decode,
    gray_encode,
    ising_lattice_samples,
    toy_density_samples,
)

__all__ = [
    "TOY_DENSITIES",
    "gray_decode",
    "gray_encode",
    "ising_lattice_samples",
    "toy_density_samples",
    "MOLECULE_DATASETS",
    "load_molecule_tensors",
    "load_molecules",
    "qm9_split",
    "DATASETS",
    "CommunitySmall",
    "CommunitySmallGDSS",
    "EgoSmall",
    "Grid",
    "cache_dir",
    "data_root",
    "dataset_info",
    "describe",
    "fetch",
    "load_graphs",
]

_MOLECULE_LOADERS = ("load_molecule_tensors", "load_molecules", "qm9_split")


def __getattr__(name: str) -> Any:
    if name in _MOLECULE_LOADERS:
        from edgraph.datasets import molecule_benchmarks

        return getattr(molecule_benchmarks, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
