"""A pytest plugin for tests/test_report_partial.py: Ctrl-C after the third check, and the
formatting of its traceback failing as pytest's does on CPython 3.11 when a frame has no
line number (TypeError from tb_lineno None)."""
import pytest

_seen = []


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item):
    _seen.append(item.nodeid)
    if len(_seen) == 3:
        raise KeyboardInterrupt


def pytest_keyboard_interrupt(excinfo):
    raise TypeError("unsupported operand type(s) for -: 'NoneType' and 'int'")
