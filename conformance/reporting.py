"""The controller's side of the report: its folder, the rerun options, the threads, the end.

    setup(run, config)       at configure: the folder is usable and locked, threads are set
    rerun_options(config)    the options that changed the results, as typed
    subset_of(config)        what a run that checks a subset of the suite selected, or None
    publish_report(...)      results.json, then the HTML, into a staging folder, then one swap

Where a run's report goes: the report folder (--report-dir), replaced whole at the
end. A run that checks only a subset (-k, -m, node ids, --op, --deselect, --lf)
into a folder that holds a full run's report does not replace it: its report is
written to <report-dir>/reruns/<name>, and the terminal says so.
"""
import contextlib
import hashlib
import html
import os
import re
import shutil
import signal
import sys
import threading

import pytest

from ..reports import publish
from ..reports.i18n import t
from ..reports.model import write_results

from . import options as options_module

# One compute thread per process that runs checks, in every mode: -n 0 runs them in the
# controller, -n N in workers that inherit the controller's environment. torch reads
# BACKPROP_ORACLE_THREADS when first imported (oracle/frameworks.py), BLAS libraries read
# the others when loaded; set before either, both modes add in the same order (issue 12.7).
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "BACKPROP_ORACLE_THREADS")


def same_threads():
    """Set the thread defaults (a user's own setting wins) in this process."""
    for name in THREAD_VARIABLES:
        os.environ.setdefault(name, "1")
    torch = sys.modules.get("torch")
    if torch is not None and hasattr(torch, "set_num_threads"):   # imported before us
        torch.set_num_threads(int(os.environ["BACKPROP_ORACLE_THREADS"]))


def setup(run, config):
    """Controller, at configure: the report folder can be replaced, and is ours alone."""
    try:
        publish.check_replaceable(run.report_dir)
        run.lock = publish.Lock(run.report_dir).acquire()
    except publish.ReportDirError as err:
        raise pytest.UsageError(str(err)) from None
    publish.remove_stale_staging(run.report_dir)
    config.add_cleanup(run.lock.release)


# -- rerun commands ----------------------------------------------------------------
# (option dest, flag): the options that change what is checked or how it is judged.
RESULT_OPTIONS = (("impl", "--impl"), ("impl_style", "--impl-style"), ("seed", "--seed"),
                  ("dtype", "--dtype"), ("device", "--device"), ("oracle", "--oracle"),
                  ("tf32", "--tf32"), ("check_timeout", "--check-timeout"),
                  ("impl_memory", "--impl-memory"),
                  ("lang", "--lang"))      # not a result, but the rerun should read the same
DEFAULTS = {"impl": None, "impl_style": "native", "seed": 0, "tf32": False, "check_timeout": None,
            "lang": None,
            "impl_memory": 4.0,
            "device": None, "dtype": ",".join(options_module.DTYPES),
            "oracle": ",".join(options_module.ORACLES)}


def rerun_options(config):
    """The result-changing options of this run as words, e.g. ["--impl", "hw3.py", "--seed", "3"].

    --impl once per value where it was given several times; paths as typed, which is right
    for a shell in the folder the run was started from."""
    words = []
    for dest, flag in RESULT_OPTIONS:
        value = config.getoption(dest, None)
        if value is None or value == DEFAULTS.get(dest) or value == [] or value is False:
            continue
        if value is True:
            words.append(flag)
            continue
        for item in value if isinstance(value, (list, tuple)) else [value]:
            words += [flag, f"{item:g}" if isinstance(item, float) else str(item)]
    return words


def suite_path(config):
    """The suite folder as the rerun commands name it: relative to where the run started,
    unless that would climb out of it (then absolute)."""
    here = str(config.invocation_params.dir)
    suite = os.path.dirname(os.path.abspath(__file__))
    relative = os.path.relpath(suite, here)
    return suite if relative.startswith("..") else relative


# -- what the run selected -------------------------------------------------------------
def subset_of(config):
    """A few words saying which subset of the suite this run checks, or None for all of it."""
    parts = []
    if config.getoption("keyword", ""):
        parts.append(f"-k {config.getoption('keyword')}")
    if config.getoption("markexpr", ""):
        parts.append(f"-m {config.getoption('markexpr')}")
    if config.getoption("op", None):
        parts.append(f"--op {config.getoption('op')}")
    if config.getoption("deselect", None):
        parts.append("--deselect")
    if config.getoption("lf", False):
        parts.append("--lf")
    ids = [a for a in config.args if "::" in a]
    if ids:
        parts.append(ids[0].split("::", 1)[1] + (f" (+{len(ids) - 1})" if len(ids) > 1 else ""))
    return " ".join(parts) or None


def rerun_folder_name(subset):
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", subset).strip("_.-")[:60] or "subset"
    return f"{slug}-{hashlib.sha1(subset.encode()).hexdigest()[:6]}"


def target_of(report_dir, subset):
    """(folder to publish into, full report kept or None)."""
    from ..reports.model import SchemaError, load_results
    if not subset:
        return report_dir, None
    existing = os.path.join(report_dir, "results.json")
    try:
        full = os.path.isfile(existing) and not load_results(existing)["meta"].get("subset")
    except (SchemaError, OSError, KeyError, TypeError):
        full = False   # not a report this version reads: nothing worth keeping
    if not full:
        return report_dir, None
    return os.path.join(report_dir, "reruns", rerun_folder_name(subset)), report_dir


# -- the end ---------------------------------------------------------------------------
def stub_index(results, why, lang="en"):
    """A short index.html for a report whose rendering did not finish: it says why, the grade,
    and how to render it again; results.json beside it is whole."""
    from . import grading
    meta = results["meta"]
    g = meta["grade"]["overall"]
    grade = grading.fraction(g, lang) if g["attempted"] else t("grade_nothing", lang,
                                                              n=g["not_attempted"])
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
            f"<title>backprop-oracle{html.escape(t('partial_suffix', lang))}</title></head><body>"
            f"<h1>{html.escape(t('report_title', lang))}</h1>"
            f'<p class="partial">{html.escape(why)}</p>'
            f"<p>{html.escape(t('grade_heading', lang))}: {html.escape(grade)}</p>"
            f'<p><a href="results.json">results.json</a></p></body></html>\n')


@contextlib.contextmanager
def _terminate_raises():
    """While rendering, SIGTERM stops the rendering like Ctrl-C (the run's own handler may
    already be spent by the SIGTERM that ended the checks), so that the folder still gets
    this run's results.json and short index."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        raise KeyboardInterrupt("terminated (SIGTERM) while rendering")
    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def publish_report(results, report_dir, staging, subset, render, lang="en"):
    """Write results.json and the HTML into `staging`, then make it the report in one step.

    render(results, folder) -> index path. Returns (results path, index path or None,
    the reason the HTML is incomplete or "", where it went, the full report kept or None)."""
    os.makedirs(staging, exist_ok=True)
    write_results(os.path.join(staging, "results.json"), results["meta"], results["records"])
    target, kept = target_of(report_dir, subset)
    command = f"python -m backprop_oracle.reports render {target}"
    index, problem = os.path.join(staging, "index.html"), ""
    with open(index, "w", encoding="utf-8") as f:   # first a short index: never none at all
        f.write(stub_index(results, t("kept_old", lang, where=target, command=command), lang))
    try:
        with _terminate_raises():
            render(results, staging)
    except ImportError as err:
        problem = str(err)
    except KeyboardInterrupt:   # a second Ctrl-C (or SIGTERM) while rendering: publish what is whole
        problem = t("kept_old", lang, where=target, command=command)
    shutil.rmtree(os.path.join(staging, ".parts"), ignore_errors=True)   # merged above
    publish.publish(staging, target)
    return (os.path.join(target, "results.json"), os.path.join(target, "index.html"),
            problem, target, kept)
