"""The report in a real browser: headless Chromium loads the matrix and an op page, from disk,
with no console error and no failed load, and takes a screenshot of each.

Chromium is driven through the DevTools protocol over a pipe (reports/browser.py), so the
test needs nothing but the standard library and the browser. The load time is printed
(run with -s to see it), not asserted: timings belong to the benchmark, python -m backprop_oracle.reports.bench.
"""
import re

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
    assert page.evaluate("document.querySelector('pre.source:not(.worked-code)').textContent").count("def backward") == 1
    assert (page.screenshot(tmp_path / "affine.png")).stat().st_size > 10_000
    print(f"ops/affine.html loaded in {op_ms:.0f} ms; screenshots in {tmp_path}")


def test_a_missing_file_is_seen_as_an_error(page, tmp_path):
    """The check above can fail: a page whose plot is gone reports a failed load."""
    report = tmp_path / "report"
    sample_report(report)
    (report / "ops" / "affine.svg").unlink()
    _, errors = page.load(report / "ops" / "affine.html")
    assert errors, "a missing image went unnoticed"


def lstm_report(out_dir, lang="en"):
    """The lstm page with a record for every case, witness, dtype and quantity, one long
    diagnosis: the widest page of the catalogue."""
    from backprop_oracle.oracle import registry
    spec = registry.get("lstm")
    quantities = ["out", "grad:x", "grad:Wx", "grad:Wh", "grad:b", "grad:h0", "grad:c0"]
    records = [record(op="lstm", case=c.name, oracle=o, dtype=d, quantity=q, margin=0.01)
               for c in spec.cases for o in ("torch", "jax", "fd", "torch~jax")
               for d in ("float64", "float32") for q in quantities]
    records[5] = dict(records[5], status="fail", margin=4.0,
                      diagnosis="the forget gate's gradient " * 12,
                      diagnosis_ja="忘却ゲートの勾配が逆伝播で" * 12)
    return render({"meta": meta(), "records": records}, str(out_dir), lang=lang)


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_no_page_scrolls_sideways_at_1400_px(page, tmp_path, lang):
    report = tmp_path / "report"
    lstm_report(report, lang=lang)
    for path in (report / "index.html", report / "ops" / "lstm.html", report / "tolerance.html"):
        _, errors = page.load(path)
        assert errors == []
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= page.evaluate("window.innerWidth"), f"{path.name}: {width} px wide"


def test_the_long_table_filters_by_status_and_sorts_by_margin(page, tmp_path):
    report = tmp_path / "report"
    lstm_report(report)
    page.load(report / "ops" / "lstm.html")
    visible = "Array.from(document.querySelectorAll('#checks-table tbody tr')).filter(r => !r.hidden).length"
    everything = page.evaluate(visible)
    page.evaluate("(() => { const s = document.querySelector('select[data-col=\"4\"]');"
                  " s.value = 'fail'; s.dispatchEvent(new Event('change')); })()")
    assert page.evaluate(visible) == 1 < everything
    page.evaluate("(() => { const s = document.querySelector('select[data-col=\"4\"]');"
                  " s.value = ''; s.dispatchEvent(new Event('change')); })()")
    page.evaluate("document.querySelector('div.filters button').click()")
    first = page.evaluate("document.querySelector('#checks-table tbody tr').cells[7].textContent")
    assert float(first) == 4.0


CJK = "[\u3040-\u30ff\u4e00-\u9fff]"


def _own_texts(node):
    """(element node id, the text of its own text children) for every element."""
    children = node.get("children", [])
    own = "".join(c.get("nodeValue", "") for c in children if c.get("nodeType") == 3)
    if node.get("nodeType") == 1 and own.strip() and node.get("nodeName") not in ("SCRIPT", "STYLE"):
        yield node["nodeId"], own
    for child in children:
        yield from _own_texts(child)


def test_a_japanese_page_shows_every_character(page, tmp_path):
    """No tofu: every element with Japanese text is drawn with a font that has its glyphs
    (the platform fonts Chromium used for it, over the DevTools protocol), and each kanji or
    kana is as wide as a CJK font makes it (one em)."""
    report = tmp_path / "report"
    index = lstm_report(report, lang="ja")
    for path in (index, report / "ops" / "lstm.html", report / "tolerance.html"):
        _, errors = page.load(path)
        assert errors == [] and page.evaluate("document.documentElement.lang") == "ja"
        text = page.evaluate("document.body.innerText")
        assert "成績" in text or "量ごとのまとめ" in text or "この値にした理由" in text
        assert "忘却ゲートの勾配" in text or path.name != "lstm.html"
        page.send("DOM.enable")
        page.send("CSS.enable")
        checked = 0
        for node, text in _own_texts(page.send("DOM.getDocument", {"depth": -1})["root"]):
            if not re.search(CJK, text):
                continue
            fonts = page.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
            if not fonts:      # not rendered (a closed <select>'s options, say)
                continue
            checked += 1
            names = ", ".join(f["familyName"] for f in fonts)
            assert re.search(r"CJK|JP|Gothic|Mincho|IPA|Takao|VL", names), (text[:60], names)
        assert checked >= 3
        ratio = page.evaluate("(() => { const c = document.createElement('canvas').getContext('2d');"
                              " c.font = getComputedStyle(document.body).font;"
                              " return c.measureText('勾配逆伝播順伝播').width /"
                              " parseFloat(getComputedStyle(document.body).fontSize); })()")
        assert 7.5 <= ratio <= 8.5, f"8 kanji and kana are {ratio:.2f} em wide"
