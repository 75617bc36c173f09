"""A report folder is replaced in one step, and one run writes it at a time.

    lock(report_dir)          a lock beside the folder, holding the holder's pid
    staging_dir(dir, run_id)  where a run writes its records and renders its report
    publish(staging, target)  the staging folder becomes `target` in one rename

A run renders into a folder of its own beside the target (same file system), then
exchanges it with the target (renameat2 RENAME_EXCHANGE on Linux: one atomic step;
elsewhere two renames with signals held off between them), and only then removes
the old report. A reader, or a run stopped at any moment, sees either the old
report whole or the new one whole: never results.json of one run and index.html of
another.

The lock is a file `.<name>.lock` beside the report folder, locked with flock (the
kernel frees it when its holder dies, whatever the way) and holding the holder's pid
and start time for the message a second run gets. A lock file left by a dead
process is taken over.
"""
import ctypes
import errno
import fcntl
import os
import shutil
import signal
import time

# What a report folder may hold; a folder holding anything else is not replaced.
REPORT_ENTRIES = {"results.json", "index.html", "tolerance.html", "style.css", "report.js", "ops",
                  "reruns"}


class ReportDirError(Exception):
    """A report folder that cannot be written: in use by another run, or not a report."""


def _beside(report_dir, suffix):
    report_dir = os.path.abspath(report_dir).rstrip(os.sep)
    parent, name = os.path.split(report_dir)
    return os.path.join(parent, f".{name}.{suffix}")


def foreign_entries(report_dir):
    """Entries of an existing folder that are not part of a report (hidden ones aside)."""
    if not os.path.isdir(report_dir):
        return []
    return sorted(e for e in os.listdir(report_dir)
                  if e not in REPORT_ENTRIES and not e.startswith("."))


def check_replaceable(report_dir):
    if os.path.exists(report_dir) and not os.path.isdir(report_dir):
        raise ReportDirError(f"--report-dir {report_dir} is a file, not a folder")
    foreign = foreign_entries(report_dir)
    if foreign:
        listing = ", ".join(foreign[:5]) + (" ..." if len(foreign) > 5 else "")
        raise ReportDirError(
            f"--report-dir {report_dir} holds files that are not part of a report ({listing}); "
            f"the report replaces the whole folder: give an empty folder, a new one, or an "
            f"earlier report's")


class Lock:
    """flock on `.<name>.lock` beside the report folder, for the whole run."""

    def __init__(self, report_dir):
        self.path = _beside(report_dir, "lock")
        self.report_dir = report_dir
        self.fd = None
        self.took_over = None   # pid of a dead holder whose lock file was left

    def acquire(self):
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            holder = _read_holder(fd)
            os.close(fd)
            if err.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            raise ReportDirError(
                f"--report-dir {self.report_dir} is in use by another run (pid {holder or '?'}, "
                f"lock {self.path}): wait for it to end, or give another --report-dir") from None
        previous = _read_holder(fd)
        if previous and previous.split()[0] != str(os.getpid()):
            self.took_over = previous.split()[0]   # its holder died: flock was free
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {time.strftime('%Y-%m-%dT%H:%M:%S')}\n".encode(), 0)
        self.fd = fd
        return self

    def release(self):
        if self.fd is None:
            return
        try:
            os.ftruncate(self.fd, 0)
            os.unlink(self.path)
        except OSError:
            pass
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)
        self.fd = None


def _read_holder(fd):
    try:
        return os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
    except OSError:
        return ""


def staging_dir(report_dir, run_id):
    """The folder a run writes into, beside its report folder (so a rename can swap them)."""
    return _beside(report_dir, f"run-{run_id}")


def _exchange(a, b):
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    AT_FDCWD, RENAME_EXCHANGE = -100, 2
    if renameat2(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EPERM, errno.ENOTSUP):
        return False   # a file system without the exchange
    raise OSError(code, os.strerror(code), b)


def publish(staging, target):
    """Make `staging` the folder at `target` in one step; the old report is removed after."""
    target = os.path.abspath(target)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM}) \
        if hasattr(signal, "pthread_sigmask") else None
    old = None
    try:
        if not os.path.exists(target):
            os.rename(staging, target)
        elif _exchange(staging, target):
            old = staging          # now holds the old report
        else:
            old = _beside(target, f"old-{os.getpid()}")
            os.rename(target, old)
            os.rename(staging, target)
    finally:
        if held is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
    if old:
        shutil.rmtree(old, ignore_errors=True)
    return target


def remove_stale_staging(report_dir):
    """Staging folders of runs that died before publishing (their lock is gone with them)."""
    parent, name = os.path.split(os.path.abspath(report_dir).rstrip(os.sep))
    if not os.path.isdir(parent):
        return
    for entry in os.listdir(parent):
        if entry.startswith(f".{name}.run-") or entry.startswith(f".{name}.old-"):
            shutil.rmtree(os.path.join(parent, entry), ignore_errors=True)
