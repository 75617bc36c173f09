"""Write a learner's template: every class of the answer key, backward left to write.

The template is self-contained: it imports numpy (and the standard library modules the
copied code needs), never the answer key. Each class the learner writes is a class of
its own, with the answer key's docstring (which holds the forward and backward
formulas), its constructor (signature and input checks) and its class constants;
`forward` is copied too when asked (`with_forward`), otherwise left as
`raise NotImplementedError` like `backward` and every other public method. What the
copied code calls is copied beside it, as given code: the layer protocol (Layer), the
input checks, and the plumbing that builds the stacked, bidirectional and
variable-length recurrent layers from the learner's own one-layer layers
(StackedRecurrent). No method a learner writes is copied, so a stub cannot call its
way to the answer. Graded unchanged, the template is all "not attempted": nothing fails.

    make_template("my_layers.py", with_forward=False, lang="en")    # lang="ja": 日本語の説明
"""
import ast
import builtins
import functools
import inspect
import sys
import textwrap
import types

from .. import impl

HEADERS = {
    "en": '''"""My layers, graded against the answer key.

Fill in each `raise NotImplementedError`, then grade this file:

    pytest conformance --impl {filename} -n auto

A layer still raising NotImplementedError is "not attempted" (grey), never a failure.
Grade one layer at a time with --op, e.g. --op affine,relu.
Each class's docstring gives the formulas of its forward and backward. The code marked
"given" (the layer protocol, the input checks, the stacking of recurrent layers) is
there for your classes to use; it is not graded and holds no answer.
Written by `backprop-oracle template{options}`.
"""
''',
    "ja": '''"""自分のレイヤー: 模範解答 (answer key) と照らし合わせて採点されます。

各 `raise NotImplementedError` を自分の実装に書き換え、次のコマンドで採点します:

    pytest conformance --impl {filename} -n auto --lang ja

NotImplementedError のままのレイヤーは「未実装」(灰色) で、失敗にはなりません。
--op で一つずつ採点できます (例: --op affine,relu)。
各クラスの docstring に forward と backward の式があります。「given」と書かれたコード
(レイヤーの約束事、入力のチェック、再帰レイヤーの多層化・双方向化) は自分のクラスから
使うためのもので、採点されず、答えは含まれていません。
`backprop-oracle template{options}` が書き出しました。
"""
''',
}
GIVEN_NOTE = {"en": "# given: not graded, holds no answer", "ja": "# given: 採点対象外、答えは含まれない"}
YOURS_NOTE = {"en": "# yours: fill in every `raise NotImplementedError`",
              "ja": "# 自分で書く: `raise NotImplementedError` をすべて実装する"}

SKIPPED = {"Layer", "ShapeError"}   # the protocol's base class and its error: given, not written
GIVEN = {"Layer", "ShapeError", "StackedRecurrent"}   # copied whole: plumbing, no answer in it
COPIED_ALWAYS = ("__new__", "__init__")


def template_classes(module=impl):
    """The classes a learner writes: impl.__all__, minus the base class, the error and the
    plumbing that is given whole."""
    return [getattr(module, name) for name in module.__all__
            if name not in GIVEN and inspect.isclass(getattr(module, name))]


def template_functions(module=impl):
    """The public functions of impl.__all__ (e.g. fan_in_and_fan_out): stubs to write too."""
    return [getattr(module, name) for name in module.__all__
            if name not in SKIPPED and inspect.isfunction(getattr(module, name))]


# -- what a piece of source refers to -----------------------------------------------------
def _names(node):
    """Every name a piece of code loads (decorators and default values included)."""
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _attributes(node):
    """Every attribute name it reads (self._check, cls.PARAMETER, ...)."""
    return {n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)}


@functools.lru_cache(maxsize=None)
def _parse(source):
    return ast.parse(textwrap.dedent(source))


@functools.lru_cache(maxsize=None)
def _module_tree(module_name):
    source = inspect.getsource(sys.modules[module_name])
    return source, ast.parse(source)


@functools.lru_cache(maxsize=None)
def _source(obj):
    """The source of a class (found in its module's tree, parsed once: inspect.getsource
    parses the whole module again for every class) or of a function."""
    if inspect.isclass(obj):
        source, tree = _module_tree(obj.__module__)
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and node.name == obj.__name__:
                first = min([node.lineno] + [d.lineno for d in node.decorator_list])
                return "\n".join(source.splitlines()[first - 1:node.end_lineno]) + "\n"
    return textwrap.dedent(inspect.getsource(obj))


def _module_of(obj):
    return sys.modules[obj.__module__]


def _is_answer_key(module):
    return module.__name__ == impl.__name__ or module.__name__.startswith(impl.__name__ + ".")


def _foreign(value):
    """A function or class of another package than the answer key, importable by name."""
    module = getattr(value, "__module__", None)
    return (isinstance(module, str) and module in sys.modules and not _is_answer_key(sys.modules[module])
            and isinstance(getattr(value, "__name__", None), str) and callable(value)
            and getattr(sys.modules[module], value.__name__, None) is value)


def _assignment_source(module, name):
    """The source of the top-level statement of `module` that binds `name`, or None."""
    source, tree = _module_tree(module.__name__)
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if name in {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}:
                return ast.get_source_segment(source, node)
    return None


class _Writer:
    """Collects what the template holds: external imports, given definitions (functions,
    constants, classes) and the learner's classes, following every name copied code uses."""

    def __init__(self, module, with_forward):
        self.module, self.with_forward = module, with_forward
        self.written = {c.__name__: c for c in template_classes(module)}
        self.functions = {f.__name__: f for f in template_functions(module)}
        self.imports = set()
        self.given = {}            # name -> ("function" | "value", source)
        self.classes = {}          # name -> class, every class the template defines
        self.roles = {}            # name -> "written" | "base" | "whole"
        self.attributes = set()    # attribute names read by copied code (private helpers used)

    # names of copied code, resolved where that code was written
    def use(self, node, namespace):
        self.attributes |= _attributes(node)
        for name in sorted(_names(node)):
            if name.startswith("__") or name not in namespace:
                continue
            if name in self.written or name in self.functions:
                continue
            self._resolve(name, namespace[name], namespace)

    def _resolve(self, name, value, namespace):
        if name in self.given or name in self.classes:
            if self.classes.get(name, value) is not value and name not in self.given:
                raise ValueError(f"template: two different definitions named {name!r}")
            return
        if isinstance(value, types.ModuleType):
            alias = "" if value.__name__ == name else f" as {name}"
            self.imports.add(f"import {value.__name__}{alias}")
        elif hasattr(builtins, name) and getattr(builtins, name) is value:
            return
        elif _foreign(value):                  # numpy's sliding_window_view, contextlib's contextmanager
            self.imports.add(f"from {value.__module__} import {value.__name__}"
                             + ("" if value.__name__ == name else f" as {name}"))
        elif inspect.isclass(value) or inspect.isfunction(value):
            home = _module_of(value)
            if not _is_answer_key(home):
                self.imports.add(f"from {value.__module__} import {value.__name__}"
                                 + ("" if value.__name__ == name else f" as {name}"))
            elif inspect.isclass(value):
                self.add_class(value, "whole" if value.__name__ in GIVEN else "base")
            else:
                source = textwrap.dedent(_source(value))
                self.given[name] = ("function", source)
                self.use(_parse(source), vars(home))
        elif hasattr(builtins, name) and getattr(builtins, name) is value:
            return
        else:                                 # a constant: the statement that binds it
            home = namespace
            source = None
            for mod in [m for m in sys.modules.values() if m and _is_answer_key(m)]:
                if vars(mod).get(name, None) is value:
                    source = _assignment_source(mod, name)
                    if source:
                        home = vars(mod)
                        break
            if source is None:
                raise ValueError(f"template: cannot copy {name!r} (no source statement binds it)")
            self.given[name] = ("value", source)
            self.use(_parse(source), home)

    # classes
    def add_class(self, cls, role):
        if cls.__name__ in self.classes:
            return
        self.classes[cls.__name__], self.roles[cls.__name__] = cls, role
        namespace = vars(_module_of(cls))
        if cls.__dict__.get("batched_ndim") and "allow_unbatched" in namespace:
            # forward also takes one unbatched sample: the template's class is decorated alike
            self._resolve("allow_unbatched", namespace["allow_unbatched"], namespace)
        for base in cls.__bases__:
            if base is object:
                continue
            if base.__name__ in self.written:
                continue
            self._resolve(base.__name__, base, namespace)
        if role == "whole":
            self.use(_parse(_source(cls)), namespace)
            return
        for node in self._constants(cls):
            self.use(node, namespace)
        for name, func in self._own_methods(cls):
            if self._copied(name):
                self.use(_parse(_source(func)), namespace)
            else:                             # a stub keeps the signature: its defaults' names
                self.use_signature(func, namespace)

    def use_signature(self, member, namespace):
        func = member.__func__ if isinstance(member, (staticmethod, classmethod)) else member
        node = _parse(_source(func)).body[0]
        self.use(node.args, namespace)
        if node.returns:
            self.use(node.returns, namespace)

    @staticmethod
    def _constants(cls):
        """The class-level assignments (MLP.LAYERS, LSTM.STATES, XavierUniform.uniform)."""
        tree = _parse(_source(cls)).body[0]
        return [node for node in tree.body if isinstance(node, (ast.Assign, ast.AnnAssign))]

    @staticmethod
    def _own_methods(cls):
        for name, member in cls.__dict__.items():
            func = member.__func__ if isinstance(member, (staticmethod, classmethod)) else member
            if inspect.isfunction(func):
                yield name, member

    def _copied(self, name):
        return name in COPIED_ALWAYS or (name == "forward" and self.with_forward)

    def _private_used(self, name):
        return name.startswith("_") and not name.startswith("__") and name in self.attributes

    def settle(self):
        """Copy the private helpers that copied code reads, until nothing new is needed."""
        done = set()
        while True:
            todo = [(c, n, m) for c in list(self.classes.values()) if self.roles[c.__name__] != "whole"
                    for n, m in self._own_methods(c)
                    if (c.__name__, n) not in done and self._private_used(n)]
            if not todo:
                return
            for cls, name, member in todo:
                done.add((cls.__name__, name))
                self.use(_parse(_source(member)), vars(_module_of(cls)))

    # writing
    def class_source(self, cls):
        role = self.roles[cls.__name__]
        if role == "whole":
            return textwrap.dedent(_source(cls))
        bases = ", ".join(b.__name__ for b in cls.__bases__ if b is not object)
        lines = [f"class {cls.__name__}({bases}):" if bases else f"class {cls.__name__}:"]
        if cls.__dict__.get("batched_ndim"):
            lines.insert(0, f"@allow_unbatched({cls.batched_ndim})")
        body = []
        doc = inspect.getdoc(cls) if cls.__doc__ else None
        if doc:
            body.append(textwrap.indent(_quoted(doc), "    ") + "\n")
        source = textwrap.dedent(_source(cls))
        constants = [ast.get_source_segment(source, node) for node in self._constants(cls)]
        if constants:
            body.append("\n".join(textwrap.indent(c, "    ") for c in constants) + "\n")
        stubs = self._stubs(cls) if role == "written" else {}
        for name, member in self._own_methods(cls):
            if self._copied(name) or self._private_used(name):
                body.append(textwrap.indent(textwrap.dedent(_source(member)), "    "))
            elif name in stubs:
                body.append(_method_stub(name, stubs.pop(name)))
        body += [_method_stub(name, func) for name, func in stubs.items()]
        if not body:
            body.append("    pass\n")
        return "\n".join(lines + ["\n".join(body)])

    def _stubs(self, cls):
        """The public methods the learner writes: the class's own, and those it inherits
        from a base the template does not write (a base of the answer key's own)."""
        stubs = {}
        for base in reversed(cls.__mro__[1:]):
            if base is object or base.__name__ in self.written or self.roles.get(base.__name__) == "whole":
                continue
            stubs.update({n: m for n, m in self._own_methods(base) if self._public(n)})
        stubs.update({n: m for n, m in self._own_methods(cls) if self._public(n)})
        return stubs

    def _public(self, name):
        if name in COPIED_ALWAYS or (name == "forward" and self.with_forward):
            return False
        return not name.startswith("_") or (name.startswith("__") and name.endswith("__"))


def _quoted(doc):
    doc = doc.replace("\\", "\\\\").replace('"""', r'\"\"\"')
    return f'"""{doc}"""' if "\n" not in doc else f'"""{doc}\n"""'


def _signature(member):
    """The parameter list as written in the source (defaults as code, not as their repr)."""
    func = member.__func__ if isinstance(member, (staticmethod, classmethod)) else member
    node = _parse(_source(func)).body[0]
    returns = f" -> {ast.unparse(node.returns)}" if node.returns else ""
    return f"({ast.unparse(node.args)}){returns}"


def _method_stub(name, member):
    decorator = ""
    if isinstance(member, staticmethod):
        decorator = "    @staticmethod\n"
    elif isinstance(member, classmethod):
        decorator = "    @classmethod\n"
    func = member.__func__ if isinstance(member, (staticmethod, classmethod)) else member
    doc = inspect.getdoc(func)
    body = textwrap.indent(_quoted(doc) + "\n", " " * 8) if doc else ""
    return f"{decorator}    def {name}{_signature(member)}:\n{body}        raise NotImplementedError\n"


def _function_stub(func):
    doc = inspect.getdoc(func)
    body = textwrap.indent(_quoted(doc) + "\n", "    ") if doc else ""
    return f"def {func.__name__}{_signature(func)}:\n{body}    raise NotImplementedError\n"


def _bases_first(classes):
    """The classes in their order, except that a base is moved before its subclasses."""
    ordered, placed = [], set()
    by_name = {c.__name__: c for c in classes}

    def place(cls):
        if cls.__name__ in placed or cls.__name__ not in by_name:
            return
        for base in cls.__bases__:
            place(base)
        placed.add(cls.__name__)
        ordered.append(cls)

    for cls in classes:
        place(cls)
    return ordered


def make_template(filename="my_layers.py", with_forward=False, module=impl, lang="en"):
    if lang not in HEADERS:
        raise ValueError(f"template: lang must be one of {sorted(HEADERS)}, got {lang!r}")
    writer = _Writer(module, with_forward)
    for cls in writer.written.values():
        writer.add_class(cls, "written")
    for name in ("Layer", "ShapeError"):          # the protocol and its error, always there
        if hasattr(module, name):
            writer._resolve(name, getattr(module, name), vars(module))
    for func in writer.functions.values():
        writer.use_signature(func, vars(_module_of(func)))
    writer.settle()
    # constants first: a function's default values read them when it is defined
    given = [src for kind, src in writer.given.values() if kind == "value"]
    given += [src for kind, src in writer.given.values() if kind == "function"]
    classes = _bases_first(list(writer.classes.values()))
    given_classes = [writer.class_source(c) for c in classes if writer.roles[c.__name__] != "written"]
    yours = [writer.class_source(c) for c in classes if writer.roles[c.__name__] == "written"]
    yours += [_function_stub(f) for f in writer.functions.values()]
    options = f" {filename}" + (" --with-forward" if with_forward else "") + \
        ("" if lang == "en" else f" --lang {lang}")
    plain = sorted(i for i in writer.imports if i.startswith("import "))
    froms = sorted(i for i in writer.imports if i.startswith("from "))
    names = ", ".join(repr(n) for n in list(writer.written) + list(writer.functions))
    parts = [HEADERS[lang].format(filename=filename, options=options), "\n".join(plain + froms),
             f"__all__ = [{names}]", GIVEN_NOTE[lang]] + given + given_classes + [YOURS_NOTE[lang]] + yours
    return "\n\n\n".join(p.rstrip("\n") for p in parts if p) + "\n"
