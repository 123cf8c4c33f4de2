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

__all__ = [
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
