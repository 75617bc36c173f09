"""The report in a real browser: headless Chromium loads the matrix and an op page, from disk,
with no console error and no failed load, and takes a screenshot of each.

Chromium is driven through the DevTools protocol over a pipe (reports/browser.py), so the
test needs nothing but the standard library and the browser. The load time is printed
(run with -s to see it), not asserted: timings belong to the benchmark, python -m backprop_oracle.reports.bench.
"""
import pytest

from backprop_oracle.reports.browser import BROWSERS, Browser, Page, find_chromium
from backprop_oracle.reports.render import render

from test_report import meta, record


@pytest.fixture
def page(tmp_path):
    executable = find_chromium()
    if executable is None:
        pytest.skip(f"no Chromium found (looked for {', '.join(BROWSERS)} on PATH); "
                    "Debian: apt-get install chromium")
    browser = Browser(executable, tmp_path / "profile")
    try:
        yield Page(browser)
    finally:
        browser.close()


def sample_report(out_dir):
    records = [record(), record(dtype="float32", margin=0.4), record(oracle="jax"),
               record(oracle="torch~jax", margin=0.02),
               record(oracle="fd", margin=3.0, status="fail", diagnosis="dW looks transposed"),
               record(op="relu", case="mixed", quantity="grad:x"),
               record(op="mse", case="mean", oracle="golden", status="skipped", margin=None)]
    return render({"meta": meta(), "records": records}, str(out_dir))


def test_the_matrix_and_an_op_page_render_in_chromium_without_console_errors(page, tmp_path):
    report = tmp_path / "report"
    index = sample_report(report)
    milliseconds, errors = page.load(index)
    assert errors == []
    assert page.evaluate("document.querySelectorAll('table.matrix td.cell').length") >= 5
    assert page.evaluate("document.querySelector('table.matrix a[href=\"ops/affine.html\"]') !== null")
    page.screenshot(tmp_path / "index.png")
    print(f"\nindex.html loaded in {milliseconds:.0f} ms")

    op_ms, errors = page.load(report / "ops" / "affine.html")
    assert errors == []
    assert page.evaluate("document.querySelectorAll('math').length") >= 2
    assert page.evaluate("(() => { const i = document.querySelector('img.plot');"
                         " return i.complete && i.naturalWidth > 0; })()")
    assert page.evaluate("document.querySelector('pre.source').textContent").count("def backward") == 1
    assert (page.screenshot(tmp_path / "affine.png")).stat().st_size > 10_000
    print(f"ops/affine.html loaded in {op_ms:.0f} ms; screenshots in {tmp_path}")


def test_a_missing_file_is_seen_as_an_error(page, tmp_path):
    """The check above can fail: a page whose plot is gone reports a failed load."""
    report = tmp_path / "report"
    sample_report(report)
    (report / "ops" / "affine.svg").unlink()
    _, errors = page.load(report / "ops" / "affine.html")
    assert errors, "a missing image went unnoticed"
