"""Every check of every op spec: one (op, case, oracle, device, dtype) per test."""


def test_op(check, conformance_run):
    conformance_run.check(check)
