"""The one-line commands that rerun exactly one check, or every check of one case."""


def _options(seed, impl):
    extra = f" --seed {seed}" if seed else ""
    return extra + (f" --impl {impl}" if impl and impl != "impl" else "")


def check_command(check_id, seed=0, impl="impl"):
    """Rerun one (op, case, oracle, device, dtype); check_id as in oracle.engine.Check.id."""
    return f'pytest "conformance/test_ops.py::test_op[{check_id}]"{_options(seed, impl)}'


def case_command(op, case, seed=0, impl="impl"):
    """Rerun every check of one case of one op (every witness, device and dtype here).

    Check ids are op-case-oracle-device-dtype: with --op selecting the op, the
    prefix "op-case-" names exactly this case."""
    return f'pytest conformance --op {op} -k "{op}-{case}-"{_options(seed, impl)}'
