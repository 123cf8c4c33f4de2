"""Test configuration: point edgraph at the shared datasets and a throw-away cache."""

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent
SHARED_DATA = REPO.parent / "shared" / "datasets"


@pytest.fixture(autouse=True, scope="session")
def _edgraph_environment(tmp_path_factory: pytest.TempPathFactory) -> None:
    if "EDGRAPH_DATA" not in os.environ:
        os.environ["EDGRAPH_DATA"] = str(SHARED_DATA)
    os.environ["EDGRAPH_CACHE"] = str(tmp_path_factory.mktemp("edgraph-cache"))
