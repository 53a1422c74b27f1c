"""Shared options: --thorough selects the deep runs; CUDA tests skip with a reason."""

from __future__ import annotations

import os

import pytest

pytest_plugins = ("pytester",)  # the gradproof pytest plugin is tested in a pytester sandbox


def pytest_configure(config: pytest.Config) -> None:
    # The suite's tensors have at most a few hundred entries: one torch thread is faster.
    if "OMP_NUM_THREADS" not in os.environ:
        try:
            import torch
        except ImportError:
            return
        torch.set_num_threads(1)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--thorough", action="store_true", help="run the thorough profile and many-seed tests")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    thorough = config.getoption("--thorough")
    try:
        import torch

        cuda = torch.cuda.is_available()
    except ImportError:
        cuda = False
    for item in items:
        if "thorough" in item.keywords and not thorough:
            item.add_marker(pytest.mark.skip(reason="thorough profile: run with --thorough"))
        if "cuda" in item.keywords and not cuda:
            item.add_marker(pytest.mark.skip(reason="no CUDA device"))


@pytest.fixture(scope="session")
def profile(request: pytest.FixtureRequest) -> str:
    return "thorough" if request.config.getoption("--thorough") else "quick"
