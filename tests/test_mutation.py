"""No missed bugs: mutants of the answer key's backward passes are killed by the suite.

CI grades an explicit subset named in tools/ci_mutants.txt (by key: it does not shift
when an op or a line is added); `backprop-oracle mutate` grades them all (docs/trust.md).
The catalogue of mistakes (tests/test_catalogue.py) is the first measure; these source
mutants are the second.
"""
import ast
import os
import textwrap

import pytest

from backprop_oracle.tools import mutate

CI_LIST = os.path.join(os.path.dirname(mutate.__file__), "ci_mutants.txt")


def _ci_keys():
    with open(CI_LIST, encoding="utf-8") as f:
        return [line.strip() for line in f if line.strip() and not line.startswith("#")]


def _fixed_subset():
    by_key = {m.key: m for m in mutate.all_mutants()}
    return [by_key[k] for k in _ci_keys() if k in by_key]


def test_every_listed_mutant_exists():
    keys = {m.key for m in mutate.all_mutants()}
    stale = [k for k in _ci_keys() if k not in keys]
    assert not stale, f"tools/ci_mutants.txt names mutants that no longer exist (replace them): {stale}"


@pytest.mark.parametrize("mutant", _fixed_subset(), ids=lambda m: m.key)
def test_mutant_is_killed(mutant):
    allowlist = mutate.load_allowlist()
    _m, verdict, detail, _s = mutate.run_mutant(mutant)
    if mutant.key in allowlist:
        assert verdict == "survived", f"allowlisted as equivalent but {verdict}: {detail}"
    else:
        assert verdict == "killed", f"{mutant} survived [{detail}]"


def test_the_subset_covers_every_kind_of_mutation():
    kinds = {m.kind for m in _fixed_subset()}
    assert kinds == {"swap", "transpose", "axis", "sign", "scale", "drop"}
    functions = {m.function for m in _fixed_subset()}
    assert {"LeakyRelu.backward", "LSTMCell.backward", "_previous", "Adam.direction",
            "XavierNormal.std", "Initializer.bound"} <= functions
    modules = {m.file for m in _fixed_subset()}
    assert {f"impl/{name}.py" for name in ("activations", "graph", "init", "linear", "losses",
                                           "networks", "optim", "recurrent", "regularization")} <= modules


HIERARCHY = '''
import numpy as np

class Base:
    def backward(self, dout):
        return dout * self.derivative(self.x)

    def forward(self, x):
        self.x = x
        return self.function(x)


class Child(Base):
    def function(self, x):
        return x * x

    def derivative(self, x):
        return 2.0 * x


class Grandchild(Child):
    def backward(self, dout):
        return super().backward(dout) + self.extra(dout)

    def extra(self, dout):
        return dout - 1.0


class Opt:
    def update(self, params, grads):
        for k in params:
            params[k] -= 0.1 * grads[k]
'''


def test_methods_reached_through_the_class_hierarchy_are_mutated(tmp_path):
    """A backward in a base class that calls self.derivative reaches every subclass's
    derivative; super().backward reaches the base's; update is mutated as backward is."""
    path = tmp_path / "layers.py"
    path.write_text(textwrap.dedent(HIERARCHY))
    functions = {m.function for m in mutate.mutants_of(str(path))}
    assert {"Base.backward", "Child.derivative", "Grandchild.backward", "Grandchild.extra",
            "Opt.update"} <= functions
    assert "Child.function" not in functions and "Base.forward" not in functions


def test_an_equivalent_mutant_survives():
    """The grader does not kill a mutant for the wrong reason (a broken copy, a stale cache)."""
    equivalent = [m for m in mutate.all_mutants(["graph.py"])
                  if m.key.endswith("drop: dout * 1.0 -> dout")]
    assert equivalent
    _m, verdict, detail, _s = mutate.run_mutant(equivalent[0])
    assert verdict == "survived", detail


def test_every_allowlist_entry_names_a_current_mutant_and_gives_a_reason():
    allowlist = mutate.load_allowlist()
    mutants = mutate.all_mutants()
    keys = {m.key for m in mutants}
    functions = {(m.file, m.function) for m in mutants}
    # an entry for a function that is not here (yet) is kept; one whose function is here
    # but whose mutation no longer exists is stale
    stale = [k for k in allowlist if k not in keys
             and tuple(k.split(" | ")[:2]) in functions]
    assert not stale, f"tools/equivalent_mutants.txt names mutants that no longer exist: {stale}"
    assert all(len(reason) > 20 for reason in allowlist.values())


SNIPPET = '''
import numpy as np

def _helper(g):
    return g - 1.0

class Layer:
    def forward(self, x):
        return x * 2.0

    def backward(self, dout):
        """not mutated"""
        dW = self.x.T @ dout
        db = dout.sum(axis=0)
        acc = -dout
        acc += db
        return _helper(dW + db), acc
'''


def test_the_mutator_applies_each_operator_only_inside_backward(tmp_path):
    path = tmp_path / "layer.py"
    path.write_text(textwrap.dedent(SNIPPET))
    mutants = mutate.mutants_of(str(path))
    described = {(m.function, m.kind, m.before, m.after) for m in mutants}
    assert ("Layer.backward", "transpose", "self.x.T", "self.x") in described
    assert ("Layer.backward", "swap", "self.x.T @ dout", "dout @ self.x.T") in described
    assert ("Layer.backward", "axis", "dout.sum(axis=0)", "dout.sum(axis=1)") in described
    assert ("Layer.backward", "sign", "-dout", "dout") in described
    assert ("Layer.backward", "scale", "db = dout.sum(axis=0)", "db = 2.0 * dout.sum(axis=0)") in described
    assert ("Layer.backward", "drop", "dW + db", "dW") in described
    assert ("Layer.backward", "drop", "acc += db", "pass") in described
    assert ("_helper", "swap", "g - 1.0", "1.0 - g") in described
    assert not any(m.function == "Layer.forward" for m in mutants)
    # each mutant is the original with one change, and still valid Python
    original = ast.unparse(ast.parse(path.read_text()))
    for m in mutants:
        source = mutate.mutated_source(m)
        compile(source, str(path), "exec")
        assert source != original and m.after in source


def test_a_mutant_touches_only_the_ops_of_its_class():
    from backprop_oracle import impl
    affine = [m for m in mutate.all_mutants(["linear.py"]) if m.function == "Affine.backward"]
    ops = mutate.affected_ops(affine[0], impl)
    assert ops[0] == "affine" and "mlp" not in ops and "relu" not in ops
