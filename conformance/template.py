"""Write a learner's template: every class of the answer key, backward left to write.

Each class keeps the answer key's constructor (its signature and input checks)
and docstring, which holds the formula; `forward` is copied too when asked
(`with_forward`), otherwise left as `raise NotImplementedError` like `backward`
and every other public method. Graded unchanged, the template is all
"not attempted": nothing fails.
"""
import inspect
import textwrap
import types

from .. import impl

HEADER = '''"""My layers, graded against the answer key.

Fill in each `raise NotImplementedError`, then grade this file:

    pytest conformance --impl {filename} -n auto

A layer still raising NotImplementedError is "not attempted" (grey), never a failure.
Grade one layer at a time with --op, e.g. --op affine,relu.
Written by `backprop-oracle template{options}`.
"""
'''

SKIPPED = {"Layer", "ShapeError"}   # the protocol's base class and its error: imported, not written
COPIED_ALWAYS = ("__init__",)


def template_classes(module=impl):
    """The classes a learner writes: impl.__all__, minus the base class and the error."""
    return [getattr(module, name) for name in module.__all__
            if name not in SKIPPED and inspect.isclass(getattr(module, name))]


def template_functions(module=impl):
    """The public functions of impl.__all__ (e.g. fan_in_and_fan_out): stubs to write too."""
    return [getattr(module, name) for name in module.__all__
            if name not in SKIPPED and inspect.isfunction(getattr(module, name))]


def _bases_first(classes):
    """The classes in their order, except that a base is moved before its subclasses."""
    ordered, placed = [], set()

    def place(cls):
        if cls in placed or cls not in classes:
            return
        for base in cls.__bases__:
            place(base)
        placed.add(cls)
        ordered.append(cls)

    for cls in classes:
        place(cls)
    return ordered


def _function_stub(func):
    doc = inspect.getdoc(func)
    body = textwrap.indent(f'"""{doc}\n"""\n', "    ") if doc else ""
    return f"def {func.__name__}{inspect.signature(func)}:\n{body}    raise NotImplementedError\n"


def _names_used(code):
    """Every global name a function's code (and the code nested in it) refers to."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names_used(const)
    return names


def _copied(cls, name, with_forward):
    if name in COPIED_ALWAYS or (name.startswith("_") and not name.startswith("__")):
        return True
    return name == "forward" and with_forward


def _method_stub(name, func):
    signature = str(inspect.signature(func))
    return f"    def {name}{signature}:\n        raise NotImplementedError\n"


def _class_source(cls, with_forward, imports, written):
    bases = ", ".join(b.__name__ for b in cls.__bases__ if b is not object)
    for base in cls.__bases__:
        if base is not object and base.__name__ not in written:
            imports.add(f"from {base.__module__} import {base.__name__}")
    lines = [f"class {cls.__name__}({bases}):" if bases else f"class {cls.__name__}:"]
    if cls.__dict__.get("batched_ndim"):     # forward also takes one unbatched sample
        from ..impl.conv import allow_unbatched
        imports.add(f"from {allow_unbatched.__module__} import allow_unbatched")
        lines.insert(0, f"@allow_unbatched({cls.batched_ndim})")
    doc = inspect.getdoc(cls) if cls.__doc__ else None
    body = []
    if doc:
        quoted = f'"""{doc}"""' if "\n" not in doc else f'"""{doc}\n"""'
        body.append(textwrap.indent(quoted, "    ") + "\n")
    for name, member in cls.__dict__.items():
        if name.isupper() and not callable(member):      # class constants (MLP.LAYERS)
            body.append(f"    {name} = {member!r}\n")
    for name, member in _members(cls, written).items():
        func = member.__func__ if isinstance(member, (staticmethod, classmethod)) else member
        if not inspect.isfunction(func):
            continue
        inherited = name not in cls.__dict__
        if inherited and (name.startswith("_") or (name == "forward" and with_forward)):
            continue   # the answer key's base keeps it
        if _copied(cls, name, with_forward) and not inherited:
            source = textwrap.dedent(inspect.getsource(member))
            body.append(textwrap.indent(source, "    "))
            _add_imports(func, imports, written)
        else:
            body.append(_method_stub(name, func))
    if not body:
        body.append("    pass\n")
    return "\n".join(lines + ["\n".join(body)])


def _members(cls, written):
    """The class's own attributes, and the public methods it inherits from a base of the
    answer key that the template does not write (a private base such as impl's _Recurrent):
    those must be stubs too, or the template would inherit the answers."""
    members = {}
    for base in reversed(cls.__mro__[1:]):
        if base.__name__ in written or not base.__module__.startswith(impl.__name__) \
                or base.__name__ in SKIPPED:
            continue
        members.update({k: v for k, v in base.__dict__.items()
                        if not k.startswith("_") and inspect.isfunction(v)})
    members.update(cls.__dict__)
    first = {k: members.pop(k) for k in ("__init__",) if k in members}
    return {**first, **members}


def _add_imports(func, imports, written):
    """Import the helpers the copied code uses from the answer key's modules."""
    func = inspect.unwrap(func)              # the class's own code, not a decorator's wrapper
    for name in sorted(_names_used(func.__code__)):
        if name in written or name not in func.__globals__:
            continue
        value = func.__globals__[name]
        if isinstance(value, types.ModuleType):
            alias = "" if value.__name__ == name else f" as {name}"
            imports.add(f"import {value.__name__}{alias}")
        else:   # a class or function where it is defined; a constant where the code found it
            module = value.__module__ if inspect.isclass(value) or inspect.isfunction(value) \
                else func.__module__
            imports.add(f"from {module} import {name}")


def make_template(filename="my_layers.py", with_forward=False, module=impl):
    classes = _bases_first(template_classes(module))
    written = {c.__name__ for c in classes}
    imports = set()
    functions = template_functions(module)
    bodies = [_class_source(c, with_forward, imports, written) for c in classes]
    bodies += [_function_stub(f) for f in functions]
    options = f" {filename}" + (" --with-forward" if with_forward else "")
    plain = sorted(i for i in imports if i.startswith("import "))
    froms = _merged(i for i in imports if i.startswith("from "))
    names = ", ".join(repr(x.__name__) for x in classes + functions)
    parts = [HEADER.format(filename=filename, options=options), "\n".join(plain + froms),
             f"__all__ = [{names}]"] + bodies
    return "\n\n\n".join(p.rstrip("\n") for p in parts if p) + "\n"


def _merged(from_imports):
    """`from m import a` and `from m import b` as one line `from m import a, b`."""
    names = {}
    for line in from_imports:
        _, module, _, name = line.split()
        names.setdefault(module, set()).add(name)
    return [f"from {m} import {', '.join(sorted(n))}" for m, n in sorted(names.items())]
