"""Issue 12: the code under test runs apart from the witnesses.

Hostile and honest learner modules (tests/hostile/) graded by the real suite, with -n 0
and -n 2: honest in-place idioms pass; code that writes into dout, labels or indices,
patches the grader, returns array-likes, exits, interrupts, hangs, eats memory, leaves
processes behind or rewrites the report never passes, never hangs and never changes the
grade. Plus the pieces (the wire, the validation, the party) on their own.
"""
import json
import os
import struct
import time

import numpy as np
import pytest

from backprop_oracle.oracle import engine, party, wire
from backprop_oracle.reports.model import load_results

HERE = os.path.dirname(os.path.abspath(__file__))
HOSTILE = os.path.join("tests", "hostile")
MODES = [pytest.param(("-n", "0"), id="n0"), pytest.param(("-n", "2"), id="n2")]
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def hostile(name):
    return os.path.join(HOSTILE, name)


def results(report_dir):
    return load_results(os.path.join(report_dir, "results.json"))


def checks_of(records):
    """{(op, case, oracle): [records]} without the witnesses' cross-check."""
    out = {}
    for r in records:
        if "~" not in r["oracle"]:
            out.setdefault((r["op"], r["case"], r["oracle"]), []).append(r)
    return out


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


@pytest.fixture
def shared_dir():
    """A folder the learner's process may write (it may run as a uid of its own, which
    cannot reach pytest's own temporary folders)."""
    import pathlib
    import shutil
    import tempfile
    d = pathlib.Path(tempfile.mkdtemp(prefix="bo-isolation-"))
    os.chmod(d, 0o777)
    yield d
    shutil.rmtree(d, ignore_errors=True)


BATTERY_OPS = ("sigmoid,relu,affine,embedding,softmax_cross_entropy,tanh,matmul,"
               "identity,leaky_relu,elu,softplus,gelu,selu,hardtanh")


@pytest.mark.parametrize("mode", MODES)
def test_the_battery(suite, tmp_path, shared_dir, monkeypatch, mode):
    """-n 2 runs the learner as the grader's own user, even as root: the protections
    that hold without root are those this run relies on (no uid of its own)."""
    same_user = mode[1] == "2"
    if same_user:
        monkeypatch.setenv(party.SAME_USER_ENV, "1")
    report = tmp_path / "report"
    pids = shared_dir / "pids"
    monkeypatch.setenv("HOSTILE_PIDS", str(pids))
    monkeypatch.setenv("HOSTILE_REPORT", str(report))
    impls = [a for m in ("honest_inplace.py", "wrong_affine.py", "cheats.py", "exits.py",
                         "runaway.py") for a in ("--impl", hostile(m))]
    result = suite(*impls, *mode, "--impl-memory", "0.5", "--check-timeout", "2",
                   "--op", BATTERY_OPS, "--oracle", "torch,fd", "--dtype", "float64",
                   "-k", "batch1 or labels_mean or repeated", "--report-dir", str(report),
                   timeout=240)
    assert result.returncode == 1, result.stdout[-3000:]
    written = (report / "results.json").read_text()
    data = load_results(report / "results.json")
    checks = checks_of(data["records"])

    def statuses(op, case="batch1", oracle=None):
        return {r["status"] for (o, c, w), rs in checks.items() for r in rs
                if o == op and c == case and (oracle is None or w == oracle)}

    def messages(op):
        return "\n".join(r["message"] for (o, _, _), rs in checks.items() for r in rs if o == op)

    # honest in-place idioms pass (dout is the learner's own copy)
    assert statuses("sigmoid") == {"pass"} and statuses("relu") == {"pass"}
    # a wrong Affine that zeroes dout fails: the witnesses kept their dout
    assert {r["status"] for r in checks[("affine", "batch1", "torch")]
            if r["quantity"].startswith("grad:")} == {"fail"}
    # writing into labels and indices does not reach the witnesses
    assert "fail" in statuses("embedding", "repeated", "torch")
    assert "fail" in statuses("softmax_cross_entropy", "labels_mean", "torch")
    assert "fail" in statuses("softmax_cross_entropy", "batch1", "torch")
    # the grader patched at import (compare, the record constructor, the writer): no effect
    assert "fail" in statuses("matmul")
    # an array-like is not an ndarray: an error saying what came back
    assert "error" in statuses("tanh") and "cheats.Stealer" in messages("tanh")
    # leaving, interrupting, hanging, eating memory: error records naming it
    expected = {"identity": "SystemExit", "leaky_relu": "exited with status 0",
                "elu": "KeyboardInterrupt", "softplus": "Leave: gone",
                "gelu": "stopped after 2 s (--check-timeout)", "selu": "MemoryError",
                "hardtanh": "killed by SIGSEGV"}
    for op, words in expected.items():
        assert statuses(op) == {"error"}, (op, messages(op))
        assert words in messages(op), (op, messages(op))
    for op in ("identity", "elu", "softplus", "gelu", "selu", "hardtanh"):
        assert "tests/hostile/" in messages(op), (op, messages(op))   # the learner's file:line
    # every check has records, and the grade is not a pass
    assert len(checks) == 30
    assert data["meta"]["grade"]["overall"]["percent"] < 100
    assert data["meta"]["partial"] is False
    # nothing the learner started is left: background processes and the report rewriter
    time.sleep(1.5)
    assert (report / "results.json").read_text() == written
    assert "forged" not in (report / "index.html").read_text()
    started = [int(p) for p in pids.read_text().split()] if pids.exists() else []
    assert started, "the module's background processes never ran"
    assert not [p for p in started if alive(p)]
    # the learner's module is imported by its own process only: never by the controller
    # nor by a worker (which run pytest)
    importers = (shared_dir / "imported_by").read_text().split()
    assert importers and all(a.endswith(os.path.join("oracle", "sandbox.py")) for a in importers)
    isolation = data["meta"]["isolation"]
    assert all(v.get("no_new_privs") for v in isolation.values())
    if IS_ROOT and not same_user:
        assert all(v.get("uid") not in (None, 0) for v in isolation.values())
    else:
        assert all(v.get("uid") is None and v.get("uid_why_not") for v in isolation.values())


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("module, words", [("exit_at_import.py", "SystemExit: 0"),
                                           ("os_exit_at_import.py", "exited with status 0")])
def test_an_exit_at_import_is_an_error_of_every_check(suite, tmp_path, mode, module, words):
    result = suite("--impl", hostile(module), *mode, "--op", "relu", "--oracle", "fd",
                   "--dtype", "float64", "-k", "batch1 or batch3x4", "--report-dir", str(tmp_path),
                   timeout=120)
    assert result.returncode == 1, result.stdout[-2000:]
    data = results(tmp_path)
    assert len(checks_of(data["records"])) == 2
    assert {r["status"] for r in data["records"]} == {"error"}
    assert all(words in r["message"] for r in data["records"])
    assert data["meta"]["grade"]["overall"]["passed"] == 0


def test_a_learner_module_named_impl_is_graded(suite, tmp_path):
    result = suite("--impl", hostile("impl.py"), "--op", "relu", "--oracle", "fd",
                   "--dtype", "float64", "-k", "batch1", "--report-dir", str(tmp_path))
    assert result.returncode == 1
    data = results(tmp_path)
    assert data["meta"]["is_answer_key"] is False
    assert {r["status"] for r in data["records"]} == {"fail"}


def test_two_packages_of_one_name_are_both_graded(suite, tmp_path):
    twins = os.path.join(HOSTILE, "twins")
    result = suite("--impl", os.path.join(twins, "a2", "cs231n"),
                   "--impl", os.path.join(twins, "a3", "cs231n"), "--op", "affine,tanh",
                   "--oracle", "fd", "--dtype", "float64", "-k", "batch1",
                   "--report-dir", str(tmp_path))
    assert result.returncode == 0, result.stdout[-2000:]
    data = results(tmp_path)
    assert {r["op"] for r in data["records"]} == {"affine", "tanh"}
    assert {r["status"] for r in data["records"]} == {"pass"}
    classes = data["meta"]["classes"]
    assert classes["Affine"]["file"].endswith(os.path.join("a2", "cs231n", "layers.py"))
    assert classes["Tanh"]["file"].endswith(os.path.join("a3", "cs231n", "rnn_layers.py"))


@pytest.mark.skipif(not IS_ROOT, reason="as the grader's own user the learner can signal it")
def test_as_root_the_learner_can_neither_signal_the_grader_nor_write_the_report(
        suite, tmp_path, monkeypatch):
    report = tmp_path / "report"
    report.mkdir()
    os.chmod(tmp_path, 0o755)
    monkeypatch.setenv("HOSTILE_REPORT", str(report))
    result = suite("--impl", hostile("signals_grader.py"), "--op", "relu", "--oracle", "fd",
                   "--dtype", "float64", "-k", "batch1", "--report-dir", str(report))
    assert result.returncode == 0, result.stdout[-2000:]
    assert not (report / "planted.txt").exists()
    assert results(report)["meta"]["isolation"]["uid"] not in (None, 0)


# -- the pieces --------------------------------------------------------------------
def test_the_wire_carries_plain_data_and_nothing_else():
    r, w = os.pipe()
    try:
        message = {"a": np.arange(6.0).reshape(2, 3), "b": [np.float32(1.5), None, "x"],
                   "c": np.zeros((0, 3), dtype=np.int64), "s": np.asarray(2.5)}
        message["b"][0] = np.asarray(message["b"][0])
        wire.write(w, message)
        back = wire.Reader(r).read(5)
        np.testing.assert_array_equal(back["a"], message["a"])
        assert back["s"].shape == () and back["c"].shape == (0, 3) and back["b"][1:] == [None, "x"]
        # an object array (a pickle) is refused, never unpickled; so are wrong sizes
        for ref, raw in [({"dtype": "|O", "shape": [1]}, b"\x80\x04N."),
                         ({"dtype": [("a", "<f8")], "shape": [1]}, bytes(8)),
                         ({"dtype": "<f8", "shape": [3]}, bytes(16))]:
            header = json.dumps({"n": 1, "body": dict(ref, __nd__=0)}).encode()
            os.write(w, struct.pack("<Q", len(header)) + header + struct.pack("<Q", len(raw)) + raw)
            with pytest.raises(wire.WireError):
                wire.Reader(r).read(5)
        with pytest.raises(TypeError):
            wire.encode({"x": np.array([None], dtype=object)})
        os.write(w, struct.pack("<Q", wire.MAX_HEADER + 1))
        with pytest.raises(wire.WireError, match="at most"):
            wire.Reader(r).read(5)
        with pytest.raises(wire.Timeout):
            wire.Reader(r).read(0.2)
    finally:
        os.close(r)
        os.close(w)


@pytest.mark.parametrize("value, what", [
    ([1.0, 2.0], "a list"), (np.array([1 + 2j]), "complex128"), (np.array([True]), "bool"),
    (np.array([object()], dtype=object), "object"), (3.5, "a float")])
def test_what_is_not_a_real_ndarray_is_invalid(value, what):
    result = party.validated(value)
    assert isinstance(result, party.Invalid) and what in result.what


def test_the_answer_key_works_on_copies():
    check = engine.Check("relu", "batch3x4", "torch", "cpu", "float64")
    data = engine.cast_data(engine.case_data("relu", "batch3x4", 0), "float64")
    dout = np.ones((3, 4))

    class Writes:
        class Relu:
            def forward(self, x):
                x[...] = 0
                return x

            def backward(self, dout):
                dout[...] = 7
                return dout
    before = data.inputs["x"].copy()
    result = party.InProcess(Writes).quantities(check, 0, data, dout)
    assert set(result) == {"out", "grad:x"}
    np.testing.assert_array_equal(data.inputs["x"], before)
    np.testing.assert_array_equal(dout, np.ones((3, 4)))


def test_a_sandbox_answers_describes_and_restarts():
    sandbox = party.Sandboxed(os.path.join(HERE, "learners", "answer_key_copy.py"), timeout=30)
    try:
        check = engine.Check("affine", "batch3", "fd", "cpu", "float64")
        data = engine.cast_data(engine.case_data("affine", "batch3", 0), "float64")
        dout = engine.upstream_gradient("affine", "batch3", 0, "float64")
        got = sandbox.quantities(check, 0, data, dout)
        want = party.ANSWER_KEY.quantities(check, 0, data, dout)
        assert set(got) == set(want)
        for k in want:
            np.testing.assert_array_equal(got[k], want[k])
        outs = sandbox.forwards(check, 0, data, "x", [data.inputs["x"], 2 * data.inputs["x"]])
        assert len(outs) == 2 and outs[0]["out"].shape == want["out"].shape
        described = sandbox.describe(["Affine", "NoSuchClass"])
        assert list(described) == ["Affine"] and described["Affine"]["answer_key"] == "is"
        first = sandbox.proc.pid
        os.killpg(first, 9)                    # dies between requests: restarted on the next
        sandbox.proc.wait()
        failed = sandbox.quantities(check, 0, data, dout)
        assert isinstance(failed, party.Failed) and "killed by SIGKILL" in failed.message
        again = sandbox.quantities(check, 0, data, dout)
        assert not isinstance(again, party.Failed) and sandbox.proc.pid != first
    finally:
        sandbox.close()
    assert sandbox.proc is None


def _processes_with(marker):
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/environ", "rb") as f:
                    if marker.encode() in f.read():
                        found.append(int(entry))
            except OSError:
                pass
    return found


def test_the_teachers_ctrl_c_still_stops_the_run(tmp_path):
    """SIGINT to the grader (the terminal's Ctrl-C) while learner code hangs: the run
    stops as interrupted, promptly, and the learner's process is gone with it."""
    import signal
    import subprocess
    import sys
    import uuid
    marker = f"BO_CTRL_C_TEST={uuid.uuid4().hex}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update([marker.split("=")])
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", "conformance", "-p", "no:cacheprovider", "-q",
         "--impl", os.path.join("tests", "learners", "hangs.py"), "--op", "relu", "-k", "batch1",
         "--oracle", "fd", "--dtype", "float64", "--check-timeout", "120",
         "--report-dir", str(tmp_path)], cwd=os.path.dirname(HERE), env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:   # until the learner's process is there
            if [p for p in _processes_with(marker) if p != proc.pid]:
                break
            time.sleep(0.2)
        time.sleep(2.0)                       # and inside the endless loop
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 2, out[-2000:]                 # pytest's "interrupted"
    assert not _processes_with(marker)
