"""Loads the suite's plugin (conformance/plugin.py) for `pytest conformance`."""
from conformance.plugin import (  # noqa: F401  (pytest finds hooks by name)
    pytest_addoption, pytest_collection_finish, pytest_configure, pytest_generate_tests,
    pytest_runtest_logreport, pytest_sessionfinish, pytest_sessionstart,
    pytest_terminal_summary)
import pytest


@pytest.fixture(scope="session")
def conformance_run(request):
    from conformance.plugin import RUN_KEY
    return request.config.stash[RUN_KEY]
