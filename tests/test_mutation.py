"""No missed bugs: mutants of the answer key's backward passes are killed by the suite.

CI grades a small fixed subset (the first mutant of each kind in each core module);
`backprop-oracle mutate` grades them all (docs/trust.md).
"""
import ast
import textwrap

import pytest

from backprop_oracle.tools import mutate

CORE = ("graph.py", "linear.py", "activations.py", "losses.py", "networks.py")


def _fixed_subset():
    """The first mutant of each kind in each core module: small, and follows the code."""
    chosen = {}
    for m in mutate.all_mutants(CORE):
        chosen.setdefault((m.file, m.kind), m)
    return list(chosen.values())


@pytest.mark.parametrize("mutant", _fixed_subset(), ids=str)
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
