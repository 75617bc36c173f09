"""The learner template: written from impl.__all__, and graded unchanged it is all
"not attempted", nothing red."""
import ast
import inspect
import os
import subprocess
import sys

import numpy as np
import pytest

from backprop_oracle import impl
from backprop_oracle.conformance.template import make_template, template_classes, template_functions
from tests.conftest import ROOT
from backprop_oracle.reports.model import load_results

SMALL_SELECTION = "add,mul,affine,relu,softmax,softmax_cross_entropy,mse,mlp"


def test_every_class_of_impl_is_in_the_template_with_its_docstring():
    text = make_template("my_layers.py")
    names = [c.__name__ for c in template_classes()]
    functions = [f.__name__ for f in template_functions()]
    assert "Affine" in names and "Layer" not in names and "ShapeError" not in names
    assert set(names + functions) == set(impl.__all__) - {"Layer", "ShapeError", "StackedRecurrent"}
    assert "\nclass StackedRecurrent(Layer):" in text                 # given whole: plumbing
    for name in names:
        assert f"\nclass {name}(" in text or f"\nclass {name}:" in text
    for name in functions:
        assert f"\ndef {name}(" in text
    assert "def __init__(self, W, b):" in text                       # the constructor signature
    assert "dW = x^T dout" in text                                    # the formula of the docstring
    assert text.count("raise NotImplementedError") >= len(names)
    compile(text, "my_layers.py", "exec")


@pytest.mark.parametrize("with_forward", [False, True])
def test_the_template_is_self_contained(tmp_path, with_forward):
    """Nothing of the answer key is imported; every class the learner writes is a class of
    its own, deriving only from classes of the template; the module keeps its __name__."""
    from backprop_oracle.conformance.loading import load_implementation

    text = make_template("mine.py", with_forward=with_forward)
    tree = ast.parse(text)
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert imported <= {"numpy", "math", "re", "contextlib", "functools", "itertools"}, imported
    assert "backprop_oracle" not in text and "impl." not in text
    defined = {n.name for n in tree.body if isinstance(n, ast.ClassDef)}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            assert {b.id for b in node.bases} <= defined | {"ValueError"}, node.name
    path = tmp_path / "mine.py"
    path.write_text(text)
    module = load_implementation(str(path))
    for cls in template_classes():
        mine = getattr(module, cls.__name__)
        assert mine.__module__ == module.__name__, (cls.__name__, mine.__module__)
        if hasattr(cls, "backward"):            # its own stub, or one of a class of the template
            owner = next(c for c in inspect.getmro(mine) if "backward" in c.__dict__)
            assert owner.__module__ == module.__name__ and owner.__name__ != "Layer", cls.__name__
        for base in inspect.getmro(mine)[1:]:
            assert base.__module__ in (module.__name__, "builtins"), (cls.__name__, base)


def test_no_method_a_learner_writes_is_copied():
    """Only constructors (and forward, when asked) are copied: every backward, and every
    private helper the answer key's backward calls, is left out."""
    text = make_template("mine.py", with_forward=True)
    tree = ast.parse(text)
    for node in tree.body:
        if not isinstance(node, ast.ClassDef) or node.name in ("Layer", "ShapeError", "StackedRecurrent"):
            continue
        for item in node.body:
            if isinstance(item, ast.FunctionDef) and item.name == "backward":
                assert isinstance(item.body[-1], ast.Raise), f"{node.name}.backward is copied"
    assert "sum_t delta^t^T z^{t-1}" not in text.split("class RNN(Layer):")[1].split("class LSTMCell")[0].split('"""', 2)[2]
    assert "da[t, :, :H] = dc * g * i * (1 - i)" not in text   # LSTM's BPTT


def test_the_japanese_template_says_it_in_japanese():
    text = make_template("mine.py", lang="ja")
    assert "自分のレイヤー" in text and "未実装" in text and "--lang ja" in text
    assert "class LSTM(Layer):" in text and text.count("raise NotImplementedError") == \
        make_template("mine.py").count("raise NotImplementedError")          # the same code
    with pytest.raises(ValueError, match="lang"):
        make_template("mine.py", lang="fr")


def test_with_forward_copies_forward_and_leaves_backward():
    text = make_template("my_layers.py", with_forward=True)
    assert "return x @ self.params[\"W\"] + self.params[\"b\"]" in text
    namespace = {}
    exec(compile(text, "my_layers.py", "exec"), namespace)
    layer = namespace["Affine"](np.ones((2, 3)), np.zeros(3))
    assert layer.forward(np.ones((4, 2))).shape == (4, 3)
    with pytest.raises(NotImplementedError):
        layer.backward(np.ones((4, 3)))


@pytest.mark.parametrize("options", [[], ["--with-forward"]])
def test_the_unchanged_template_runs_cleanly(suite, tmp_path, options):
    out = tmp_path / "my_layers.py"
    made = subprocess.run([sys.executable, "-m", "backprop_oracle.cli", "template", str(out), *options],
                          cwd=ROOT, capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    result = suite("--impl", str(out), "--op", SMALL_SELECTION, "--oracle", "fd,golden",
                   "--dtype", "float64", "--report-dir", str(tmp_path / "report"))
    assert result.returncode == 0, result.stdout[-3000:]
    records = load_results(tmp_path / "report" / "results.json")["records"]
    assert records
    attempted = [r for r in records if r["status"] != "skipped"]   # fd on a kink case is skipped
    assert attempted and all(r["status"] == "not_attempted" for r in attempted), \
        {(r["op"], r["status"]) for r in attempted if r["status"] != "not_attempted"}
    assert {r["op"] for r in records} == set(SMALL_SELECTION.split(","))
    assert "nothing attempted" in result.stdout
    page = (tmp_path / "report" / "ops" / "affine.html").read_text()
    assert "def backward(self, dout):\n        raise NotImplementedError" in page   # the learner's own source


def test_the_template_command_refuses_to_overwrite(tmp_path):
    out = tmp_path / "mine.py"
    out.write_text("# my work\n")
    made = subprocess.run([sys.executable, "-m", "backprop_oracle.cli", "template", str(out)],
                          cwd=ROOT, capture_output=True, text=True)
    assert made.returncode != 0 and "exists" in made.stderr
    assert out.read_text() == "# my work\n"


@pytest.mark.parametrize("with_forward", [False, True])
def test_the_unchanged_template_attempts_no_op_of_the_registry(tmp_path, with_forward):
    """Every op, present and future: the template is not attempted, never an error."""
    from backprop_oracle.conformance.loading import load_implementation
    from backprop_oracle.oracle import registry
    from backprop_oracle.oracle.engine import all_checks, run_check

    path = tmp_path / f"template_{int(with_forward)}.py"
    path.write_text(make_template(path.name, with_forward=with_forward))
    module = load_implementation(str(path))
    checks = all_checks(registry.all_specs(), ("fd", "golden"), ("cpu",), ("float64",))
    records = [r for c in checks for r in run_check(c, module)]
    wrong = {(r["op"], r["status"], r["message"][:200]) for r in records
             if r["status"] not in ("not_attempted", "skipped")}
    assert not wrong


def test_a_learners_one_layer_lstm_is_checked_stacked_through_the_given_stack(tmp_path):
    """Fill in the template's LSTM with a correct one-layer, one-direction forward and
    backward (the answer key's): every case of the lstm op passes, the stacked,
    bidirectional and variable-length ones included, through the template's own
    StackedRecurrent built from the learner's class."""
    from backprop_oracle.conformance.loading import load_implementation
    from backprop_oracle.oracle import registry
    from backprop_oracle.oracle.engine import Check, run_check

    path = tmp_path / "mine.py"
    path.write_text(make_template(path.name))
    module = load_implementation(str(path))
    module.LSTM.forward, module.LSTM.backward = impl.LSTM.forward, impl.LSTM.backward
    stacked = module.LSTM(num_layers=2, bidirectional=True, **{
        k: v for k, v in __import__("backprop_oracle.oracle.engine", fromlist=["case_data"])
        .case_data("lstm", "stacked_bidirectional", 0).params.items()})
    assert type(stacked).__module__ == module.__name__ and stacked.cls is module.LSTM
    for case in registry.get("lstm").cases:
        records = [r for r in run_check(Check("lstm", case.name, "torch", "cpu", "float64"), module)
                   if r["oracle"] == "torch"]
        assert records and all(r["status"] == "pass" for r in records), (case.name, records[:1])


def test_the_template_command_writes_japanese_instructions_with_lang_ja(tmp_path):
    out = tmp_path / "mine.py"
    made = subprocess.run([sys.executable, "-m", "backprop_oracle.cli", "template", str(out),
                           "--lang", "ja"], cwd=ROOT, capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    assert "採点するには" in made.stdout and "--lang ja" in made.stdout
    text = out.read_text(encoding="utf-8")
    assert "自分のレイヤー" in text and "--lang ja" in text.split('"""')[1]
    english = subprocess.run([sys.executable, "-m", "backprop_oracle.cli", "template",
                              str(tmp_path / "en.py")], cwd=ROOT, capture_output=True, text=True,
                             env={**os.environ, "LANG": "C.UTF-8", "LC_ALL": ""})
    assert english.returncode == 0 and "grade it with" in english.stdout
