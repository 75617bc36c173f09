"""Mutation testing of the answer key's backward passes: does the suite miss bugs?

    python -m backprop_oracle.tools.mutate                      # every mutant, 2 processes
    python -m backprop_oracle.tools.mutate --file linear.py     # mutants of impl/linear.py only
    python -m backprop_oracle.tools.mutate --sample 200 --seed 1   # a random sample, for a quick figure

Each mutant is the impl package with ONE small change inside a `backward` method
(or a helper function that only backward passes reach): an operand swapped, a
transpose dropped, a summation axis changed, a sign flipped, a value scaled by 2,
a term dropped. It is copied to a temporary directory under another package name,
imported, and graded by oracle.engine.run_check exactly as a learner's module is,
on every check (torch, jax, fd, golden; CPU, float64) of the ops whose class the
mutation touches. A mutant is killed when any check fails or errors.

Score = killed / (mutants - known equivalent ones). Mutants that no check can kill
because they compute the same thing are listed with the reason in
tools/equivalent_mutants.txt. The exit status is 1 when the score is below --target.
"""
import argparse
import ast
import copy
import importlib.util
import os
import random
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMPL_DIR = os.path.join(ROOT, "impl")
ALLOWLIST = os.path.join(os.path.dirname(os.path.abspath(__file__)), "equivalent_mutants.txt")

# Calls that only validate input (impl/_checks.py): their arguments are not gradient math.
CHECK_CALLS = {"float_array", "int_array", "same_shape", "dim_equals", "upstream",
               "require_forward", "_reduction", "_where"}
PAIR_FUNCTIONS = {"dot", "matmul", "outer", "tensordot", "kron", "inner"}
TRANSPOSE_METHODS = {"transpose", "swapaxes", "moveaxis"}
ORACLE_ORDER = ("torch", "golden", "jax", "fd")   # cheapest witness first: most mutants die there
MUTANT_SECONDS = 300   # a mutant that loops is killed by a timeout (listed apart: on a loaded
                       # machine a slow first JAX compile can reach it too)


@dataclass(frozen=True)
class Mutant:
    file: str          # impl/<module>.py, relative to the repository
    function: str      # qualified name: Class.backward or a helper
    lineno: int
    kind: str          # swap, transpose, axis, sign, scale, drop
    before: str
    after: str
    site: int          # index of the site within the file's mutation sites

    @property
    def key(self):
        """How the allowlist names a mutant: stable when lines move."""
        return f"{self.file} | {self.function} | {self.kind}: {self.before} -> {self.after}"

    def __str__(self):
        return f"{self.file}:{self.lineno} {self.function}  {self.kind}: {self.before}  ->  {self.after}"


# -- which functions are mutated ----------------------------------------------------------
# The gradient math of a layer is its backward; optimizers, clipping and initializers have
# no backward, their checked computation is update/clip (and an initializer's std/bound).
ROOT_METHODS = ("backward", "update", "clip", "std", "bound")
NOT_GRADIENT_MATH = {"_checked", "_zeros_like"}    # input checks and state allocation (optim)


def _bases(tree):
    """{class name: names of its bases defined in this module}."""
    return {node.name: [b.id for b in node.bases if isinstance(b, ast.Name)]
            for node in tree.body if isinstance(node, ast.ClassDef)}


def _ancestors(name, bases):
    seen, todo = [], list(bases.get(name, ()))
    while todo:
        base = todo.pop(0)
        if base in bases and base not in seen:
            seen.append(base)
            todo.extend(bases[base])
    return seen


def _descendants(name, bases):
    return [c for c in bases if name in _ancestors(c, bases)]


def _functions(tree):
    """{qualified name: (FunctionDef, class name or None)} of a module's functions and methods."""
    found = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            found[node.name] = (node, None)
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef):
                    found[f"{node.name}.{item.name}"] = (item, node.name)
    return found


def _is_super_call(node):
    """super().m: the receiver is a call of super()."""
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id == "super")


def _callees(func, owner, functions, bases=None):
    """Functions of this module that `func` may call: by name (f(...)); on self (self.m(...)),
    resolved through the class hierarchy, since self may be an instance of a subclass that
    overrides m, or inherit m from a base (a backward in a base class that calls
    self.derivative, defined by each subclass); and through super() (a base's m)."""
    bases = bases or {}
    names = set()
    for node in ast.walk(func):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        if isinstance(f, ast.Name) and f.id in functions:
            names.add(f.id)
        elif isinstance(f, ast.Attribute) and owner:
            receiver = f.value
            if isinstance(receiver, ast.Name) and receiver.id == "self":
                classes = [owner] + _ancestors(owner, bases) + _descendants(owner, bases)
            elif _is_super_call(receiver):
                classes = _ancestors(owner, bases)
            else:
                continue
            names |= {f"{c}.{f.attr}" for c in classes if f"{c}.{f.attr}" in functions}
    return names


def _reachable(starts, functions, bases=None):
    seen, todo = set(), list(starts)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        func, owner = functions[name]
        todo.extend(_callees(func, owner, functions, bases) - seen)
    return seen


def backward_functions(tree):
    """The gradient math: backward methods (and update, clip, std, bound: the checked
    computation of optimizers, clipping and initializers), and the helpers they reach
    (through the class hierarchy too) that forward and __init__ do not."""
    functions, bases = _functions(tree), _bases(tree)
    roots = [n for n in functions if n.split(".")[-1] in ROOT_METHODS]
    primal = [n for n in functions if n.split(".")[-1] in ("forward", "__init__", "__call__")]
    helpers = _reachable(roots, functions, bases) - _reachable(primal, functions, bases)
    helpers -= NOT_GRADIENT_MATH
    return {name: functions[name] for name in sorted(set(roots) | helpers)}


# -- mutation sites ------------------------------------------------------------------------
def _children(node):
    """(field, index or None, child) for every AST child, in a fixed order."""
    for field, value in ast.iter_fields(node):
        if isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, ast.AST):
                    yield field, i, item
        elif isinstance(value, ast.AST):
            yield field, None, value


def _skipped(node):
    """Error paths and input checks are not gradient math."""
    if isinstance(node, (ast.Raise, ast.JoinedStr, ast.Assert)):
        return True
    if isinstance(node, ast.Call):
        f = node.func
        name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
        return name in CHECK_CALLS
    return False


def _walk(node):
    """(parent, field, index, child) for every descendant that may be mutated, depth first."""
    for field, index, child in _children(node):
        if _skipped(child):
            continue
        yield node, field, index, child
        yield from _walk(child)


def _neg(expr):
    return ast.UnaryOp(op=ast.USub(), operand=expr)


def _twice(expr):
    return ast.BinOp(left=ast.Constant(2.0), op=ast.Mult(), right=expr)


ZEROS = {"zeros", "zeros_like", "empty", "empty_like", "_zeros_like"}


def _scalable(value):
    """Whether 2 * value can differ from value: not for a tuple, a mask (comparison),
    zeros, or a constant zero (equivalent by construction, never generated)."""
    if isinstance(value, (ast.Tuple, ast.Compare, ast.BoolOp)):
        return False
    if isinstance(value, ast.Call) and _call_name(value) in ZEROS:
        return False
    return not (isinstance(value, ast.Constant) and value.value == 0)


def _call_name(call):
    f = call.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""


def replacements(node):
    """[(kind, new node)] for one AST node: the mutations that apply to it."""
    out = []
    if isinstance(node, ast.BinOp):
        l, r = node.left, node.right
        if isinstance(node.op, (ast.Sub, ast.Div, ast.MatMult, ast.Pow, ast.FloorDiv)):
            out.append(("swap", ast.BinOp(left=r, op=node.op, right=l)))
        if isinstance(node.op, ast.Add):
            out.append(("sign", ast.BinOp(left=l, op=ast.Sub(), right=r)))
        if isinstance(node.op, ast.Sub):
            out.append(("sign", ast.BinOp(left=l, op=ast.Add(), right=r)))
        if isinstance(node.op, (ast.Add, ast.Sub, ast.Mult)):
            out += [("drop", l), ("drop", r)]
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        out.append(("sign", node.operand))
    elif isinstance(node, ast.Attribute) and node.attr == "T":
        out.append(("transpose", node.value))
    elif isinstance(node, ast.Call):
        name = _call_name(node)
        if name in TRANSPOSE_METHODS:
            receiver = node.func.value if isinstance(node.func, ast.Attribute) else None
            is_module = isinstance(receiver, ast.Name) and receiver.id in ("np", "numpy")
            if receiver is not None and not is_module:
                out.append(("transpose", receiver))
            elif node.args:
                out.append(("transpose", node.args[0]))
        if name in PAIR_FUNCTIONS and len(node.args) == 2:
            swapped = copy.copy(node)
            swapped.args = [node.args[1], node.args[0]]
            out.append(("swap", swapped))
        for i, kw in enumerate(node.keywords):
            if kw.arg == "axis":
                v = kw.value
                if isinstance(v, ast.Constant) and isinstance(v.value, int):
                    new_axis = ast.Constant(1 if v.value == 0 else 0)
                elif isinstance(v, ast.UnaryOp) and isinstance(v.operand, ast.Constant):
                    new_axis = ast.Constant(0)           # axis=-1 -> axis=0
                else:
                    new_axis = ast.Constant(None)        # a computed axis -> every axis
                mutated = copy.copy(node)
                mutated.keywords = list(node.keywords)
                mutated.keywords[i] = ast.keyword(arg="axis", value=new_axis)
                out.append(("axis", mutated))
    elif isinstance(node, ast.Assign) and _scalable(node.value):
        out.append(("scale", ast.Assign(targets=node.targets, value=_twice(node.value))))
    elif isinstance(node, ast.AugAssign):
        out.append(("drop", ast.Pass()))
        if isinstance(node.op, (ast.Add, ast.Sub)):
            flipped = ast.Sub() if isinstance(node.op, ast.Add) else ast.Add()
            out.append(("sign", ast.AugAssign(target=node.target, op=flipped, value=node.value)))
    elif isinstance(node, ast.Return) and node.value is not None:
        v = node.value
        if isinstance(v, ast.Tuple):
            for i, elt in enumerate(v.elts):
                elts = list(v.elts)
                elts[i] = _neg(elt)
                out.append(("sign", ast.Return(value=ast.Tuple(elts=elts, ctx=ast.Load()))))
        else:
            out.append(("sign", ast.Return(value=_neg(v))))
            out.append(("scale", ast.Return(value=_twice(v))))
    return [(kind, ast.copy_location(new, node) if not hasattr(new, "lineno") else new)
            for kind, new in out]


def _short(node, limit=70):
    text = ast.unparse(node).splitlines()[0] if not isinstance(node, ast.Pass) else "pass"
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _sites(tree):
    """(function name, parent, field, index, node, kind, replacement) in a fixed order."""
    for name, (func, _owner) in backward_functions(tree).items():
        for stmt_index, stmt in enumerate(func.body):
            if stmt_index == 0 and isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
                continue  # the docstring
            if _skipped(stmt):
                continue
            for parent, field, index, node in [(func, "body", stmt_index, stmt)] + list(_walk(stmt)):
                for kind, new in replacements(node):
                    yield name, parent, field, index, node, kind, new


def mutants_of(path):
    """Every mutant of one impl file."""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    rel = os.path.relpath(path, ROOT).replace(os.sep, "/")
    return [Mutant(rel, name, node.lineno, kind, _short(node), _short(new), site)
            for site, (name, _p, _f, _i, node, kind, new) in enumerate(_sites(tree))]


def mutated_source(mutant):
    """The source of mutant.file with its one mutation applied."""
    with open(os.path.join(ROOT, mutant.file), encoding="utf-8") as f:
        tree = ast.parse(f.read())
    for site, (_n, parent, field, index, _node, _k, new) in enumerate(_sites(tree)):
        if site == mutant.site:
            if index is None:
                setattr(parent, field, new)
            else:
                getattr(parent, field)[index] = new
            return ast.unparse(ast.fix_missing_locations(tree))
    raise LookupError(f"no mutation site {mutant.site} in {mutant.file}")


def all_mutants(files=None):
    names = sorted(n for n in os.listdir(IMPL_DIR) if n.endswith(".py") and not n.startswith("_")
                   and n not in ("__init__.py", "base.py"))
    if files:
        names = [n for n in names if n in files or n[:-3] in files]
    return [m for n in names for m in mutants_of(os.path.join(IMPL_DIR, n))]


# -- which ops a mutant touches ------------------------------------------------------------
def _defined_names(node):
    if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
        return {node.name}
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return set()


def affected_classes(mutant):
    """Classes of the mutated module that run the mutated code: the class that owns it
    (or every definition that calls the mutated helper), then, transitively, every
    class that derives from, builds or calls an affected definition by name (an LSTM
    built from LSTMStep cells, a Seq2Seq built from LSTMs)."""
    with open(os.path.join(ROOT, mutant.file), encoding="utf-8") as f:
        tree = ast.parse(f.read())
    owner = _functions(tree)[mutant.function][1]
    hit = {owner or mutant.function}
    definitions = [(node, _defined_names(node)) for node in tree.body]
    uses = [(names, {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} - names)
            for node, names in definitions if names]
    changed = True
    while changed:
        changed = False
        for names, used in uses:
            if not names <= hit and used & hit:
                hit |= names
                changed = True
    return {node.name for node, _names in definitions
            if isinstance(node, ast.ClassDef) and node.name in hit}


def affected_ops(mutant, reference):
    """Names of the op specs whose impl class is (or derives from) an affected class."""
    from ..oracle import registry
    module_name = reference.__name__ + "." + os.path.splitext(os.path.basename(mutant.file))[0]
    classes = affected_classes(mutant)
    ops = []
    for spec in registry.all_specs():
        cls = getattr(reference, spec.impl, None)
        if isinstance(cls, type) and any(k.__module__ == module_name and k.__name__ in classes
                                         for k in cls.__mro__):
            ops.append(spec.name)
    return ops


# -- grading a mutant ----------------------------------------------------------------------
def load_mutant(mutant, workdir, package):
    """Copy impl/ to workdir/package with the mutation applied, and import it."""
    target = os.path.join(workdir, package)
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(IMPL_DIR, target, ignore=shutil.ignore_patterns("__pycache__"))
    with open(os.path.join(target, os.path.basename(mutant.file)), "w", encoding="utf-8") as f:
        f.write(mutated_source(mutant))
    spec = importlib.util.spec_from_file_location(package, os.path.join(target, "__init__.py"),
                                                  submodule_search_locations=[target])
    module = importlib.util.module_from_spec(spec)
    sys.modules[package] = module
    spec.loader.exec_module(module)
    return module


def unload(package, module):
    from ..oracle import engine
    for name in [n for n in sys.modules if n == package or n.startswith(package + ".")]:
        del sys.modules[name]
    # the engine caches the implementation's results per module (by the module or, in
    # older engines, by its id, which a later mutant may reuse): drop this mutant's
    for key in [k for k in engine._impl_results if k[4] is module or k[4] == id(module)]:
        del engine._impl_results[key]


class _Timeout(BaseException):
    """Not an Exception: the engine, which records an implementation's errors, lets it through."""


def _alarm(signum, frame):
    raise _Timeout(f"the mutant ran longer than {MUTANT_SECONDS}s")


def grade(mutant, ops, module, oracles=ORACLE_ORDER, dtypes=("float64",)):
    """The first failing or erroring record of the mutant, or None if it survives."""
    from ..oracle import registry
    from ..oracle.engine import all_checks, run_check
    checks = all_checks([registry.get(op) for op in ops], oracles, ("cpu",), dtypes)
    checks.sort(key=lambda c: oracles.index(c.oracle))
    use_alarm = hasattr(signal, "SIGALRM") and _in_main_thread()
    if use_alarm:
        previous = signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(MUTANT_SECONDS)
    try:
        for check in checks:
            for record in run_check(check, module):
                # records of one witness against another ("torch~jax") do not see the mutant
                if record["status"] in ("fail", "error") and "~" not in record["oracle"]:
                    return record
        return None
    finally:
        if use_alarm:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, previous)


def _in_main_thread():
    import threading
    return threading.current_thread() is threading.main_thread()


_workdir = None


def run_mutant(mutant):
    """(mutant, verdict, detail, seconds); verdict is killed, survived, or unexercised."""
    global _workdir
    from .. import impl as reference
    start = time.perf_counter()
    ops = affected_ops(mutant, reference)
    if not ops:
        return mutant, "unexercised", "no op spec exercises this class", 0.0
    if _workdir is None:
        _workdir = tempfile.mkdtemp(prefix="mutants-")
    package = f"impl_mutant_{os.getpid()}_{mutant.site}"
    try:
        module = load_mutant(mutant, _workdir, package)
    except Exception as err:  # the mutant does not even import: killed by any run
        return mutant, "killed", f"import failed: {type(err).__name__}: {err}", 0.0
    try:
        record = grade(mutant, ops, module)
    except _Timeout as err:
        record = {"op": ops[0], "case": "", "oracle": "", "quantity": "", "status": "error",
                  "message": str(err), "diagnosis": ""}
    finally:
        unload(package, module)
        shutil.rmtree(os.path.join(_workdir, package), ignore_errors=True)
    seconds = time.perf_counter() - start
    if record is not None and "the mutant ran longer" in (record.get("message") or ""):
        return mutant, "killed", f"timeout: {record['message']}", seconds
    if record is None:
        return mutant, "survived", f"ops checked: {', '.join(ops)}", seconds
    what = (record["diagnosis"] or record["message"] or "").strip().splitlines()
    return (mutant, "killed", f"{record['op']}/{record['case']} {record['oracle']} "
            f"{record['quantity']} {record['status']}: {what[-1] if what else ''}", seconds)


# -- the allowlist of equivalent mutants -------------------------------------------------
def load_allowlist(path=ALLOWLIST):
    """{mutant key: reason}. A line: `file | function | kind: before -> after | reason`."""
    allowed = {}
    if not os.path.exists(path):
        return allowed
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            key, _, reason = line.rpartition(" | ")   # the code itself may hold " | "
            if key.count(" | ") < 2 or not reason.strip():
                raise ValueError(f"{path}: expected 'file | function | mutation | reason', got {line!r}")
            allowed[key.strip()] = reason.strip()
    return allowed


# -- the first measure: the catalogue of mistakes --------------------------------------------
def _catalogue_learner(spec, mistake):
    """(module, planted results or None): a layer entry is a class; a compute entry's
    results replace the answer key's quantities in the engine's implementation result."""
    from ..oracle import mistakes
    return mistakes.namespace(spec, mistake.layer or getattr(_reference(), spec.impl)), \
        (None if mistake.layer is not None else mistake.compute)


def _reference():
    from .. import impl
    return impl


def grade_entry(spec, mistake):
    """(killed, named): does the suite fail a learner doing `mistake`, and does a failing
    record's diagnosis name it? Torch in float64 (jax where torch cannot check the op)
    and the golden examples, as tests/test_catalogue.py."""
    from ..oracle import engine
    module, compute = _catalogue_learner(spec, mistake)
    witnesses = ("torch" if spec.torch is not None or "torch" in spec.runners else "jax",)
    witnesses += ("golden",) if spec.golden else ()
    real = engine.implementation_result
    if compute is not None:
        def planted(check, seed, party=None):
            # the engine passes a Party; a module gets one Party per module (as_party)
            if engine.as_party(party) is not engine.as_party(module):
                return real(check, seed, party)
            ctx = engine.context(check, seed, _reference())
            try:
                result = compute(ctx.data, dict(ctx.hp), ctx.dout)
            except Exception as err:   # the mistaken code raises on this case: an error record
                return err
            return {**real(check, seed, _reference()), **result}
        engine.implementation_result = planted
    try:
        records = [r for c in engine.all_checks([spec], witnesses, ("cpu",), ("float64",))
                   for r in engine.run_check(c, module) if "~" not in r["oracle"]]
    finally:
        engine.implementation_result = real
    failing = [r for r in records if r["status"] in ("fail", "error")]
    named = any(mistake.name in (r.get("mistake") or "").split("|") for r in failing)
    return bool(failing), named


def catalogue_score():
    """{family: [entries, killed, killed and named]} over every entry of every op."""
    import warnings
    from ..oracle import registry
    table = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for spec in registry.all_specs():
            row = table.setdefault(spec.family, [0, 0, 0, 0])
            row[3] += 1 if spec.mistakes else 0
            for mistake in spec.mistakes:
                killed, named = grade_entry(spec, mistake)
                row[0] += 1
                row[1] += killed
                row[2] += killed and named
    return table


def print_catalogue_score():
    table = catalogue_score()
    total = [sum(r[i] for r in table.values()) for i in range(4)]
    print(f"{'family':16s} {'ops':>4s} {'entries':>8s} {'killed':>7s} {'named':>6s}")
    for family, (n, killed, named, ops) in sorted(table.items()):
        print(f"{family:16s} {ops:4d} {n:8d} {killed:7d} {named:6d}")
    print(f"{'all':16s} {total[3]:4d} {total[0]:8d} {total[1]:7d} {total[2]:6d}")
    print(f"catalogue: {total[2]} killed and named / {total[0]} entries")
    return 0 if total[2] == total[0] else 1


# -- the command ---------------------------------------------------------------------------
def run_all(mutants, jobs=2, progress=None):
    if jobs <= 1:
        outcomes = map(run_mutant, mutants)
        pool = None
    else:
        import multiprocessing
        pool = multiprocessing.get_context("spawn").Pool(jobs)
        outcomes = pool.imap_unordered(run_mutant, mutants)
    results = []
    try:
        for outcome in outcomes:
            results.append(outcome)
            if progress:
                progress(outcome)
    finally:
        if pool:
            pool.close()
            pool.join()
    return sorted(results, key=lambda r: (r[0].file, r[0].site))


def score(results, allowlist):
    killed = [r for r in results if r[1] == "killed"]
    survived = [r for r in results if r[1] == "survived"]
    equivalent = [r for r in survived if r[0].key in allowlist]
    real = [r for r in survived if r[0].key not in allowlist]
    unexercised = [r for r in results if r[1] == "unexercised"]
    denominator = len(killed) + len(real)
    return {"killed": killed, "survivors": real, "equivalent": equivalent,
            "unexercised": unexercised,
            "score": len(killed) / denominator if denominator else 1.0}


def main(argv=None, prog=None):
    parser = argparse.ArgumentParser(prog=prog or "python -m backprop_oracle.tools.mutate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--file", default=None,
                        help="comma-separated impl modules to mutate (linear.py or linear)")
    parser.add_argument("--sample", type=int, default=None, help="grade a random sample of N mutants")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sample (default 0)")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--target", type=float, default=0.95, help="required score (default 0.95)")
    parser.add_argument("--list", action="store_true", help="list the mutants and stop")
    parser.add_argument("--verbose", action="store_true", help="print every mutant's verdict")
    parser.add_argument("--catalogue", action="store_true",
                        help="grade the catalogue of mistakes (every entry of every op) instead")
    args = parser.parse_args(argv)
    if args.catalogue:
        return print_catalogue_score()

    files = [f.strip() for f in args.file.split(",")] if args.file else None
    mutants = all_mutants(files)
    if args.sample and args.sample < len(mutants):
        mutants = sorted(random.Random(args.seed).sample(mutants, args.sample),
                         key=lambda m: (m.file, m.site))
    if args.list:
        for m in mutants:
            print(m)
        print(f"{len(mutants)} mutants")
        return 0
    allowlist = load_allowlist()
    start = time.perf_counter()

    def progress(outcome):
        if args.verbose:
            print(f"  {outcome[1]:11s} {outcome[0]}  [{outcome[2]}]", file=sys.stderr, flush=True)

    results = run_all(mutants, args.jobs, progress)
    s = score(results, allowlist)
    elapsed = time.perf_counter() - start
    graded = len(s["killed"]) + len(s["survivors"])
    print(f"mutants: {len(results)} ({len(s['equivalent'])} known equivalent, "
          f"{len(s['unexercised'])} in classes no spec exercises)")
    print(f"score: {len(s['killed'])} killed / {graded} non-equivalent = {100 * s['score']:.1f}% "
          f"(target {100 * args.target:.0f}%)")
    if s["survivors"]:
        print("survivors:")
        for m, _v, detail, _s in s["survivors"]:
            print(f"  {m}\n      key: {m.key}\n      [{detail}]")
    timeouts = [r for r in s["killed"] if r[2].startswith("timeout")]
    if timeouts:
        print(f"killed by the {MUTANT_SECONDS}s timeout (a loop, or a very slow machine: check them):")
        for m, _v, _d, _s in timeouts:
            print(f"  {m}")
    if s["unexercised"]:
        print("not exercised by any spec:", ", ".join(sorted({f"{r[0].file}:{r[0].function}"
                                                              for r in s["unexercised"]})))
    stale = set(allowlist) - {r[0].key for r in results}
    if stale and not files and not args.sample:
        print("allowlist entries that match no mutant (remove them):")
        for key in sorted(stale):
            print(f"  {key}")
    print(f"took {elapsed:.0f}s with {args.jobs} job(s), {elapsed / max(len(results), 1):.2f}s per mutant")
    return 0 if s["score"] >= args.target else 1


if __name__ == "__main__":
    sys.exit(main())
