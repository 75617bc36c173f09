"""The report as read: cells and badges that say what they mean, readable plots, prose maths,
a tolerance page with each reason once, and the whole of it in Japanese with --lang ja."""
import os
import re

from backprop_oracle.conformance import plugin
from backprop_oracle.oracle import registry
from backprop_oracle.reports import i18n, plots
from backprop_oracle.reports.model import load_results
from backprop_oracle.reports.render import fix_mathml, matrix, prose, render

from test_report import meta, read, record

HERE = os.path.dirname(os.path.abspath(__file__))


def test_skipped_records_are_not_in_a_cells_denominator_and_zero_is_not_red(tmp_path):
    records = [record(oracle="fd"), record(oracle="fd", quantity="grad:b"),
               record(oracle="fd", quantity="out", status="skipped", margin=None),
               record(oracle="golden", status="skipped", margin=None)]
    table, columns = matrix(records)
    cell = table["linear"]["affine"][("fd@cpu", "float64")]
    assert (cell["passed"], cell["attempted"]) == (2, 2)
    assert ("golden@cpu", "float64") not in columns          # nothing attempted: not drawn
    render({"meta": meta(), "records": records}, str(tmp_path))
    index = read(tmp_path / "index.html")
    assert "2/2" in index and "2/3" not in index
    assert '<span class="badge zero">0 fail</span>' in index
    assert '<span class="badge zero">0 error</span>' in index
    assert "blank: the witness does not check this op here" in index


def test_each_series_of_a_plot_has_its_own_marker():
    series = [(f"{w}@cpu", d) for w in ("golden", "torch", "jax", "fd", "torch~jax")
              for d in ("float64", "float32")]
    entries = plots.legend_entries(series)
    assert len({(shape, hollow) for _, shape, hollow in entries}) == len(series)
    records = [record(oracle=w.split("@")[0], dtype=d, case=c) for w, d in series
               for c in ("batch3", "a_rather_long_case_name", "x")]
    svg = plots.error_plot(records, ["batch3", "x"])
    sizes = {float(s) for s in re.findall(r'font-size="([\d.]+)"', svg)}
    assert sizes == {12.0}                                     # the page's small text size
    assert float(re.search(r'width="(\d+)"', svg).group(1)) <= 1300
    assert svg.count("<use ") == len(series) * 4              # 3 cases + the legend


def test_latex_in_prose_is_mathml_and_plus_equals_is_one_operator():
    html = str(prose("the denominator sum of w_{t_n} and c^{t-1}, e^{-beta|x|}: done"))
    assert html.count("<math") == 3 and "w_{" not in html and "c^{" not in html
    assert "<mi>β</mi>" in html                                # beta, the Greek letter
    assert "the denominator sum of " in html and ": done" in html
    from latex2mathml.converter import convert
    fixed = fix_mathml(convert(r"y \mathrel{+}= b"))
    assert "<mo>+=</mo>" in fixed
    assert str(prose("<b>not html</b>")) == "&lt;b&gt;not html&lt;/b&gt;"


def test_the_tolerance_page_gives_each_reason_once_as_prose(tmp_path):
    render({"meta": meta(), "records": [record()]}, str(tmp_path))
    page = read(tmp_path / "tolerance.html")
    reasons = [o.reason for s in registry.all_specs() for o in s.overrides.values()]
    repeated = max(set(reasons), key=reasons.count)
    assert reasons.count(repeated) > 1
    reasons_html = page.split('id="overrides"')[1]
    shown = str(prose(repeated))
    assert reasons_html.count(shown[:60]) == 1
    why = page.split('id="reasons"')[1].split('id="overrides"')[0]
    from backprop_oracle.oracle.tolerance import POLICY, WHY
    assert why.count("<dd>") == len(WHY)                     # one reason per row of the table
    rows = [(w, y.dtype) for y in WHY for w in y.witnesses]
    assert sorted(rows) == sorted(POLICY)                    # every row has exactly one
    unavailable = page.split('id="unavailable"')[1]
    whys = [v for s in registry.all_specs() for v in s.unavailable.values()]
    for reason in set(whys):
        assert unavailable.count(str(prose(reason))[:50]) == 1, reason


def test_a_locale_of_japan_means_japanese_unless_told_otherwise():
    assert i18n.default_lang({"LANG": "ja_JP.UTF-8"}) == "ja"
    assert i18n.default_lang({"LC_ALL": "ja_JP.eucJP", "LANG": "en_US.UTF-8"}) == "ja"
    assert i18n.default_lang({"LC_ALL": "C", "LANG": "ja_JP.UTF-8"}) == "en"   # LC_ALL wins
    assert i18n.default_lang({}) == "en"
    for key, entry in i18n.MESSAGES.items():       # every message has both languages
        assert entry.get("en") and entry.get("ja"), key
        fields = lambda text: sorted(re.findall(r"\{(\w+)\}", text))
        assert fields(entry["en"]) == fields(entry["ja"]), key


def test_a_japanese_run_of_a_learners_layer(suite, tmp_path):
    env_lang = {"LANG": "ja_JP.UTF-8"}
    result = suite("--impl", os.path.join(HERE, "planted", "bias_not_summed.py"), "--op", "affine",
                   "--oracle", "torch", "--dtype", "float64", "--report-dir", str(tmp_path),
                   env=env_lang)
    assert result.returncode == 1
    summary = result.stdout.split("= backprop-oracle =")[1]
    for words in ("成績", "チェック合格", "全体", "問題", "再実行", "b の勾配（逆伝播）"):
        assert words in summary, words
    data = load_results(tmp_path / "results.json")
    assert data["meta"]["lang"] == "ja"
    index = read(tmp_path / "index.html")
    assert '<html lang="ja">' in index and "成績" in index and "一致表" in index
    bad = [r for r in data["records"] if r["status"] == "fail"]
    expected = bad[0].get("diagnosis_ja") or bad[0]["diagnosis"]
    assert expected in index
    page = read(tmp_path / "ops" / "affine.html")
    assert "量ごとのまとめ" in page and "<math" in page        # the formulas as they are
    english = suite("--impl", os.path.join(HERE, "planted", "bias_not_summed.py"), "--op", "affine",
                    "--oracle", "torch", "--dtype", "float64", "--lang", "en",
                    "--report-dir", str(tmp_path / "en"), env=env_lang)
    assert "grade (passed / attempted)" in english.stdout


def test_a_japanese_diagnosis_is_shown_where_the_record_has_one(tmp_path):
    records = [dict(record(status="fail", margin=3.0, diagnosis="dW is transposed"),
                    diagnosis_ja="dW が転置されています")]
    render({"meta": meta(), "records": records}, str(tmp_path), lang="ja")
    assert "dW が転置されています" in read(tmp_path / "index.html")
    assert "dW が転置されています" in read(tmp_path / "ops" / "affine.html")
    render({"meta": meta(), "records": records}, str(tmp_path / "en"), lang="en")
    assert "dW is transposed" in read(tmp_path / "en" / "index.html")
    from backprop_oracle.oracle.engine import Check    # the terminal's text of one failing check
    text = plugin.failure_text(Check("affine", "batch3", "torch", "cpu", "float64"), records, "ja")
    assert "dW が転置されています" in text and "不合格" in text


def test_identifiers_of_code_in_prose_stay_text():
    html = str(prose("weights in torch's layout weight_ih_l0, num_layers=2, h_n and c_n"))
    assert "weight_ih_l0" in html and "num_layers=2" in html and html.count("<math") == 2


def test_the_frame_of_every_page_is_japanese_and_the_harness_reasons_too(tmp_path):
    """What the harness writes (headings, the worked example, the tolerance page, a partial
    run's and an absent device's reasons) is Japanese; spec prose is Japanese where the spec
    gives it."""
    partial = dict(meta(partial=True), partial_reason="only 3 of 10 checks finished",
                   devices_absent={"cuda": "no NVIDIA GPU on this machine (no /dev/nvidiactl, "
                                           "no nvidia-smi)"})
    render({"meta": partial, "records": [record()]}, str(tmp_path), lang="ja")
    index = read(tmp_path / "index.html")
    assert "10 チェックのうち終わったのは 3 チェックだけです" in index
    assert "NVIDIA GPU がありません" in index and "no nvidia-smi" not in index
    page = read(tmp_path / "ops" / "affine.html")
    assert "計算例" in page and "Worked example" not in page and "上流から伝わる勾配" in page
    tolerance = read(tmp_path / "tolerance.html")
    for english in ("Why these numbers", "Overrides", "A record passes", "Witnesses that cannot"):
        assert english not in tolerance, english
    from backprop_oracle.oracle.tolerance import WHY
    assert all(w.ja in tolerance for w in WHY)
    render({"meta": partial, "records": [record()]}, str(tmp_path / "en"), lang="en")
    assert "only 3 of 10 checks finished" in read(tmp_path / "en" / "index.html")
    assert all(w.en.replace("'", "&#39;") in read(tmp_path / "en" / "tolerance.html") for w in WHY)


def test_a_harness_sentence_is_translated_and_a_learners_is_left_as_it_is():
    assert i18n.phrase("Affine raises NotImplementedError", "ja") == \
        "Affine は NotImplementedError を送出します（未実装）"
    assert i18n.phrase("cpu-box: the run was interrupted; gpu-box: only 1 of 2 checks finished",
                       "ja") == "cpu-box: 実行が中断されました; gpu-box: 2 チェックのうち終わったのは 1 チェックだけです"
    learner = "ValueError: shapes (3,4) and (5,4) not aligned; see x.py:12"
    assert i18n.phrase(learner, "ja") == learner
    assert i18n.phrase("the run was interrupted", "en") == "the run was interrupted"


def test_a_skipped_records_message_is_the_ops_prose_in_japanese(tmp_path):
    spec = registry.get("lstm_peephole")
    why = spec.unavailable["torch"]
    records = [record(op="lstm_peephole", case="batch1", quantity="out"),
               record(op="lstm_peephole", case="batch1", quantity="grad:x", status="fail",
                      margin=3.0, diagnosis="wrong"),
               record(op="lstm_peephole", case="batch1", oracle="torch", quantity="*",
                      status="skipped", margin=None, message=why)]
    render({"meta": meta(), "records": records}, str(tmp_path), lang="ja")
    rows = read(tmp_path / "ops" / "lstm_peephole.html").split('id="not-passed"')[1]
    rows = rows.split('id="source"')[0]
    assert spec.unavailable_ja["torch"] in rows and why not in rows


def test_a_learners_message_cannot_make_the_translation_blow_up(monkeypatch):
    """Learner text reaches phrase(): "a: a: ... a: <a known sentence>" once cost 2^depth calls
    (a report that never renders); each part is now translated once, a few levels deep."""
    calls = []
    original = i18n.phrase
    monkeypatch.setattr(i18n, "phrase", lambda *a, **k: calls.append(1) or original(*a, **k))
    message = "a: " * 12 + "the run was interrupted"    # the old code: 2^12 calls
    assert original(message, "ja") == message          # too deep to be the harness's own
    assert len(calls) <= i18n.PHRASE_DEPTH + 1
    assert original("x raises NotImplementedError: " * 500, "ja")
