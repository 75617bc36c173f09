"""Shared helpers for the tests of the harness."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_suite(*args, cwd=ROOT, timeout=300):
    """Run `pytest conformance ARGS` in a fresh process; return the CompletedProcess."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    return subprocess.run([sys.executable, "-m", "pytest", "conformance", "-p", "no:cacheprovider",
                           "-q", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture
def suite():
    return run_suite
