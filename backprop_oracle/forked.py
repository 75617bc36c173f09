"""The implementation's process for grade() and check(): a fork of the caller's process.

The pytest run starts its sandbox (oracle/sandbox.py) as a fresh Python
(`python -m backprop_oracle.oracle.sandbox`) that imports a submission from a file.
Classes defined in a notebook cannot be imported by path in another process, and a
fresh Python costs about a second of imports per call. So grade() and check() start
the same sandbox another way: os.fork() of the caller's process, which already holds
the classes (and NumPy and the harness). Everything after the start is the pytest
run's: the same Party type (oracle.party.Sandboxed: the same requests, replies, wire,
validation, time limit and restart after a crash or a timeout), the same protections
(sandbox.protect: a private working folder, no new privileges, memory and file size
limits, a uid of its own as root) and the same request handler (sandbox.Child).

Why fork, and what it costs:
- the child holds the very class objects the notebook defined (with the helpers and
  globals they use), not a re-import of their source; a file or package is loaded in
  the child from a private copy, as in the pytest run;
- starting takes milliseconds, so a second grade() of one layer is fast;
- the child must not touch torch or JAX, whose threads do not survive a fork: it runs
  only the learner's NumPy code and the harness's plain-data side (sandbox.Child
  never imports a framework). gc.freeze() keeps the collector from finalizing the
  parent's framework objects in the child. A learner's code that uses torch itself
  may hang there; the time limit then records it as an error;
- the child closes every file descriptor it inherited but its two pipes (a notebook's
  kernel sockets among them), starts a session of its own (a Ctrl-C in the notebook
  reaches the grader, which ends the child), and leaves by os._exit, never returning
  into the caller's code;
- POSIX only (Linux, macOS): os.fork does not exist on Windows.
On stopping, the child's own process tree (and, as root, its uid) is killed, then
what bears the sandbox's mark in its environment (party.reap_descendants: processes the
learner's code started): never other children of the caller's process (a notebook's
servers, say); the caller is not made a subreaper.
"""
import gc
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import types
import warnings

from .oracle import party, sandbox, wire


class ForkedProcess:
    """The subprocess.Popen calls Sandboxed makes (pid, poll, wait, kill), for a forked child."""

    def __init__(self, pid):
        self.pid = pid
        self.returncode = None

    def poll(self):
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:        # reaped elsewhere (SIGCHLD ignored, say)
                self.returncode = -signal.SIGKILL
                return self.returncode
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"fork {self.pid}", timeout)
            time.sleep(0.002)
        return self.returncode

    def kill(self):
        if self.returncode is None:
            os.kill(self.pid, signal.SIGKILL)


def _virtual_size():
    """This process's address space in bytes (VmSize), or 0 where /proc cannot say."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _close_inherited(keep):
    """Close every descriptor but 0, 1, 2 and `keep` (the caller's sockets and files)."""
    try:
        fds = [int(fd) for fd in os.listdir("/proc/self/fd")]
    except OSError:
        fds = range(3, 4096)
    for fd in fds:
        if fd > 2 and fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


_KEPT = []


def _redirect(log_fd):
    """stdin and stdout to /dev/null, stderr to the log, as the pytest run's sandbox has them."""
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.dup2(log_fd, 2)
    os.close(null)
    # The caller's stream objects stay referenced: a notebook's would, if finalized here,
    # flush through its kernel's threads, which the fork did not bring along.
    _KEPT.extend([sys.stdin, sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__])
    sys.stdin = open(0, closefd=False)
    sys.stdout = open(1, "w", closefd=False)
    sys.stderr = open(2, "w", closefd=False, buffering=1)
    sys.__stdout__, sys.__stderr__ = sys.stdout, sys.stderr


def _reset_signals():
    """The caller's handlers (pytest's SIGTERM, a notebook's SIGINT) are not the child's."""
    for name in ("SIGINT", "SIGTERM", "SIGALRM", "SIGHUP", "SIGCHLD", "SIGPIPE", "SIGUSR1"):
        number = getattr(signal, name, None)
        if number is not None:
            try:
                signal.signal(number, signal.SIG_DFL if name != "SIGINT" else signal.default_int_handler)
            except (OSError, ValueError):
                pass
    signal.setitimer(signal.ITIMER_REAL, 0)


class NamespaceChild(sandbox.Child):
    """sandbox.Child for classes given in memory (a dict): no import, the same answers."""

    def __init__(self, config, namespace, label):
        from .conformance import adapters
        self.config = config
        self.copy_root = self.display_root = config.get("copy_root", "") or "\0"
        module = types.ModuleType(label)
        module.__dict__.update(namespace)
        module.__file__ = None
        self.learner = module
        self.module = adapters.adapt(module, config.get("style", "native"))


KEEP_MODULES = {"backprop_oracle", "numpy"}   # the harness (a clone may hold a
# learner's file at its root) and NumPy


def _forget_modules_under(root):
    """Modules the caller imported from the submission's folder (a notebook that imported
    the learner's helpers, say) are dropped from the fork's sys.modules: the submission
    then imports its own private copy afresh, as in the pytest run's fresh process."""
    prefix = root.rstrip(os.sep) + os.sep
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if not isinstance(path, str) or name == "__main__" or name.split(".")[0] in KEEP_MODULES:
            continue
        path = os.path.abspath(path)
        if path.startswith(prefix) and not any(d in path for d in ("/site-packages/",
                                                                   "/dist-packages/")):
            del sys.modules[name]


def _serve(child, reader, reply_fd, held):
    """The sandbox's loop (as sandbox.main): hello, then one reply per request."""
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
        except TypeError as err:
            wire.write(reply_fd, {"id": request.get("id"), "error": f"unsendable reply: {err}"})


def _child(config, namespace, label, request_fd, reply_fd, log_fd, token):
    """The forked child: never returns (os._exit)."""
    try:
        os.setsid()
        _close_inherited({request_fd, reply_fd, log_fd})
        _redirect(log_fd)
        os.close(log_fd)
        gc.freeze()                  # the parent's objects are never collected (finalized) here
        _reset_signals()
        import faulthandler
        faulthandler.enable(file=sys.stderr)    # a segfault prints the learner's file:line
        faulthandler.register(signal.SIGUSR1, file=sys.stderr, all_threads=True)  # "where stuck?"
        for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[name] = "1"
        os.environ[party.TOKEN_ENV] = token   # processes the learner starts carry the mark
        budget = config.get("memory_bytes")
        if budget:                       # beyond what the fork already maps (frameworks)
            config["memory_bytes"] = budget + _virtual_size()
        held = sandbox.protect(config)
        if budget:
            held["memory_limit_note"] = (f"{budget / 2 ** 30:g} GiB beyond the "
                                         f"{(config['memory_bytes'] - budget) / 2 ** 30:.2f} GiB "
                                         f"the fork starts with")
            config["memory_bytes"] = budget      # what a MemoryError's record names
        held["started_by"] = "os.fork() of the grading process (backprop_oracle/forked.py)"
        if config.get("source_root"):
            _forget_modules_under(config["source_root"])
        try:
            child = (NamespaceChild(config, namespace, label) if namespace is not None
                     else sandbox.Child(config))
        except BaseException as err:
            from .oracle.engine import error_excerpt
            err = err.__cause__ or err
            text = error_excerpt(err)
            if config.get("copy_root"):
                text = text.replace(config["copy_root"], config["display_root"])
            wire.write(reply_fd, {"hello": False, "protections": held,
                                  "error": f"importing {config.get('display', label)} failed:\n{text}"})
            return
        _serve(child, wire.Reader(request_fd), reply_fd, held)
    except BaseException:
        try:
            import traceback
            traceback.print_exc()
        except BaseException:
            pass
    finally:
        try:
            sys.stderr.flush()
        except BaseException:
            pass
        os._exit(0)


class Forked(party.Sandboxed):
    """A Sandboxed party whose process is a fork of this one (see the module docstring).

    namespace: {name: class or function} held in memory (a notebook's classes), or None
    to load `target` (a file, package or module name) in the child, from a private copy."""

    def __init__(self, target, style="native", timeout=60.0, memory_bytes=party.DEFAULT_MEMORY_BYTES,
                 namespace=None, label=None):
        super().__init__(target, style, timeout, memory_bytes, timeout_option="timeout=")
        self.namespace = dict(namespace) if namespace is not None else None
        self.label = label or target
        self.key = f"forked:{self.index}:{self.label}:{style}"

    def _start(self):
        if not hasattr(os, "fork"):
            raise OSError("backprop_oracle.grade needs os.fork (POSIX) to run the implementation "
                          "in a process of its own; on Windows use `pytest conformance --impl`")
        self.base = tempfile.mkdtemp(prefix="bo-forked-")
        os.chmod(self.base, 0o755)
        config = {"display": self.label}
        if self.namespace is None:
            config.update(party.prepare(self.target, self.base))
            config["source_root"] = os.path.abspath(party.locate(self.target)[0])
        workdir = os.path.join(self.base, "work")
        os.makedirs(workdir, mode=0o700)
        uid, why_not = None, ""           # as Sandboxed._spawn decides it
        if os.geteuid() != 0:
            why_not = ("the grader does not run as root: the implementation runs as the "
                       "grader's own user")
        elif os.environ.get(party.SAME_USER_ENV):
            why_not = f"{party.SAME_USER_ENV} is set: the implementation runs as the grader's user"
        else:
            uid = party._sandbox_uid(self.index)
            os.chown(workdir, uid, uid)
        config.update(workdir=workdir, uid=uid, uid_why_not=why_not, style=self.style,
                      memory_bytes=self.memory_bytes)
        self.config = config
        self.uid = uid
        self.log = open(os.path.join(self.base, "stderr.log"), "w+b")
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        token = party._token()    # this process's mark (reap_descendants kills what bears it)
        sys.stdout.flush()
        sys.stderr.flush()
        with warnings.catch_warnings():   # JAX warns of any fork; the child never uses JAX
            warnings.filterwarnings("ignore", message=r"os\.fork\(\) was called")
            pid = os.fork()
        if pid == 0:
            os.close(to_child_w)
            os.close(from_child_r)
            _child(config, self.namespace, self.label, to_child_r, from_child_w, self.log.fileno(),
                   token)
        os.close(to_child_r)
        os.close(from_child_w)
        self.proc = ForkedProcess(pid)
        self.send_fd, self.reader = to_child_w, wire.Reader(from_child_r)
        os.set_blocking(self.send_fd, False)
        try:
            hello = self.reader.read(self._start_timeout())
        except (wire.Timeout, EOFError, wire.WireError, OSError) as err:
            why = self._death(err, "while starting")
            self._stop()
            self.import_error = why
            return
        self.held = hello.get("protections", {}) if isinstance(hello, dict) else {}
        if not isinstance(hello, dict) or not hello.get("hello"):
            self.import_error = str(hello.get("error", "no answer")) if isinstance(hello, dict) \
                else "an answer that is not the sandbox's hello"
            self._stop()
            return
        self.classes = {str(c) for c in hello.get("classes", [])}

    def _learner_frames(self, text, limit=3):
        """As Sandboxed's, for classes in memory too: their frames are every frame outside
        the harness and the libraries (a notebook's cells, the caller's own files)."""
        if self.namespace is None:
            return super()._learner_frames(text, limit)
        import linecache
        from .oracle.engine import HARNESS_DIRS, LIBRARY_DIRS
        blocks = text.split("most recent call first):")
        if len(blocks) < 2:
            return ""
        own = []   # the innermost frames, down to the first of the harness: the frames
        for f, n, fn in re.findall(r'File "(.+?)", line (\d+) in (\S+)', blocks[1]):
            path = f.replace("\\", "/")        # above it are the caller's, kept by the fork
            if any(d in path for d in HARNESS_DIRS) or "/backprop_oracle/" in path:
                break
            if not any(d in path for d in LIBRARY_DIRS):     # NumPy's own frames: skipped
                own.append((f, int(n), fn))
        own = own[:limit]
        return "\n".join(f"{f}:{n} in {fn}: {linecache.getline(f, n).strip()}"
                         for f, n, fn in reversed(own))

    def _stop(self):
        """Kill the child's own tree (and, as root, its uid); never other children of ours."""
        if self.proc is not None:
            victims = party._descendants(self.proc.pid, party._children_map()) \
                if os.path.isdir("/proc") else []
            for kill in ([lambda: os.killpg(self.proc.pid, signal.SIGKILL)]
                         + [lambda p=p: os.kill(p, signal.SIGKILL) for p in victims]
                         + [self.proc.kill]):
                try:
                    kill()
                except (ProcessLookupError, PermissionError, OSError):
                    pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            for fd in (self.send_fd, self.reader.fd):
                try:
                    os.close(fd)
                except OSError:
                    pass
            self.proc = None
        if getattr(self, "uid", None) is not None:
            party.kill_uid(self.uid)
        party.reap_descendants()   # outside the suite: only processes bearing the mark
        if getattr(self, "log", None):
            self.log.close()
        if self.base:
            shutil.rmtree(self.base, ignore_errors=True)
            self.base = None

    def protections(self, start=True):
        held = super().protections(start)
        if held:
            held["isolation"] = "a process of its own, forked from the grading process"
        return held

    def close(self):
        self._stop()
        if self in party._live:
            party._live.remove(self)


def for_namespace(namespace, style="native", timeout=60.0, memory_bytes=None, label="classes"):
    return Forked(label, style, timeout, memory_bytes or party.DEFAULT_MEMORY_BYTES,
                  namespace=namespace, label=label)


def for_target(target, style="native", timeout=60.0, memory_bytes=None):
    """A file, package folder or module name, checked (located) here without importing it."""
    party.locate(target)          # FileNotFoundError naming the target if it is not there
    return Forked(target, style, timeout, memory_bytes or party.DEFAULT_MEMORY_BYTES)
