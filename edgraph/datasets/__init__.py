"""Datasets: graph benchmarks, molecules and toy data, with checksummed downloads."""

from edgraph.datasets.download import cache_dir, data_root, fetch
from edgraph.datasets.graphs import (
    DATASETS,
    CommunitySmall,
    CommunitySmallGDSS,
    EgoSmall,
    Grid,
    dataset_info,
    describe,
    load_graphs,
)
from edgraph.datasets.molecules import (
    MOLECULE_DATASETS,
    load_molecule_tensors,
    load_molecules,
    qm9_split,
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
