"""The Python API: grade() and check() give the pytest run's records, through the same
engine and the same kind of sandbox, and say what is wrong in text and HTML."""
import os
import subprocess
import sys

import numpy as np
import pytest

import backprop_oracle as bo
from backprop_oracle.impl import Affine as _Affine, Relu as _Relu, Sigmoid as _Sigmoid
from tests.conftest import ROOT, run_suite


LEARNERS = os.path.join(ROOT, "tests", "learners")
FAST = {"oracles": "fd", "dtypes": "float64"}     # no framework: quick, and exact


class TransposedAffine(_Affine):
    """dW = dout^T x: the transpose of x^T dout (as a notebook cell would define it)."""

    def backward(self, dout):
        dx = super().backward(dout)
        x2 = self.x.reshape(-1, self.x.shape[-1])
        self.grads["W"] = dout.reshape(-1, dout.shape[-1]).T @ x2
        return dx


def test_grade_a_dict_of_classes_names_the_planted_mistake():
    result = bo.grade({"Affine": TransposedAffine, "Relu": _Relu}, ops=["affine", "relu"], **FAST)
    assert not result.ok and 0 < result.passed < result.attempted
    affine = result["affine"]
    assert affine.status == "fail" and affine.passed == 0 and affine.attempted > 0
    assert affine.quantities["grad:W"].status == "fail"
    assert affine.quantities["grad:x"].status == "pass" and "out" not in affine.quantities  # fd: gradients
    assert result["relu"].status == "pass" and result["relu"].passed == result["relu"].attempted
    whats = [p.what for p in result.problems]
    assert whats and all(p.op == "affine" and p.quantities == ["grad:W"] for p in result.problems)
    assert all("transpose" in w for w in whats), whats
    assert result.diagnoses["affine"] == whats
    assert result.quantities["affine"]["grad:W"].status == "fail"
    assert "transpose" in result.quantities["affine"]["grad:W"].diagnoses[0]
    text = str(result)
    assert "transpose" in text and "affine" in text and "grad:W" in text
    assert f"{result.passed}/{result.attempted} checks passed" in text
    page = result._repr_html_()
    assert "<table" in page and "transpose" in page and "grad:W" in page
    assert "bo-result" in page and "<body" not in page        # a fragment for one cell


def test_grade_records_are_the_pytest_runs(tmp_path):
    """The same engine: the records of grade() are those of `pytest conformance --impl`."""
    path = os.path.join(LEARNERS, "mistake_sign.py")
    ops, oracles = "sigmoid,affine", "fd,golden"
    done = run_suite("--impl", path, "--op", ops, "--oracle", oracles, "--dtype", "float64",
                     "-n", "0", "--report-dir", str(tmp_path))
    assert done.returncode == 1, done.stdout[-2000:]    # sigmoid's sign is wrong
    suite = bo.load_results(tmp_path / "results.json")["records"]
    api = bo.grade(path, ops=ops, oracles=oracles, dtypes="float64").records
    key = lambda r: (r["op"], r["case"], r["oracle"], r["device"], r["dtype"], r["quantity"])
    fields = ("status", "diagnosis", "worst_index", "atol", "rtol", "tolerance")
    assert sorted(map(key, api)) == sorted(map(key, suite))
    by_key = {key(r): r for r in suite}
    for r in api:
        other = by_key[key(r)]
        assert {f: r[f] for f in fields} == {f: other[f] for f in fields}, key(r)
        if r["margin"] is not None:
            assert r["margin"] == pytest.approx(other["margin"], rel=1e-5), key(r)   # 6 digits on disk
    assert any(r["status"] == "fail" and r["diagnosis"].startswith("sign flipped") for r in api)


def test_classes_that_exist_only_in_this_process_are_graded_as_they_are():
    """A notebook's class refers to its own globals and helpers: the fork holds them all."""
    factor = {"value": 1.0}

    def scale(g):                    # a helper of the notebook, used by its class
        return g * factor["value"]

    class Sigmoid(_Sigmoid):
        def backward(self, dout):
            return scale(super().backward(dout))

    assert bo.grade({"Sigmoid": Sigmoid}, ops="sigmoid", **FAST).ok
    factor["value"] = 2.0            # the learner edits a cell and grades again
    again = bo.grade({"Sigmoid": Sigmoid}, ops="sigmoid", **FAST)
    assert not again.ok
    assert any("factor of 2" in p.what for p in again.problems), [p.what for p in again.problems]


SEEN_IN_THE_CHILD = []


def test_the_implementation_runs_in_a_process_of_its_own():
    class Relu(_Relu):
        def forward(self, x):
            SEEN_IN_THE_CHILD.append(os.getpid())      # a write the grader must not see
            x[...] = 0.0                                # nor this one, to its case arrays
            return super().forward(x)

    result = bo.grade({"Relu": Relu}, ops="relu", **FAST)
    assert SEEN_IN_THE_CHILD == []
    assert result.attempted      # (zeros in, zeros out: consistent, so it even passes fd)
    assert result.meta["isolation"]["isolation"].startswith("a process of its own")
    again = bo.grade({"Relu": _Relu}, ops="relu", **FAST)   # the cached case arrays are intact
    assert again.ok


def _children():
    pid = str(os.getpid())
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            if stat[stat.rindex(")") + 2:].split()[1] == pid:
                found.append(int(entry))
    return found


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc to count processes")
def test_a_crash_or_a_hang_is_an_error_record_and_leaves_no_process():
    before = set(_children())
    crashed = bo.grade(os.path.join(LEARNERS, "crashes.py"), ops="relu,affine", **FAST)
    hung = bo.grade(os.path.join(LEARNERS, "hangs.py"), ops="relu", timeout=1, **FAST)
    for result, says in ((crashed, "process died"), (hung, "stopped after 1 s")):
        relu = result["relu"]
        assert relu.status == "fail" and relu.passed == 0
        assert all(says in p.what for p in relu.problems), [p.what for p in relu.problems]
    assert crashed["affine"].status == "pass"     # a fresh process for the next check
    assert set(_children()) <= before


def test_a_hang_in_a_notebook_class_names_its_line():
    class Relu(_Relu):
        def backward(self, dout):
            while True:
                dout = dout + 0.0

    result = bo.grade({"Relu": Relu}, ops="relu", timeout=1, **FAST)
    message = next(r["message"] for r in result.records if r["status"] == "error")
    # the frame it was stuck in (the line within it is the interpreter's: the loop's own
    # line, or under load the function's, where the loop's jump back is attributed)
    stuck = [ln for ln in message.splitlines() if "test_api.py:" in ln and " in backward: " in ln]
    assert stuck, message
    assert "Timeout: stopped after 1 s (timeout=)" in message
    assert "forked.py" not in message and "api.py:" not in message.replace("test_api.py:", "")


def test_the_memory_limit_holds_beyond_what_the_fork_starts_with():
    class Relu(_Relu):
        def backward(self, dout):
            np.ones(2 ** 31)                 # 16 GiB
            return super().backward(dout)

    result = bo.grade({"Relu": Relu}, ops="relu", memory_bytes=2 ** 30, **FAST)
    messages = [r["message"] for r in result.records if r["status"] == "error"]
    assert messages and all("MemoryError" in m and "memory limit: 1 GiB" in m for m in messages)
    assert bo.grade({"Relu": _Relu}, ops="relu", memory_bytes=2 ** 30, **FAST).ok


def test_a_file_is_graded_from_disk_as_it_is_now(tmp_path, monkeypatch):
    """The fork does not reuse what this process imported from the submission's folder:
    a helper edited after the notebook imported it is graded as edited."""
    (tmp_path / "bo_helper_mod.py").write_text("FACTOR = 1.0\n")
    (tmp_path / "mine.py").write_text(
        "from backprop_oracle.impl import Sigmoid as _S\nimport bo_helper_mod\n"
        "class Sigmoid(_S):\n    def backward(self, dout):\n"
        "        return bo_helper_mod.FACTOR * super().backward(dout)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import bo_helper_mod                        # imported here, as a notebook would
    assert bo_helper_mod.FACTOR == 1.0
    (tmp_path / "bo_helper_mod.py").write_text("FACTOR = 2.0\n")
    result = bo.grade(str(tmp_path / "mine.py"), ops="sigmoid", **FAST)
    assert any("factor of 2" in p.what for p in result.problems), str(result)


def test_what_comes_back_is_validated():
    class Relu(_Relu):
        def backward(self, dout):
            return super().backward(dout).tolist()      # a list, not an ndarray

    result = bo.grade({"Relu": Relu}, ops="relu", **FAST)
    errors = [r for r in result.records if r["status"] == "error"]
    assert errors and all("a list" in r["message"] for r in errors), errors[:1]


def test_nothing_written_is_not_attempted_never_a_failure():
    result = bo.grade({}, ops="affine,relu", **FAST)
    assert result.attempted == 0 and result.passed == 0 and not result.ok
    assert {o.status for o in result.ops.values()} == {"not_attempted"}
    assert "nothing attempted" in str(result)
    assert "not attempted" in result._repr_html_() or "nothing attempted" in result._repr_html_()


def test_the_answer_key_and_a_module_object():
    assert bo.grade(None, ops="affine,mul", oracles="fd,golden", dtypes="float64").ok
    import importlib.util
    spec = importlib.util.spec_from_file_location("learner_zero", os.path.join(LEARNERS, "mistake_zero.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = bo.grade(module, **FAST, ops=_planted_op(module))
    assert not result.ok and result.problems


def _planted_op(module):
    """The op whose class the planted module overrides (its own, not the answer key's)."""
    from backprop_oracle.oracle import registry
    own = {name for name, v in vars(module).items()
           if isinstance(v, type) and v.__module__ == module.__name__}
    return [s.name for s in registry.all_specs() if s.impl in own][:1]


@pytest.mark.parametrize("call, says", [
    (lambda: bo.grade({}, ops="affline"), "ops: unknown 'affline'; expected some of"),
    (lambda: bo.grade({}, oracles="torch,tf"), "oracles"),
    (lambda: bo.grade({}, dtypes="float16"), "dtypes"),
    (lambda: bo.grade({}, style="keras"), "style"),
    (lambda: bo.grade(42), "impl: expected a module"),
    (lambda: bo.grade("no/such/file.py"), "no such file"),
])
def test_wrong_arguments_are_refused_by_name(call, says):
    with pytest.raises((ValueError, TypeError, FileNotFoundError)) as err:
        call()
    assert says in str(err.value)


def test_a_second_call_reuses_this_process():
    """Frameworks and the harness stay loaded: the second call starts no Python (timed in
    benchmarks/bench_api.py, never here)."""
    first = bo.grade({"Affine": TransposedAffine}, ops="affine", **FAST)
    second = bo.grade({"Affine": TransposedAffine}, ops="affine", **FAST)
    strip = lambda rs: [{k: v for k, v in r.items() if k != "seconds"} for r in rs]
    assert strip(first.records) == strip(second.records)
    assert second.meta["isolation"]["started_by"].startswith("os.fork()")


def test_result_write_gives_the_report(tmp_path):
    pytest.importorskip("jinja2")
    result = bo.grade({"Affine": TransposedAffine}, ops="affine", **FAST)
    index = result.write(str(tmp_path))
    data = bo.load_results(tmp_path / "results.json")
    assert data["schema"] == 2 and len(data["records"]) == len(result.records)
    assert data["meta"]["grade"]["overall"]["attempted"] == result.attempted
    page = open(index, encoding="utf-8").read()
    assert "affine" in page and "transpose" in page


# -- check() ----------------------------------------------------------------------------
rng = np.random.default_rng(7)
X, W, B = rng.standard_normal((4, 3)), rng.standard_normal((3, 2)), rng.standard_normal(2)


def affine(x, W, b):
    return x @ W + b


def affine_backward(dout, x, W, b):
    return dout @ W.T, x.T @ dout, dout.sum(axis=0)


def test_check_a_right_pair_passes_and_a_wrong_one_is_diagnosed():
    good = bo.check(affine, affine_backward, {"x": X}, {"W": W, "b": B})
    assert good.ok and good.attempted == 2          # fd in float64 and float32
    assert set(good["affine"].quantities) == {"grad:x", "grad:W", "grad:b"}

    def not_summed(dout, x, W, b):
        return dout @ W.T, x.T @ dout, dout
    bad = bo.check(affine, not_summed, {"x": X}, {"W": W, "b": B}, dtypes="float64")
    assert not bad.ok
    (problem,) = bad.problems
    assert problem.quantities == ["grad:b"] and problem.what.startswith("not summed over the batch")
    assert "not summed" in str(bad) and "not summed" in bad._repr_html_()


def test_check_names_a_factor_of_the_batch_size():
    def mean_square(x):
        return (x ** 2).sum() / x.shape[0]

    def forgot_the_mean(dout, x):
        return dout * 2 * x
    result = bo.check(mean_square, forgot_the_mean, {"x": X}, dtypes="float64")
    assert any("batch size N=4" in p.what for p in result.problems), [p.what for p in result.problems]


def test_check_in_cs231n_style_with_a_cache_and_labels():
    def relu_forward(x):
        return np.maximum(0, x), x

    def relu_backward(dout, cache):
        return dout * (cache > 0)
    assert bo.check(relu_forward, relu_backward, {"x": X}, cache=True).ok

    def svm(x, y, margin=1.0):
        m = np.maximum(0, x - x[np.arange(len(y)), y][:, None] + margin)
        m[np.arange(len(y)), y] = 0
        return m.sum() / len(y)

    def svm_backward(dout, x, y, margin=1.0):
        m = (x - x[np.arange(len(y)), y][:, None] + margin > 0).astype(float)
        m[np.arange(len(y)), y] = 0
        m[np.arange(len(y)), y] = -m.sum(axis=1)
        return {"x": dout * m / len(y)}
    result = bo.check(svm, svm_backward, {"x": X}, extra={"y": np.array([0, 2, 1, 1])},
                      hparams={"margin": 0.5})
    assert result.ok, str(result)


def test_check_the_same_name_twice_with_other_shapes():
    """Nothing cached for one call (case data, dout) answers for the next."""
    for shape in ((4, 3), (2, 5)):
        x = rng.standard_normal(shape)
        result = bo.check(np.tanh, lambda dout, x: dout * (1 - np.tanh(x) ** 2), {"x": x},
                          name="tanh", dtypes="float64")
        assert result.ok and result.records[0]["op"] == "tanh"


def test_check_errors_of_the_pair_are_records_with_its_own_line():
    def two_instead_of_three(dout, x, W, b):
        return dout @ W.T, x.T @ dout
    result = bo.check(affine, two_instead_of_three, {"x": X}, {"W": W, "b": B}, dtypes="float64")
    (problem,) = result.problems
    assert problem.status == "error" and "must return 3 gradients (x, W, b)" in problem.what

    def raises(x):
        raise ValueError("boom")
    result = bo.check(raises, lambda dout, x: dout, {"x": X}, dtypes="float64")
    (problem,) = result.problems
    assert problem.what == "ValueError: boom"
    assert "test_api.py" in problem.detail and "api.py:" not in problem.detail.replace("test_api.py", "")


def test_check_tolerance_given_is_recorded():
    result = bo.check(affine, affine_backward, {"x": X}, {"W": W, "b": B}, rtol=1e-3, atol=1e-3,
                      dtypes="float64")
    assert {r["tolerance"] for r in result.records} == {"override: given to check()"}


@pytest.mark.parametrize("kwargs, error, says", [
    ({"inputs": {"y": np.array([1, 2])}}, TypeError, "extra="),
    ({"inputs": {"x": X}, "params": {"x": W}}, ValueError, "names used twice"),
    ({"inputs": {}}, ValueError, "at least one"),
    ({"inputs": {"x": X}, "oracles": "torch"}, ValueError, "no reference function"),
    ({"inputs": {"x": X}, "rtol": 1e-3}, ValueError, "both rtol and atol"),
])
def test_check_refuses_what_it_cannot_check(kwargs, error, says):
    with pytest.raises(error) as err:
        bo.check(np.tanh, lambda dout, x: dout, **kwargs)
    assert says in str(err.value)


def test_check_against_torch_and_jax_references():
    torch = pytest.importorskip("torch")
    jnp = pytest.importorskip("jax.numpy")
    result = bo.check(affine, affine_backward, {"x": X}, {"W": W, "b": B},
                      torch=lambda x, W, b: x @ W + b, jax=lambda x, W, b: jnp.dot(x, W) + b,
                      dtypes="float64")
    assert result.ok, str(result)
    assert {r["oracle"] for r in result.records} >= {"fd", "torch", "jax"}
    assert all(r["status"] == "pass" for r in result.records if r["oracle"] == "torch")

    def wrong_softplus_backward(dout, x):
        return dout / (1 + np.exp(x))        # sigmoid(-x): the sign of x flipped
    result = bo.check(lambda x: np.log1p(np.exp(x)), wrong_softplus_backward, {"x": X},
                      torch=torch.nn.functional.softplus, name="softplus", dtypes="float64")
    assert {r["oracle"] for r in result.records if r["status"] == "fail"} == {"fd", "torch"}


# -- the package's face --------------------------------------------------------------------
def test_the_api_is_exported_and_importing_the_package_stays_light():
    for name in bo.__all__:
        assert getattr(bo, name) is not None
    code = ("import sys, backprop_oracle; "
            "print(sorted(m for m in ('torch', 'jax', 'backprop_oracle.api') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


def test_a_result_in_japanese(tmp_path):
    result = bo.grade({"Affine": TransposedAffine}, ops="affine", lang="ja", **FAST)
    text = str(result)
    assert "チェック合格" in text and "問題" in text and "不合格" in text
    said = [r["diagnosis_ja"] for r in result.records if r.get("diagnosis_ja")]
    assert said and said[0].split(":")[0] in text          # the diagnosis, in Japanese
    html = result._repr_html_()
    assert "何が違うか" in html and "what is wrong" not in html
    index = result.write(str(tmp_path))
    assert '<html lang="ja">' in open(index, encoding="utf-8").read()
    english = bo.grade({"Affine": TransposedAffine}, ops="affine", lang="en", **FAST)
    assert "checks passed" in str(english) and "what is wrong" in english._repr_html_()
    with pytest.raises(ValueError, match="lang: expected one of en, ja, got 'fr'"):
        bo.grade({"Affine": TransposedAffine}, ops="affine", lang="fr", **FAST)


def test_the_reports_rerun_commands_grade_the_same_way(tmp_path):
    path = os.path.join(LEARNERS, "mistake_sign.py")
    result = bo.grade(path, ops="sigmoid", oracles="fd", dtypes="float64", seed=3, lang="en")
    assert result.meta["rerun_options"] == ["--impl", path, "--seed", "3", "--oracle", "fd",
                                            "--dtype", "float64", "--lang", "en"]
    index = open(result.write(str(tmp_path)), encoding="utf-8").read()
    assert "--seed 3" in index and "--oracle fd" in index
    in_memory = bo.grade({"Affine": TransposedAffine}, ops="affine", **FAST)
    assert "rerun_options" not in in_memory.meta       # no command can name a notebook's classes
