"""CUDA hygiene, tested without a GPU: TF32 off unless measured as its own column,
deterministic kernels, highest jax matmul precision, and a CUDA failure on one case
recorded as an error of that case, never a crash of the run."""
import os

import pytest

from backprop_oracle.conformance import options
from backprop_oracle.oracle import engine, frameworks, torch_oracle
from backprop_oracle.oracle.engine import Check, all_checks, run_check
from backprop_oracle.oracle import registry
from backprop_oracle.reports.model import load_results

HERE = os.path.dirname(os.path.abspath(__file__))


class FakeConfig:
    def __init__(self, **values):
        self.values = {"oracle": "torch,jax,fd,golden", "device": None,
                       "dtype": "float64,float32", "seed": 0, "op": None, "tf32": False,
                       **values}

    def getoption(self, name):
        return self.values[name]


def _with_cuda(monkeypatch, present):
    monkeypatch.setattr(options, "cuda_present",
                        lambda: (present, "" if present else "no NVIDIA GPU on this machine"))


def test_without_tf32_there_is_no_tf32_column(monkeypatch):
    _with_cuda(monkeypatch, True)
    assert options.resolve(FakeConfig())["devices"] == ("cpu", "cuda")


def test_tf32_adds_its_own_device_column_when_cuda_is_present(monkeypatch):
    _with_cuda(monkeypatch, True)
    assert options.resolve(FakeConfig(tf32=True))["devices"] == ("cpu", "cuda", "cuda-tf32")


def test_tf32_without_cuda_says_why_it_is_absent(monkeypatch):
    _with_cuda(monkeypatch, False)
    selection = options.resolve(FakeConfig(tf32=True))
    assert selection["devices"] == ("cpu",)
    assert selection["devices_absent"]["cuda-tf32"].startswith("--tf32 needs a CUDA device")


def test_workers_take_the_controllers_columns_without_duplicating_tf32():
    workerinput = {"bo_devices": ["cpu", "cuda", "cuda-tf32"], "bo_devices_absent": {}}
    assert options.resolve(FakeConfig(tf32=True), workerinput)["devices"] == \
        ("cpu", "cuda", "cuda-tf32")


def test_the_tf32_column_holds_framework_checks_in_float32_only():
    checks = [c for c in all_checks([registry.get("affine")], ("torch", "jax", "fd"),
                                    ("cpu", "cuda", "cuda-tf32"), ("float64", "float32"))
              if options.measured(c)]
    tf32 = [c for c in checks if c.device == "cuda-tf32"]
    assert tf32 and {c.dtype for c in tf32} == {"float32"}
    assert {c.oracle for c in tf32} == {"torch", "jax"}
    assert "affine-batch3-torch-cuda-tf32-float32" in {c.id for c in tf32}
    assert {c.dtype for c in checks if c.device == "cuda"} == {"float64", "float32"}


def test_torch_runs_with_tf32_off_and_turns_it_on_only_for_the_tf32_column():
    torch = torch_oracle._torch()
    assert torch.backends.cuda.matmul.allow_tf32 is False
    assert torch.backends.cudnn.allow_tf32 is False
    with torch_oracle.precision(torch, "cuda-tf32"):
        assert torch.backends.cuda.matmul.allow_tf32 and torch.backends.cudnn.allow_tf32
    assert not torch.backends.cuda.matmul.allow_tf32 and not torch.backends.cudnn.allow_tf32
    with torch_oracle.precision(torch, "cuda"):
        assert not torch.backends.cuda.matmul.allow_tf32 and not torch.backends.cudnn.allow_tf32


def test_asking_for_cuda_turns_on_deterministic_algorithms(monkeypatch):
    torch = torch_oracle._torch()
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch_oracle, "_deterministic", False)
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    before = (torch.are_deterministic_algorithms_enabled(),
              torch.is_deterministic_algorithms_warn_only_enabled())
    try:
        assert torch_oracle.device("cuda-tf32").type == "cuda"
        assert torch.are_deterministic_algorithms_enabled()
        assert torch.is_deterministic_algorithms_warn_only_enabled()
        assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8"
    finally:
        torch.use_deterministic_algorithms(before[0], warn_only=before[1])


def test_jax_runs_at_highest_matmul_precision_with_x64_and_tf32_only_on_its_column():
    jax = frameworks.jax
    assert jax.config.jax_enable_x64 is True
    assert jax.config.jax_default_matmul_precision == "highest"
    with frameworks.jax_precision("cuda-tf32"):
        assert jax.config.jax_default_matmul_precision == "tensorfloat32"
    with frameworks.jax_precision("cuda"):
        assert jax.config.jax_default_matmul_precision == "highest"
    assert jax.config.jax_default_matmul_precision == "highest"


def test_jax_is_asked_for_deterministic_gpu_kernels_unless_the_user_set_it(monkeypatch):
    monkeypatch.setenv("XLA_FLAGS", "--xla_force_host_platform_device_count=1")
    frameworks._prepare_jax()
    assert os.environ["XLA_FLAGS"] == ("--xla_force_host_platform_device_count=1 "
                                       "--xla_gpu_deterministic_ops=true")
    monkeypatch.setenv("XLA_FLAGS", "--xla_gpu_deterministic_ops=false")
    frameworks._prepare_jax()
    assert os.environ["XLA_FLAGS"] == "--xla_gpu_deterministic_ops=false"


def _failing_witness(error):
    def witness(spec, ctx):
        raise error
    return witness


@pytest.mark.parametrize("message", [
    "CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 79.1 GiB total capacity)",
    "CUDA error: an illegal memory access was encountered",
])
def test_a_cuda_failure_of_the_witness_is_an_error_record_of_that_check(monkeypatch, message):
    torch = torch_oracle._torch()
    error = torch.OutOfMemoryError(message) if "memory." in message else RuntimeError(message)
    monkeypatch.setitem(engine.WITNESSES, "torch", _failing_witness(error))
    records = run_check(Check("affine", "batch3", "torch", "cpu", "float32"))
    assert [r["status"] for r in records] == ["error"]
    assert "the torch oracle itself failed" in records[0]["message"]
    assert message in records[0]["message"]
    # the next check runs normally
    after = run_check(Check("affine", "batch3", "jax", "cpu", "float32"))
    assert after and all(r["status"] == "pass" for r in after)


def test_a_cuda_failure_on_one_case_does_not_stop_the_run(suite, tmp_path):
    """End to end: a plugin makes the torch witness raise CUDA OOM on one case only."""
    result = suite("-p", "tests.fake_cuda_failure", "--op", "affine,relu", "--oracle", "torch",
                   "--device", "cpu", "-n", "0", "--report-dir", str(tmp_path))
    assert result.returncode == 1, result.stdout[-3000:]
    data = load_results(tmp_path / "results.json")
    errors = [r for r in data["records"] if r["status"] == "error"]
    assert [(r["op"], r["case"], r["dtype"]) for r in errors] == [("affine", "batch3", "float32")]
    assert "CUDA out of memory" in errors[0]["message"]
    others = [r for r in data["records"] if r["status"] != "error"]
    assert others and all(r["status"] == "pass" for r in others)
    assert data["meta"]["partial"] is False
