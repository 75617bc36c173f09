"""Shared helpers for the tests of the harness."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


LOCALE = ("LC_ALL", "LC_MESSAGES", "LANG")


def run_suite(*args, cwd=ROOT, timeout=300, env=None):
    """Run `pytest conformance ARGS` in a fresh process; return the CompletedProcess.

    The locale is left out (the suite speaks English) unless `env` gives one."""
    env = {**{k: v for k, v in os.environ.items()
              if not k.startswith("PYTEST_") and k not in LOCALE}, **(env or {})}
    return subprocess.run([sys.executable, "-m", "pytest", "conformance", "-p", "no:cacheprovider",
                           "-q", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture
def suite():
    return run_suite
