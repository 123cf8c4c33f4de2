"""Test configuration: a throw-away cache, so tests never read or write the user's."""

import os

import pytest
import torch


@pytest.fixture(autouse=True, scope="session")
def _edgraph_environment(tmp_path_factory: pytest.TempPathFactory) -> None:
    os.environ["EDGRAPH_CACHE"] = str(tmp_path_factory.mktemp("edgraph-cache"))


@pytest.fixture(scope="module")
def single_thread():
    """Run a module's tiny-tensor work on one thread: on a shared 2-core machine extra OpenMP
    threads only contend, and small models run several times faster without them."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
