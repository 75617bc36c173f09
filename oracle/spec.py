"""Op specs: the single source of truth for one op.

An OpSpec says which class of the implementation it exercises, how to make its
cases, how torch and jax compute the same thing, the formulas (LaTeX, for the
report), the convention it follows, and any tolerance override with its reason.
Every oracle, report column and teaching page follows from it.

Layer ops need only `torch` and `jax` functions of the form

    fn(arrays: dict[name, tensor], extra: dict[name, value], hp: dict) -> output

where `arrays` holds the differentiable inputs and the parameters (the names of
CaseData.inputs and CaseData.params), `extra` the non-differentiable forward
arguments (labels, masks), and `hp` the case's hyperparameters. A function may
return (output, {name: tensor}) to have extra outputs (running statistics, say)
checked as the quantities "out:<name>". Ops that are not layers (optimizer
steps, initializers) give their own runners instead (`runners`).
"""
from dataclasses import dataclass, field
from typing import Callable, Optional

ORACLES = ("torch", "jax", "fd", "golden")


@dataclass
class CaseData:
    """Arrays of one case, in float64; the harness casts them to the checked dtype.

    inputs: differentiable positional arguments of forward, in order.
    params: arrays given to the constructor (differentiable; gradients in layer.grads).
    extra:  non-differentiable positional arguments of forward after the inputs.
    """
    inputs: dict
    params: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    """A named, seeded case. `make(rng)` returns CaseData; hparams go to the constructor.

    `oracles` restricts which witnesses check it (e.g. a case sitting exactly on a
    kink is checked by torch and jax, never by finite differences) and `why`
    says why it exists (shown in the report; `why_ja` the same in Japanese).

    `upstream` names extra outputs (as returned in "out:<name>", e.g. ("h_n", "c_n"))
    that receive an upstream gradient of their own in this case: every witness sees
    it, and backward gets them after dout, in this order: backward(dout, dh_n, dc_n).

    `constants` names arrays of CaseData.extra that forward takes as arguments which the
    op's other cases differentiate (c0 = 0 held constant): no witness differentiates
    them, and forward gets them by keyword (forward(x, h0, c0=c0)), so that a layer can
    tell them from a differentiable input; backward returns their gradients after the
    inputs' all the same (the answer key's (dx, dh0, dc0)), which are not checked.
    They are the last arrays of extra.

    `optional` names extra outputs ("out:<name>") checked only where the layer keeps them:
    one that a layer lacks (a style whose function returns no c_T) gets a skipped record.
    """
    name: str
    make: Callable
    hparams: dict = field(default_factory=dict)
    oracles: Optional[tuple] = None
    why: str = ""
    upstream: tuple = ()
    why_ja: str = ""
    constants: tuple = ()
    optional: tuple = ()


@dataclass(frozen=True)
class Golden:
    """A worked example from the teaching notes with the answers they print.

    `run(module)` builds the example from the module's layers, the way the notes
    do by hand, and returns {quantity: value}; `expected` holds the printed values.
    """
    name: str
    run: Callable
    expected: dict
    source: str = ""


@dataclass(frozen=True)
class Mistake:
    """A mistake people make writing this op, as the computation the mistaken code does.

    Give either `layer`, a subclass of the answer key's class with the mistake written
    into it (run exactly as the class under test is run), or `compute`, a function
    (CaseData, hp, dout) -> {quantity: array} of the quantities the mistake changes.
    `says` is one plain sentence naming the mistake and its fix, e.g. "Adam without
    bias correction: divide m and v by 1 - beta^t"; `says_ja` the same in Japanese.
    On a failure the diagnosis names the entry whose result matches the learner's.
    """
    name: str
    says: str
    layer: Optional[type] = None
    compute: Optional[Callable] = None
    says_ja: str = ""

    def __post_init__(self):
        if (self.layer is None) == (self.compute is None):
            raise ValueError(f"mistake {self.name!r}: give exactly one of `layer` or `compute`")


@dataclass(frozen=True)
class Override:
    """A tolerance that departs from the policy table, and why (`reason_ja`: in Japanese)."""
    rtol: float
    atol: float
    reason: str
    reason_ja: str = ""


@dataclass
class OpSpec:
    name: str
    family: str
    impl: str                                   # class name in the implementation module
    cases: list
    torch: Optional[Callable] = None
    jax: Optional[Callable] = None
    formulas: dict = field(default_factory=dict)  # {"forward": latex, "backward": latex}
    convention: str = ""
    overrides: dict = field(default_factory=dict)  # "oracle" or "oracle/dtype" -> Override
    unavailable: dict = field(default_factory=dict)  # oracle -> why it cannot check this op
    golden: list = field(default_factory=list)
    impl_extras: Optional[Callable] = None     # layer -> {name: array} for "out:<name>"
    runners: dict = field(default_factory=dict)  # oracle -> custom runner (non-layer ops)
    hints: Optional[Callable] = None           # (CaseData, hp) -> facts for the diagnosis
    mistakes: list = field(default_factory=list)  # Mistake entries: the mistakes people make
    doc: str = ""
    # (CaseData, hp) -> the shape of dout, for an op the answer key has no class for
    # (backprop_oracle.check); None: the shape of the answer key's forward output
    upstream_shape: Optional[Callable] = None
    # the report in Japanese: the convention and the unavailable reasons in Japanese
    # (English where a text has none)
    convention_ja: str = ""
    unavailable_ja: dict = field(default_factory=dict)  # oracle -> why, in Japanese

    def __post_init__(self):
        names = [c.name for c in self.cases]
        if len(set(names)) != len(names):
            raise ValueError(f"op {self.name!r}: case names must be unique, got {names}")
        mistakes = [m.name for m in self.mistakes]
        if len(set(mistakes)) != len(mistakes):
            raise ValueError(f"op {self.name!r}: mistake names must be unique, got {mistakes}")
        for oracle in ("torch", "jax"):
            if getattr(self, oracle) is None and oracle not in self.runners \
                    and oracle not in self.unavailable:
                raise ValueError(f"op {self.name!r}: no {oracle} reference and no reason "
                                 f"in `unavailable` for its absence")

    def case(self, name):
        for c in self.cases:
            if c.name == name:
                return c
        for g in self.golden:
            if g.name == name:
                return g
        raise KeyError(f"op {self.name!r} has no case {name!r}")

    def applies(self, case, oracle):
        """Whether `oracle` checks this case; the reason when it does not."""
        if oracle == "golden":
            return isinstance(case, Golden), "golden cases only"
        if isinstance(case, Golden):
            return False, "a golden case is checked against its printed values"
        if oracle in self.unavailable:
            return False, self.unavailable[oracle]
        if case.oracles is not None and oracle not in case.oracles:
            return False, case.why or f"case {case.name!r} is not checked by {oracle}"
        return True, ""



def with_mistakes(specs, table):
    """Give the specs named in `table` ({op name: [Mistake, ...]}) their catalogues: for
    specs that a helper builds, whose OpSpec call has no `mistakes=` of its own."""
    by_name = {spec.name: spec for spec in specs}
    unknown = sorted(set(table) - set(by_name))
    if unknown:
        raise KeyError(f"with_mistakes: no spec named {unknown}")
    for name, entries in table.items():
        names = [m.name for m in entries]
        if len(set(names)) != len(names):
            raise ValueError(f"op {name!r}: mistake names must be unique, got {names}")
        by_name[name].mistakes = list(entries)
    return specs
