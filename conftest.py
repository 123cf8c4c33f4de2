"""Test configuration: point edgraph at the shared datasets and a throw-away cache."""

import os
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parent
SHARED_DATA = REPO.parent / "shared" / "datasets"


@pytest.fixture(autouse=True, scope="session")
def _edgraph_environment(tmp_path_factory: pytest.TempPathFactory) -> None:
    if "EDGRAPH_DATA" not in os.environ:
        os.environ["EDGRAPH_DATA"] = str(SHARED_DATA)
    os.environ["EDGRAPH_CACHE"] = str(tmp_path_factory.mktemp("edgraph-cache"))


@pytest.fixture(scope="module")
def single_thread():
    """Run a module's tiny-tensor work on one thread: on a shared 2-core machine extra OpenMP
    threads only contend, and small models run several times faster without them."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
