"""The one-line commands that rerun exactly one check, or every check of one case.

Every argument is shell-quoted (shlex.quote): a learner's file named
`hw3_$(touch X).py` is a word, not a command, when the line is pasted. The
options are those of the run that changed its results (--impl, --impl-style,
--seed, --dtype, --device, --oracle, --tf32, --check-timeout), as given on its
command line; paths are as typed there, so the command works pasted into a
shell in the folder the run was started from (meta "invocation_dir").
"""
import shlex

SUITE = "conformance"


def _join(words):
    return " ".join(shlex.quote(str(w)) for w in words)


def legacy_options(seed=0, impl="impl"):
    """The options of a results.json that predates meta "rerun_options"."""
    options = ["--seed", str(seed)] if seed else []
    return options + (["--impl", impl] if impl and impl != "impl" else [])


def options_of(meta):
    """(options, suite path) of a run's meta, for the commands of its report."""
    options = meta.get("rerun_options")
    if options is None:
        options = legacy_options(meta.get("seed", 0), meta.get("impl_name", "impl"))
    return list(options), meta.get("suite_path") or SUITE


def check_command(check_id, options=(), suite=SUITE):
    """Rerun one (op, case, oracle, device, dtype); check_id as in oracle.engine.Check.id."""
    return _join(["pytest", f"{suite}/test_ops.py::test_op[{check_id}]", *options])


def case_command(op, case, options=(), suite=SUITE):
    """Rerun every check of one case of one op (every witness, device and dtype here).

    Check ids are op-case-oracle-device-dtype: with --op selecting the op, the
    prefix "op-case-" names exactly this case."""
    return _join(["pytest", suite, "--op", op, "-k", f"{op}-{case}-", *options])
