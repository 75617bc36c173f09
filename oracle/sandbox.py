"""The process the implementation under test runs in (`python -m backprop_oracle.oracle.sandbox`).

The grader (oracle.party.Sandboxed) starts it with two pipes and sends a first
frame, the configuration. This process then, in this order:

1. imports NumPy and every piece of the harness it needs (the op specs, the runner,
   the adapters, the loader) and a set of common standard-library modules: after
   step 2 the Python installation may be unreadable (it lives under /root here);
2. protects the grader: a private working folder, PR_SET_NO_NEW_PRIVS, an address
   space limit (RLIMIT_AS), no core files, a file size limit and, where it runs as
   root, a user and group of its own (a uid no other process has), with a process
   count limit; what held is reported back;
3. loads the learner's module from the private copy of the submission, with its
   adapter, and answers "hello" (or the import's error);
4. answers requests until the pipe closes: `quantities` (forward then backward on
   one case), `forwards` (forward alone on perturbed arrays, for finite
   differences), `golden` (a worked example), `describe` (the classes' sources).

Every learner call is wrapped in `except BaseException`: SystemExit,
KeyboardInterrupt and the like become an error answer with the learner's file and
line. Whatever comes back is converted here to plain ndarrays, or to a note of
what it was; the grader validates it again, and never trusts this process.
"""
import os
import sys


def _preload():
    """Everything imported before the protections (the installation may be unreadable after)."""
    import abc, bisect, collections, contextlib, copy, dataclasses, decimal, enum  # noqa: E401,F401
    import fractions, functools, heapq, inspect, io, itertools, json, linecache  # noqa: E401,F401
    import math, numbers, operator, pathlib, pickle, random, re, statistics, string  # noqa: E401,F401
    import struct, textwrap, time, traceback, types, typing, warnings, weakref  # noqa: E401,F401
    import collections.abc, importlib, importlib.util, importlib.machinery  # noqa: E401,F401
    import ctypes, resource, faulthandler, select, signal  # noqa: E401,F401
    import numpy  # noqa: F401
    import numpy.linalg, numpy.random, numpy.fft, numpy.lib.stride_tricks  # noqa: E401,F401
    try:
        import numpy.testing  # noqa: F401
    except Exception:
        pass
    from .. import impl  # noqa: F401  (learners may build on it; the report then says so)
    from . import impl_runner, registry, engine, wire  # noqa: F401
    registry.all_specs()
    from ..conformance import adapters, loading  # noqa: F401
    import ast, builtins  # noqa: E401,F401  (the loader reads the submission's imports)
    "".encode("idna")   # codecs looked up lazily
    "".encode("utf-16")


# -- protections ---------------------------------------------------------------
PR_SET_NO_NEW_PRIVS = 38
MAX_PROCESSES = 64           # per sandbox uid (RLIMIT_NPROC counts the uid's processes)
MAX_FILE_BYTES = 256 * 2 ** 20


def _prctl(option, value):
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    return libc.prctl(option, value, 0, 0, 0) == 0


def protect(config):
    """Apply the protections; {name: what held} for the run's meta."""
    import resource
    import signal
    held = {}
    os.chdir(config["workdir"])
    os.environ["HOME"] = config["workdir"]
    os.environ["TMPDIR"] = config["workdir"]
    held["no_new_privs"] = _prctl(PR_SET_NO_NEW_PRIVS, 1)
    memory = config.get("memory_bytes")
    if memory:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        held["memory_limit_bytes"] = memory
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # an oversized write fails, it does not kill
    resource.setrlimit(resource.RLIMIT_FSIZE, (MAX_FILE_BYTES, MAX_FILE_BYTES))
    uid = config.get("uid")
    if uid is not None and os.geteuid() == 0:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
        resource.setrlimit(resource.RLIMIT_NPROC, (MAX_PROCESSES, MAX_PROCESSES))
        held["uid"] = os.getuid()
        held["process_limit"] = MAX_PROCESSES
    else:
        held["uid"] = None
        held["uid_why_not"] = config.get("uid_why_not") or "no uid was given"
    return held


# -- what crosses back ---------------------------------------------------------
def plain(value):
    """An ndarray to send, or {"__invalid__": what it was} (never anything else)."""
    import numpy as np
    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            return {"__invalid__": f"an ndarray of dtype {value.dtype}"}
        return np.array(value, subok=False)       # a plain copy (a subclass drops its type)
    if isinstance(value, (bool, np.bool_)):
        return {"__invalid__": f"a {type(value).__name__} ({value!r})"}
    if isinstance(value, (np.number, int, float)):
        arr = np.asarray(value)
        return arr if not arr.dtype.hasobject else {"__invalid__": f"a {type(value).__name__} "
                                                                   f"too large for an array"}
    kind = type(value)
    return {"__invalid__": f"a {kind.__module__}.{kind.__qualname__}"
            if kind.__module__ != "builtins" else f"a {kind.__qualname__}"}


def plain_quantities(result):
    if not isinstance(result, dict):
        return {"__invalid__": f"a {type(result).__name__} instead of the quantities"}
    return {str(k): plain(v) for k, v in result.items()}


# -- the learner's calls ---------------------------------------------------------
class Child:
    def __init__(self, config):
        from ..conformance import adapters
        self.config = config
        self.copy_root, self.display_root = config["copy_root"], config["display_root"]
        if config.get("path_entry"):
            sys.path.insert(0, config["path_entry"])
        from ..conformance.loading import load_implementation
        module = load_implementation(config["target"])
        self.learner = module
        self.module = adapters.adapt(module, config.get("style", "native"))

    def shown(self, text):
        """Paths of the private copy as the learner knows them."""
        return text.replace(self.copy_root, self.display_root)

    def excerpt(self, err):
        from .engine import error_excerpt
        return self.shown(error_excerpt(err))

    def context(self, request, data):
        from .context import Context
        from .registry import get
        from .party import fresh_hparams
        spec = get(request["op"])
        hp = fresh_hparams(spec, request["case"])
        return spec, Context(data=data, hp=hp, dout=request.get("dout"), dtype=request["dtype"],
                             device=request.get("device", "cpu"), module=self.module,
                             seed=request["seed"], case=request["case"],
                             dout_extra=dict(request.get("dout_extra") or {}))

    def quantities(self, request):
        from . import impl_runner
        spec, ctx = self.context(request, _case_data(request["data"]))
        return {"quantities": plain_quantities(impl_runner.run(spec, ctx))}

    def forwards(self, request):
        """forward on each variant: the base arrays with request["name"] replaced by a value."""
        from . import impl_runner
        name, outputs = request["name"], []
        for value in request["values"]:
            data = _case_data(request["data"])
            (data.inputs if name in data.inputs else data.params)[name] = value.copy()
            spec, ctx = self.context(request, data)
            layer, out = impl_runner.forward(spec, ctx)
            extras = impl_runner.extra_outputs(spec, layer, request.get("extras") or ())
            outputs.append({k: plain(v) for k, v in {"out": out, **extras}.items()})
        return {"outputs": outputs}

    def golden(self, request):
        from .registry import get
        return {"quantities": plain_quantities(get(request["op"]).case(request["case"]).run(self.module))}

    def describe(self, request):
        from .party import describe_classes
        classes = describe_classes(self.module, request["names"])
        for entry in classes.values():
            if entry.get("file"):
                entry["file"] = self.shown(entry["file"])
        return {"classes": classes}

    def answer(self, request):
        """The reply to one request; never raises (BaseException included)."""
        from .errors import NotAttempted
        handler = getattr(self, request.get("kind", ""), None) if request.get("kind") in \
            ("quantities", "forwards", "golden", "describe") else None
        if handler is None:
            return {"error": f"unknown request {request.get('kind')!r}"}
        try:
            return handler(request)
        except (NotAttempted, NotImplementedError) as err:
            spec_impl = _impl_name(request)
            if isinstance(err, NotImplementedError):
                return {"not_attempted": f"{spec_impl} raises NotImplementedError"
                                         + (f": {err}" if str(err) else "")}
            return {"not_attempted": str(err) or type(err).__name__}
        except BaseException as err:   # SystemExit, KeyboardInterrupt, MemoryError, custom
            return {"error": self.error_text(err)}

    def error_text(self, err):
        """The error's excerpt; never raises (a MemoryError's frames may still hold the
        memory: they are cleared first where the excerpt itself runs out)."""
        limit = self.config.get("memory_bytes")
        note = (f"\n(the implementation's memory limit: {limit / 2 ** 30:g} GiB)"
                if isinstance(err, MemoryError) and limit else "")
        try:
            return self.excerpt(err) + note
        except BaseException as again:
            import traceback
            traceback.clear_frames(err.__traceback__)
            try:
                return self.excerpt(err) + note
            except BaseException:
                return f"{type(err).__name__} (its traceback could not be read: " \
                       f"{type(again).__name__}){note}"


def _impl_name(request):
    try:
        from .registry import get
        return get(request["op"]).impl
    except Exception:
        return "the class"


def _case_data(tree):
    """CaseData of fresh arrays (each call gets its own copies)."""
    from .spec import CaseData
    return CaseData(**{part: {k: v.copy() for k, v in tree.get(part, {}).items()}
                       for part in ("inputs", "params", "extra")})


def main():
    request_fd, reply_fd = int(sys.argv[1]), int(sys.argv[2])
    import faulthandler
    import signal
    faulthandler.enable()       # a segfault prints the learner's file:line on stderr
    faulthandler.register(signal.SIGUSR1, all_threads=True)   # the grader asks where we hang
    _preload()
    from . import wire
    reader = wire.Reader(request_fd)
    config = reader.read()
    held = protect(config)
    try:
        child = Child(config)
    except BaseException as err:   # an exit or any exception while importing the submission
        from .engine import error_excerpt
        err = err.__cause__ or err     # the loader's UsageError wraps the module's own error
        text = error_excerpt(err).replace(config["copy_root"], config["display_root"])
        wire.write(reply_fd, {"hello": False, "error": f"importing {config['display']} failed:\n"
                                                      f"{text}", "protections": held})
        return
    names = sorted(n for n in dir(child.module) if isinstance(getattr(child.module, n, None), type))
    wire.write(reply_fd, {"hello": True, "classes": names, "protections": held,
                          "pid": os.getpid()})
    while True:
        try:
            request = reader.read()
        except EOFError:
            return
        reply = child.answer(request)
        reply["id"] = request.get("id")
        try:
            wire.write(reply_fd, reply)
        except TypeError as err:      # not plain data: a harness bug, said as such
            wire.write(reply_fd, {"id": request.get("id"), "error": f"unsendable reply: {err}"})


if __name__ == "__main__":
    try:
        main()
    finally:
        sys.stdout.flush()
    os._exit(0)   # no atexit handlers or threads of the learner's run after the pipe closed
