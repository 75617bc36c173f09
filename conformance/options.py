"""Command-line options of the suite and what they resolve to."""
import os
import shutil

try:                          # pytest's error when there is pytest; the API runs without it
    from pytest import UsageError
except ImportError:            # pragma: no cover (backprop_oracle.grade in a plain venv)
    class UsageError(Exception):
        """A wrong argument of the run."""

from ..oracle.frameworks import TF32_DEVICE

ORACLES = ("torch", "jax", "fd", "golden")
DEVICES = ("cpu", "cuda")
DTYPES = ("float64", "float32")


def add_options(parser):
    group = parser.getgroup("backprop-oracle")
    group.addoption("--oracle", default=",".join(ORACLES),
                    help="comma-separated witnesses: torch, jax, fd, golden (default: all)")
    group.addoption("--device", default=None,
                    help="comma-separated devices: cpu, cuda (default: every device present)")
    group.addoption("--dtype", default=",".join(DTYPES),
                    help="comma-separated dtypes: float64, float32 (default: both)")
    group.addoption("--seed", type=int, default=0, help="seed of every case's data (default 0)")
    group.addoption("--report-dir", default=os.path.join("reports", "out"),
                    help="where results.json and index.html are written (default reports/out)")
    group.addoption("--impl", action="append", default=None,
                    help="the implementation under test: a module or package importable from "
                         "the current directory, or a path to a .py file or a package folder "
                         "(default: the answer key). It runs in a process of its own. Give it "
                         "several times to grade several submissions in one run: each op goes "
                         "to the first whose module has the op's class")
    group.addoption("--impl-style", default="native", choices=("native", "book", "cs231n", "functions"),
                    help="how --impl is written: native (the answer key's classes), book "
                         "(『ゼロから作るDeep Learning』 1 and 2: common/layers.py, time_layers.py, "
                         "optimizer.py), cs231n (the assignments' forward/backward function pairs "
                         "and optim.py) or functions (the E資格 course's common/functions.py: "
                         "f(x) with its derivative d_f(x)); an adapter maps the last three "
                         "(default: native)")
    group.addoption("--check-timeout", type=float, default=None,
                    help="seconds the implementation may take on one case (forward and "
                         "backward) before it is stopped and recorded as an error (default: 60 "
                         "when --impl is not the answer key, else none; 0 for none; "
                         "pytest-timeout's --timeout, if given, replaces it)")
    group.addoption("--impl-memory", type=float, default=4.0,
                    help="GiB of address space the implementation's process may use (RLIMIT_AS; "
                         "default 4; 0 for no limit)")
    group.addoption("--lang", default=None, choices=("en", "ja"),
                    help="language of the report and of the terminal summary: en or ja "
                         "(default: ja where the locale, LC_ALL/LC_MESSAGES/LANG, is Japanese, "
                         "else en)")
    group.addoption("--op", default=None,
                    help="comma-separated op names to check (default: every op)")
    group.addoption("--tf32", action="store_true", default=False,
                    help=f"also measure float32 on CUDA with TF32 on, as the device column "
                         f"{TF32_DEVICE!r} (the 'cuda' column always runs with TF32 off)")


def _choices(config, name, allowed):
    raw = config.getoption(name)
    values = [v.strip() for v in raw.split(",") if v.strip()]
    unknown = [v for v in values if v not in allowed]
    if unknown or not values:
        raise UsageError(f"--{name.replace('_', '-')}: expected a comma-separated subset of "
                                f"{', '.join(allowed)}, got {raw!r}")
    return tuple(v for v in allowed if v in values)


def cuda_present():
    """Whether this machine has an NVIDIA GPU, probed without importing a framework.

    The answer only decides which checks are collected; if torch or jax then cannot
    use the device, those checks are skips with the framework's reason.
    """
    if os.path.exists("/dev/nvidiactl") or shutil.which("nvidia-smi"):
        return True, ""
    return False, "no NVIDIA GPU on this machine (no /dev/nvidiactl, no nvidia-smi)"


def resolve(config, workerinput=None):
    """The run's selection, identical on the controller and every xdist worker.

    Workers take the controller's device list rather than probing on their own.
    """
    oracles = _choices(config, "oracle", ORACLES)
    dtypes = _choices(config, "dtype", DTYPES)
    absent = {}
    if workerinput and "bo_devices" in workerinput:
        devices = tuple(workerinput["bo_devices"])
        absent = dict(workerinput.get("bo_devices_absent", {}))
    elif config.getoption("device"):
        devices = _choices(config, "device", DEVICES)
        if "cuda" in devices:
            present, why = cuda_present()
            if not present:   # asked for and absent: an error, never a grade without it
                raise UsageError(f"--device {config.getoption('device')}: cuda was asked "
                                        f"for and is absent: {why}")
    else:
        present, why = cuda_present()
        devices = ("cpu", "cuda") if present else ("cpu",)
        if not present:
            absent["cuda"] = why
    if config.getoption("tf32") and TF32_DEVICE not in devices:
        if "cuda" in devices:
            devices = devices + (TF32_DEVICE,)
        elif config.getoption("device") and not workerinput:
            raise UsageError(f"--tf32 needs a CUDA device and --device "
                                    f"{config.getoption('device')} has none")
        else:
            absent[TF32_DEVICE] = "--tf32 needs a CUDA device: " + absent.get("cuda", "none selected")
    ops = None
    if config.getoption("op"):
        ops = tuple(v.strip() for v in config.getoption("op").split(",") if v.strip())
    return {"oracles": oracles, "devices": devices, "dtypes": dtypes, "ops": ops,
            "devices_absent": absent, "seed": config.getoption("seed")}


def measured(check):
    """Whether a check is run: the TF32 column measures float32 only (TF32 never
    touches float64), and only for the frameworks (finite differences run on CPU)."""
    return check.device != TF32_DEVICE or check.dtype == "float32"
