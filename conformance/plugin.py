"""The pytest plugin of the suite: options, parametrization, records and the report.

Flow: the controller resolves the selection (oracles, devices, dtypes) once and
hands it to every xdist worker, so that every worker collects the same checks.
Each worker appends one JSON line per record to its own file as it goes; at the
end the controller merges those files into results.json and renders index.html.
Because lines are written as checks finish, an interrupted run still leaves
what was done, and the report is marked partial.
"""
import contextlib
import datetime
import glob
import json
import os
import platform
import re
import signal
import sys
import threading
import uuid
from importlib import metadata

import pytest

from ..oracle import party as parties, registry
from ..oracle.records import error as error_record
from ..oracle.engine import all_checks, implementation_result, run_check
from ..reports import publish
from ..reports.i18n import default_lang
from ..reports.model import is_cross

from . import adapters, grading, loading, options, reporting, terminal

RUN_KEY = pytest.StashKey()
DEFAULT_CHECK_TIMEOUT = 60.0   # seconds; learner code only (the answer key has no limit)

# One compute thread per process that runs checks, with -n 0 as with -n N (the same
# records either way): see conformance/reporting.py. A user's own setting wins.
WORKER_THREADS = reporting.THREAD_VARIABLES


def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _version(dist):
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


class Run:
    """One conformance run, as seen by the controller or by one worker."""

    check_timeout = 0.0   # seconds the implementation may take on one case; 0: no limit
    impl_name, impl_style = "impl", "native"
    party, is_answer_key, impls = parties.ANSWER_KEY, True, ()

    def __init__(self, config):
        workerinput = getattr(config, "workerinput", None)
        self.config = config
        self.is_worker = workerinput is not None
        self.selection = options.resolve(config, workerinput)
        self.seed = self.selection["seed"]
        self.report_dir = os.path.abspath(config.getoption("report_dir"))
        self.run_id = workerinput["bo_run_id"] if workerinput else uuid.uuid4().hex[:12]
        self.worker = workerinput["workerid"] if workerinput else "controller"
        self.started = workerinput["bo_started"] if workerinput else _now()
        self.staging = publish.staging_dir(self.report_dir, self.run_id)
        self.parts_dir = os.path.join(self.staging, ".parts")
        self.impls = list(config.getoption("impl") or [])
        self.is_answer_key = not self.impls      # by identity of the option, never by a name
        self.impl_name = self.impls[0] if self.impls else "impl"
        self.impl_style = config.getoption("impl_style")
        self.check_timeout = self._check_timeout(config)
        self.party = self._party(config)
        # Only the answer key is a module of this process; a learner's code is never
        # imported here (nor in any xdist worker): it answers from its own process.
        self.module = loading.load_implementation(None) if self.is_answer_key else None
        self.expected_ids, self.finished_ids, self.crashes = None, set(), []
        self.workers_up = set()     # xdist workers ready and not yet down (the controller)
        specs = [s for s in registry.all_specs()
                 if self.selection["ops"] is None or s.name in self.selection["ops"]]
        if self.selection["ops"]:
            unknown = set(self.selection["ops"]) - {s.name for s in specs}
            if unknown:
                raise pytest.UsageError(f"--op: unknown op(s) {', '.join(sorted(unknown))}")
        self.checks = [c for c in all_checks(specs, self.selection["oracles"],
                                             self.selection["devices"], self.selection["dtypes"])
                       if options.measured(c)]
        self.by_id = {c.id: c for c in self.checks}

    def _check_timeout(self, config):
        """Seconds per check: --check-timeout, else 60 for learner code, else none (0).

        None either when pytest-timeout's --timeout is given: both would use SIGALRM.
        """
        if config.getoption("timeout", None):
            return 0.0
        value = config.getoption("check_timeout")
        if value is None:
            value = 0.0 if self.is_answer_key else DEFAULT_CHECK_TIMEOUT
        return value if value > 0 else 0.0

    def _party(self, config):
        """The implementation under test (oracle/party.py); --impl paths are checked here,
        without importing anything."""
        parties.become_subreaper()     # orphans of learner processes come back to us
        parties.OWN_PROCESS_TREE[0] = True   # this pytest process starts no other process
        for target in self.impls:
            try:
                parties.locate(target)
            except (FileNotFoundError, ImportError, ValueError) as err:
                raise pytest.UsageError(str(err)) from None
        memory = config.getoption("impl_memory")
        timeout, option = self.check_timeout, "--check-timeout"
        if config.getoption("timeout", None):   # pytest-timeout's limit: the sandbox stops first,
            # with time left to ask where the code is, kill it and record it
            timeout, option = 0.4 * float(config.getoption("timeout")), "pytest-timeout's --timeout"
        return parties.make(self.impls, self.impl_style, timeout=timeout or None,
                            memory_bytes=int(memory * 2 ** 30) if memory and memory > 0 else None,
                            timeout_option=option)

    @staticmethod
    def _class_names():
        return sorted({s.impl for s in registry.all_specs()} | {"Add", "Mul"})

    def write_party_meta(self):
        """An xdist worker: what its live sandboxes say of the implementation, for the
        controller (which then starts no sandbox of its own)."""
        if self.is_answer_key:
            return
        data = {"classes": self.party.describe(self._class_names(), start=False),
                "isolation": self.party.protections(start=False)}
        if data["classes"] or data["isolation"]:
            os.makedirs(self.parts_dir, exist_ok=True)
            with open(os.path.join(self.parts_dir, f"party-{self.worker}.json"), "w",
                      encoding="utf-8") as f:
                json.dump(data, f)

    def _workers_party_meta(self):
        classes, isolation = {}, {}
        for path in sorted(glob.glob(os.path.join(self.parts_dir, "party-*.json"))):
            try:
                with open(path, encoding="utf-8") as f:
                    data = json.load(f)
            except (OSError, ValueError):
                continue
            for name, entry in data.get("classes", {}).items():
                known = classes.get(name)
                if known is None or entry.get("submission_index", 0) < known.get("submission_index", 0):
                    classes[name] = entry
            isolation.update(data.get("isolation", {}))
        return classes, isolation

    def party_meta(self):
        """What the report says of the implementation: its classes' sources (recorded by
        its own process, never by importing it here), how it was isolated, whether it
        uses the answer key. Ends every sandbox of this process."""
        try:
            classes, isolation = ({}, {}) if self.is_answer_key else self._workers_party_meta()
            if not classes and not isolation:
                classes = self.party.describe(self._class_names())
                isolation = self.party.protections()
        finally:
            parties.close_all()
        using = sorted(n for n, c in classes.items() if c.get("answer_key"))
        return {"classes": classes, "isolation": isolation,
                "uses_answer_key": [] if self.is_answer_key else using,
                "imports_answer_key": not self.is_answer_key and any(
                    c.get("module_imports_answer_key") for c in classes.values()),
                "is_answer_key": self.is_answer_key, "impls": self.impls}

    def run_timed(self, check):
        """run_check, with the implementation's own work under --check-timeout.

        The implementation's result is computed first, under the time limit, and
        cached by the engine (a timeout is cached as its error, so the other
        witnesses of the same case do not wait again); the witness then runs
        untimed, so that importing torch or compiling JAX never counts.
        """
        in_process = isinstance(self.party, parties.InProcess)
        if not self.check_timeout or not in_process:   # a sandbox keeps its own time limit
            return run_check(check, self.party, self.seed)
        spec = registry.get(check.op)
        case = spec.case(check.case)
        if spec.applies(case, check.oracle)[0]:
            with time_limit(self.check_timeout):
                implementation_result(check, self.seed, self.party)
        return run_check(check, self.party, self.seed)

    def check_of(self, nodeid):
        """The check a test id runs, or None for a test that is not a check."""
        match = CHECK_ID.search(nodeid) if "test_op[" in nodeid else None
        return self.by_id.get(match.group(1)) if match else None

    # -- records -------------------------------------------------------------
    def write(self, records):
        os.makedirs(self.parts_dir, exist_ok=True)
        path = os.path.join(self.parts_dir, f"{self.worker}.jsonl")
        with open(path, "a", encoding="utf-8") as f:
            for r in records:
                f.write(json.dumps(r) + "\n")
            f.flush()

    def read_parts(self):
        records = []
        for path in sorted(glob.glob(os.path.join(self.parts_dir, "*.jsonl"))):
            with open(path, encoding="utf-8") as f:
                for line in f:
                    line = line.strip()
                    if line:
                        try:
                            records.append(json.loads(line))
                        except json.JSONDecodeError:
                            pass  # a line cut short by a killed worker
        return records

    def check(self, check):
        """Run one check, record it, and turn it into a pytest outcome."""
        try:
            records = self.run_timed(check)
        except pytest.fail.Exception as err:   # pytest-timeout's --timeout stopped the test
            if "Timeout" in str(err):
                from ..oracle.engine import error_excerpt
                self.write([error_record(check, registry.get(check.op), error_excerpt(err))])
            raise
        self.write(records)
        records = [r for r in records if not is_cross(r)]  # framework findings never fail
        statuses = {r["status"] for r in records}
        if statuses & {"fail", "error"}:
            pytest.fail(failure_text(check, records, lang_of(self.config)), pytrace=False)
        if "not_attempted" in statuses:
            pytest.skip(f"not attempted: {records[0]['message']}")
        if statuses == {"skipped"}:
            pytest.skip(records[0]["message"])

    # -- the end -------------------------------------------------------------
    def meta(self, exitstatus):
        partial, reason = self.partial(exitstatus)
        config = self.config
        return {
            "impl": self.party.label,
            "impl_name": self.impl_name,
            "impl_style": self.impl_style,
            "adapter": (f"{self.impl_style}: conformance/adapters/{self.impl_style}.py"
                        if self.impl_style != "native" else "none"),
            "check_timeout": self.check_timeout or None,
            "seed": self.seed,
            "oracles": list(self.selection["oracles"]),
            "devices": list(self.selection["devices"]),
            "devices_absent": self.selection["devices_absent"],
            "dtypes": list(self.selection["dtypes"]),
            "versions": {"python": platform.python_version(), "numpy": _version("numpy"),
                         "torch": _version("torch"), "jax": _version("jax"),
                         "backprop-oracle": _version("backprop-oracle")},
            "host": platform.node(), "platform": platform.platform(),
            "command": " ".join(["pytest"] + [terminal.plain(a) for a in sys.argv[1:]]),
            "invocation_dir": str(config.invocation_params.dir),
            "rerun_options": reporting.rerun_options(config),
            "suite_path": reporting.suite_path(config),
            "subset": reporting.subset_of(config),
            "lang": lang_of(config),
            "started": self.started, "finished": _now(),
            "checks_collected": self.expected_ids, "checks_finished": len(self.finished_ids),
            "partial": partial, "partial_reason": reason,
        }

    def partial(self, exitstatus):
        if exitstatus == pytest.ExitCode.INTERRUPTED:
            return True, "the run was interrupted"
        if self.crashes:
            return True, f"a worker crashed while running {', '.join(self.crashes)}"
        if self.expected_ids is not None and len(self.finished_ids) < self.expected_ids:
            return True, f"only {len(self.finished_ids)} of {self.expected_ids} checks finished"
        return False, ""

    def missing(self, records, exitstatus):
        """Error records for the collected checks that left none (grade over expected checks)."""
        collected = getattr(self, "collected_ids", None)
        if collected is None:
            return []
        expected = [(self.by_id[i], registry.get(self.by_id[i].op).family)
                    for i in sorted(collected) if i in self.by_id]
        finished = [e for e in expected if e[0].id in self.finished_ids]
        unfinished = [e for e in expected if e[0].id not in self.finished_ids]
        stopped = ("not run: the run was interrupted before this check"
                   if exitstatus == pytest.ExitCode.INTERRUPTED else
                   "not run: no process reported this check (a worker that died, or a run "
                   "stopped before it)")
        return (grading.missing_records(finished, records, "this check ran but left no record "
                                        "(its worker's record file was lost or cut short)")
                + grading.missing_records(unfinished, records, stopped))

    def finish(self, exitstatus):
        records = self.read_parts()
        records += self.missing(records, exitstatus)
        results = {"meta": self.meta(exitstatus), "records": records}
        results["meta"].update(self.party_meta())
        results["meta"]["grade"] = grading.grade(records)
        lang = results["meta"]["lang"]

        def render(results, folder):
            from ..reports.render import render
            return render(results, folder, module=self.module, lang=lang)
        self.render_error = ""
        results_path, index, problem, target, kept = reporting.publish_report(
            results, self.report_dir, self.staging, results["meta"]["subset"], render, lang)
        self.render_error = problem
        self.summary = (results_path, index, records, results["meta"], target, kept)

    def impl_args(self):
        """The options of this run that change its results, for a rerun command."""
        return reporting.rerun_options(self.config)


class CheckTimeout(Exception):
    """The implementation under test ran past --check-timeout (recorded as an error)."""


@contextlib.contextmanager
def time_limit(seconds):
    """Raise CheckTimeout in the code running after `seconds` (SIGALRM: POSIX, main thread)."""
    usable = seconds and hasattr(signal, "setitimer") \
        and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def stop(signum, frame):
        raise CheckTimeout(f"stopped after {seconds:g} s (--check-timeout): an endless loop?")
    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def lang_of(config):
    """--lang, else ja where the locale is Japanese (LC_ALL, LC_MESSAGES, LANG), else en."""
    return config.getoption("lang", None) or default_lang()


def failure_text(check, records, lang="en"):
    """One line per failing quantity; the grouped problems and their reruns come at the end."""
    return terminal.failure_text(check, records, lang)


def rerun_command(check, options=(), suite="conformance"):
    from ..reports.commands import check_command
    return check_command(check.id, options, suite)


# -- hooks ---------------------------------------------------------------------
def pytest_addoption(parser):
    options.add_options(parser)


SUITE_DIR = os.path.dirname(os.path.abspath(__file__))


def suite_selected(config):
    """Whether this pytest run collects the conformance suite (this folder's test_ops.py).

    The plugin is installed for every pytest run of the environment (an entry point);
    it stays dormant, adding only its options, unless the suite is among the paths to
    collect: `pytest conformance`, a check's node id, the testpaths, or
    `--pyargs backprop_oracle.conformance`.
    """
    import importlib.util
    for arg in config.args:
        target = arg.split("::")[0]
        if config.getoption("pyargs", False) and not os.path.exists(target):
            try:
                spec = importlib.util.find_spec(target)
            except (ImportError, ValueError):
                spec = None
            if spec is None or not spec.origin:
                continue
            target = os.path.dirname(spec.origin) if spec.origin.endswith("__init__.py") else spec.origin
        path = os.path.abspath(os.path.join(str(config.invocation_params.dir), target))
        if path == SUITE_DIR or path.startswith(SUITE_DIR + os.sep) \
                or SUITE_DIR.startswith(path.rstrip(os.sep) + os.sep):
            return True
    return False


@pytest.fixture(scope="session")
def conformance_run(request):
    """The run of the conformance suite (checks, records, report)."""
    return request.config.stash[RUN_KEY]


def pytest_configure(config):
    if not suite_selected(config):
        return
    for family in registry.families():
        config.addinivalue_line("markers", f"{family}: ops of the {family} family")
    reporting.same_threads()   # before any witness imports torch, in every mode
    run = Run(config)
    config.stash[RUN_KEY] = run
    if not run.is_worker:
        reporting.setup(run, config)
        config.pluginmanager.register(terminal.CleanReports(run), "backprop-oracle-terminal")
        _finish_on_sigterm()
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(XdistHooks(run), "backprop-oracle-xdist")


def _finish_on_sigterm():
    """A terminated run (a CI time limit, `timeout`, `kill`) ends like Ctrl-C: pytest
    unwinds, the session finishes and the report is written, marked partial."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        def interrupt(signum, frame):
            signal.signal(signal.SIGTERM, signal.SIG_DFL)   # a second SIGTERM kills at once
            raise KeyboardInterrupt("terminated (SIGTERM)")
        signal.signal(signal.SIGTERM, interrupt)


class XdistHooks:
    def __init__(self, run):
        self.run = run

    @pytest.hookimpl(tryfirst=True)
    def pytest_xdist_make_scheduler(self, config, log):
        """-n's default `--dist load`, with one op's checks on one worker: its compiled
        JAX functions and its implementation results are reused. (xdist's own
        loadgroup cannot do it under pytest 9, whose node ids it no longer suffixes.)
        Not for learner code: pytest-xdist 3.8's scope schedulers hang when a crashed
        worker is replaced (pytest-dev/pytest-xdist#1323, #1327); plain load records
        the crash and goes on."""
        if config.getvalue("dist") == "load" and config.getoption("impl") is None:
            return op_scheduling(self.run, config, log)
        return None

    @pytest.hookimpl
    def pytest_xdist_setupnodes(self, config, specs):
        reporting.same_threads()   # set at configure already; the workers inherit it

    @pytest.hookimpl
    def pytest_configure_node(self, node):
        node.workerinput.update(bo_run_id=self.run.run_id, bo_started=self.run.started,
                                bo_devices=list(self.run.selection["devices"]),
                                bo_devices_absent=self.run.selection["devices_absent"])

    @pytest.hookimpl
    def pytest_xdist_node_collection_finished(self, node, ids):
        self.run.collected_ids = {c.id for c in map(self.run.check_of, ids) if c}
        self.run.expected_ids = len(self.run.collected_ids)

    @pytest.hookimpl
    def pytest_testnodeready(self, node):
        self.run.workers_up.add(node.gateway.id)

    @pytest.hookimpl
    def pytest_testnodedown(self, node, error):
        self.run.workers_up.discard(node.gateway.id)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session, exitstatus):
        """Every worker has finished (its records and its party's description are on disk):
        the report is written now, while xdist waits for the workers' processes to exit
        (seconds of interpreter and JAX teardown). An interrupted run, or one with a
        worker still up, is reported after xdist has stopped them (below)."""
        run = self.run
        if run.is_worker or session.config.option.collectonly or run.workers_up \
                or exitstatus == pytest.ExitCode.INTERRUPTED:
            return
        run.finish(exitstatus)


def op_scheduling(run, config, log):
    from xdist.scheduler import LoadScopeScheduling

    class OpScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            check = run.check_of(nodeid)
            return f"op:{check.op}" if check else nodeid

    return OpScheduling(config, log)


def pytest_generate_tests(metafunc):
    if "check" not in metafunc.fixturenames or RUN_KEY not in metafunc.config.stash:
        return
    run = metafunc.config.stash[RUN_KEY]
    params = [pytest.param(c, id=c.id, marks=[getattr(pytest.mark, registry.get(c.op).family),
                                               pytest.mark.xdist_group(c.op)])
              for c in run.checks]
    metafunc.parametrize("check", params)


def pytest_collection_finish(session):
    run = session.config.stash.get(RUN_KEY, None)
    if run is not None and not run.is_worker and run.expected_ids is None:
        run.collected_ids = {c.id for c in map(run.check_of, (i.nodeid for i in session.items)) if c}
        run.expected_ids = len(run.collected_ids)


CHECK_ID = re.compile(r"\[(.+)\](@.*)?$")


def pytest_runtest_logreport(report):
    """Controller side: count finished checks, and record a crashed worker's check."""
    run = _current_run
    if run is None or run.is_worker:
        return
    finished = report.when in ("call", "???") or (report.when == "setup" and not report.passed)
    check = run.check_of(report.nodeid)
    if not finished or check is None:
        return
    run.finished_ids.add(check.id)
    if report.when == "???":  # xdist's report for the test a worker died in
        run.crashes.append(check.id)
        run.write([crash_record(check, str(report.longrepr or ""))])


def crash_record(check, text):
    last = text.strip().splitlines()[-1] if text.strip() else "no output"
    return error_record(check, registry.get(check.op),
                        f"the worker process died while running this check ({last})")


_current_run = None


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session):
    global _current_run
    _current_run = session.config.stash.get(RUN_KEY, None)
    runs_tests = session.config.pluginmanager.getplugin("dsession") is None
    if _current_run is not None and runs_tests:
        _current_run.party.start()   # the implementation's process starts before any check


@pytest.hookimpl(trylast=True)    # after xdist has stopped its workers
def pytest_sessionfinish(session, exitstatus):
    run = session.config.stash.get(RUN_KEY, None)
    if run is None:
        return
    if run.is_worker:
        run.write_party_meta()
    elif not session.config.option.collectonly and not hasattr(run, "summary"):
        run.finish(exitstatus)   # party_meta() ends the sandboxes before results are written
    parties.close_all()          # the sandboxes, and whatever learner code left running


@pytest.hookimpl(wrapper=True)
def pytest_keyboard_interrupt(excinfo):
    """Ctrl-C is an interrupted run (exit 2, a partial report), whatever the traceback: on
    CPython 3.11 a frame interrupted at an instruction without a line number has tb_lineno
    None, pytest's formatter of the interrupt raises TypeError on it, and the run ended as
    an internal error (exit 1, the interruption not recorded; pytest-dev/pytest-xdist#1196
    shows the same trace). The traceback is then not shown; nothing else is lost."""
    try:
        return (yield)
    except TypeError:
        return None


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """After pytest's own summary (its short test summary included): the grade, each
    distinct problem once with one rerun command, and where the report is."""
    result = yield
    run = config.stash.get(RUN_KEY, None)
    if run is None or run.is_worker or not hasattr(run, "summary"):
        return result
    results_path, index, records, meta, target, kept = run.summary
    lang = meta["lang"]
    from ..reports.i18n import t
    terminalreporter.write_sep("=", "backprop-oracle")
    for line in terminal.summary_lines(records, meta, lang):
        terminalreporter.write_line(line)
    terminalreporter.write_line(f"{t('results_at', lang)}: {results_path}")
    if run.render_error:
        terminalreporter.write_line(f"{t('report_at', lang)}: "
                                    + t("not_rendered", lang, why=run.render_error))
    terminalreporter.write_line(f"{t('report_at', lang)}:  {index}")
    if kept:
        terminalreporter.write_line(t("rerun_written", lang, what=meta["subset"], where=target,
                                      full=kept))
    return result
