"""The example notebook a learner opens first runs, cell by cell, in a real Jupyter kernel
(nbclient), and says what it promises: the planted mistake named, then all passed."""
import json
import os
import sys

import pytest

from tests.conftest import ROOT

NOTEBOOK = os.path.join(ROOT, "examples", "first_layer.ipynb")
KERNEL = "backprop-oracle-tests"


@pytest.fixture
def kernel(tmp_path, monkeypatch):
    """A kernelspec of this very Python (the venv's), in a folder of the test's own: the
    machine's Jupyter set-up (or none) plays no part."""
    pytest.importorskip("ipykernel")
    spec_dir = tmp_path / "jupyter" / "kernels" / KERNEL
    spec_dir.mkdir(parents=True)
    (spec_dir / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "backprop-oracle (tests)", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    return KERNEL


def _text(output):
    if output.get("output_type") == "stream":
        return output.get("text", "")
    data = output.get("data", {})
    return data.get("text/plain", "") + data.get("text/html", "")


def test_the_first_notebook_runs_and_grades(kernel, tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), \
        "the notebook is committed without outputs"
    client = nbclient.NotebookClient(nb, kernel_name=kernel, timeout=300,
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()          # raises CellExecutionError, with the cell, if one fails
    outputs = [[_text(o) for o in c.outputs] for c in nb.cells if c.cell_type == "code"]
    flat = ["\n".join(o) for o in outputs]
    graded = next(i for i, text in enumerate(flat) if "bo-result" in text)
    # the first grade shows the report's table and names the planted mistake (the catalogue's
    # entry db_not_summed, on every case: one problem)
    assert "<table" in flat[graded] and "db = dout keeps the batch axis" in flat[graded]
    assert "grad:b" in flat[graded]
    assert any("db = dout keeps the batch axis" in t and "checks passed" in t for t in flat[graded + 1:])
    # after the fix, everything passes; check() on the sigmoid pair too
    assert any("all passed" in t and "affine" in t for t in flat[graded + 1:])
    assert any("sigmoid (check)" in t and "all passed" in t for t in flat)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.get("output_type") == "error"]
    assert not errors
