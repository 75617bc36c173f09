"""A pytest plugin for tests/test_cuda_hygiene.py: the torch witness raises a CUDA
out-of-memory error on one case (affine, batch3, float32), as a GPU would."""
from backprop_oracle.oracle import engine, torch_oracle


def pytest_configure(config):
    real = engine.WITNESSES["torch"]

    def witness(spec, ctx):
        if (spec.name, ctx.case, ctx.dtype) == ("affine", "batch3", "float32"):
            torch = torch_oracle._torch()
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")
        return real(spec, ctx)

    engine.WITNESSES["torch"] = witness
