"""The words of the report and of the terminal summary, in English and in Japanese.

    t(key, lang, **fields)   one message, formatted; English where Japanese is missing
    default_lang(environ)    "ja" where the locale is Japanese (LC_ALL, LC_MESSAGES, LANG)

The Japanese follows the lecture notes' terms (勾配, 逆伝播, 順伝播, 忘却ゲート,
損失関数, 重み, バイアス ...). Names of ops, quantities (grad:W), witnesses and
formulas stay as they are in both languages: they are what the code says.
"""
import os

LANGS = ("en", "ja")

MESSAGES = {
    # -- the grade (terminal and HTML) --
    "grade_title": {"en": "grade (passed / attempted):", "ja": "成績（合格 / 実施したチェック）:"},
    "grade_heading": {"en": "Grade", "ja": "成績"},
    "grade_fraction": {"en": "{passed}/{attempted} checks passed ({percent}%)",
                       "ja": "{passed}/{attempted} チェック合格 ({percent}%)"},
    "grade_nothing": {"en": "nothing attempted ({n} not attempted)", "ja": "実施なし（未実装 {n}）"},
    "grade_not_attempted": {"en": "{n} not attempted", "ja": "未実装 {n}"},
    "grade_unit": {"en": "A check is one op, case, witness, device and dtype; it passes when every "
                         "quantity (the output and each gradient) passes. Skipped and not attempted "
                         "checks are not in the denominator. The percentage is floored: one failure "
                         "never reads 100%.",
                   "ja": "チェックは演算・ケース・検証器・デバイス・dtype の 1 組です。出力と各勾配が"
                         "すべて許容誤差内のとき合格です。スキップと未実装は分母に入りません。"
                         "百分率は切り捨てで、不合格が 1 つでもあれば 100% にはなりません。"},
    "overall": {"en": "overall", "ja": "全体"},
    "family": {"en": "family", "ja": "分類"},
    # -- statuses --
    "pass": {"en": "pass", "ja": "合格"},
    "fail": {"en": "fail", "ja": "不合格"},
    "error": {"en": "error", "ja": "エラー"},
    "not_attempted": {"en": "not attempted", "ja": "未実装"},
    "skipped": {"en": "skipped", "ja": "スキップ"},
    # -- the terminal summary --
    "records": {"en": "records", "ja": "記録"},
    "partial": {"en": "PARTIAL", "ja": "途中まで"},
    "results_at": {"en": "results", "ja": "結果"},
    "report_at": {"en": "report", "ja": "レポート"},
    "not_rendered": {"en": "not rendered ({why})", "ja": "作成できませんでした（{why}）"},
    "problems_title": {"en": "distinct problems: {n} (each mistake once, with the records it explains)",
                       "ja": "問題: {n} 件（同じ間違いは 1 行に、説明できる記録の数とともに）"},
    "problem_count": {"en": "{records} records, {checks} checks", "ja": "記録 {records} 件、チェック {checks} 件"},
    "problems_more": {"en": "... and {n} more: see the report",
                      "ja": "... ほか {n} 件はレポートを見てください"},
    "rerun": {"en": "rerun", "ja": "再実行"},
    "rerun_written": {"en": "this run checks a subset ({what}): its report is in {where}; "
                            "the full report in {full} is kept",
                      "ja": "この実行は一部のチェックだけです（{what}）: レポートは {where} に"
                            "書き、{full} の全体のレポートはそのまま残します"},
    "kept_old": {"en": "rendering was interrupted: the report in {where} holds results.json and a "
                       "short index of this run; render it again with: {command}",
                 "ja": "レポートの作成が中断されました: {where} にはこの実行の results.json と"
                       "短い index があります。作り直すには: {command}"},
    # -- quantities --
    "q_out": {"en": "out (forward)", "ja": "out（順伝播の出力）"},
    "q_grad": {"en": "{name} (gradient)", "ja": "{name} の勾配（逆伝播）"},
    "q_all": {"en": "the whole check", "ja": "チェック全体"},
    # -- the HTML report --
    "report_title": {"en": "backprop-oracle report", "ja": "backprop-oracle レポート"},
    "nav_report": {"en": "Report", "ja": "レポート"},
    "nav_problems": {"en": "Problems", "ja": "問題"},
    "nav_matrix": {"en": "Agreement matrix", "ja": "一致表"},
    "nav_witnesses": {"en": "Witness disagreements", "ja": "検証器どうしの不一致"},
    "nav_tolerance": {"en": "Tolerances", "ja": "許容誤差"},
    "partial_banner": {"en": "Partial run: {why}. What is shown is what was done; the rest was not run.",
                       "ja": "途中までの実行: {why}。表示しているのは実行できた分だけです。"},
    "partial_suffix": {"en": " (partial)", "ja": "（途中まで）"},
    "complete_run": {"en": "complete run", "ja": "すべて実行済み"},
    "all_passed": {"en": "Every attempted check passed.", "ja": "実施したチェックはすべて合格です。"},
    "problems_heading": {"en": "Problems ({n})", "ja": "問題（{n} 件）"},
    "problems_intro": {"en": "Each distinct problem once: failing records grouped by op and "
                             "diagnosis, with how many records it explains and one command that "
                             "reruns one of them. Every record is on its op's page.",
                       "ja": "同じ間違いは 1 行にまとめています（演算と診断ごと）。その間違いで"
                             "説明できる記録の数と、そのうち 1 つを再実行するコマンドを示します。"
                             "記録の一覧は各演算のページにあります。"},
    "col_op": {"en": "op", "ja": "演算"},
    "col_problem": {"en": "diagnosis", "ja": "診断"},
    "col_quantities": {"en": "quantities", "ja": "量"},
    "col_explains": {"en": "records explained", "ja": "記録数"},
    "col_where": {"en": "where", "ja": "どこで"},
    "col_case": {"en": "case", "ja": "ケース"},
    "col_witness": {"en": "witness@device", "ja": "検証器@デバイス"},
    "col_quantity": {"en": "quantity", "ja": "量"},
    "col_status": {"en": "status", "ja": "結果"},
    "col_message": {"en": "diagnosis / message", "ja": "診断 / メッセージ"},
    "col_rerun": {"en": "rerun", "ja": "再実行"},
    "summary_heading": {"en": "Run", "ja": "実行"},
    "impl_under_test": {"en": "implementation under test", "ja": "テスト対象の実装"},
    "witnesses": {"en": "witnesses", "ja": "検証器"},
    "devices": {"en": "devices", "ja": "デバイス"},
    "absent": {"en": "{device} absent: {why}", "ja": "{device} なし: {why}"},
    "seed": {"en": "seed", "ja": "シード"},
    "versions": {"en": "versions", "ja": "バージョン"},
    "host": {"en": "host", "ja": "ホスト"},
    "when": {"en": "when", "ja": "日時"},
    "command": {"en": "command", "ja": "コマンド"},
    "run_from": {"en": "run from", "ja": "実行したフォルダ"},
    "checks": {"en": "checks", "ja": "チェック"},
    "checks_finished": {"en": "{finished} of {collected} finished", "ja": "{collected} 件中 {finished} 件終了"},
    "complete": {"en": "complete", "ja": "完了"},
    "yes": {"en": "yes", "ja": "はい"},
    "no": {"en": "no", "ja": "いいえ"},
    "records_of": {"en": "of {n} records", "ja": "（全 {n} 記録）"},
    "matrix_intro": {"en": "One row per op, one column per witness@device and dtype. A cell counts "
                           "the records that passed out of those attempted (one record per "
                           "quantity: the output and each gradient, over the op's cases; skipped "
                           "records are not counted) and shows the worst margin, "
                           "max |a−b| / (atol + rtol·|b|): a record passes when its margin is at "
                           "most 1. Click an op or a cell for its page.",
                     "ja": "行は演算、列は検証器@デバイスと dtype です。セルは合格した記録の数 / "
                           "実施した記録の数（記録は量ごと: 順伝播の出力と各勾配、ケースごと。"
                           "スキップは数えません）と、最悪のマージン max |a−b| / (atol + rtol·|b|) "
                           "を示します。マージンが 1 以下なら合格です。演算名かセルをクリックすると"
                           "その演算のページを開きます。"},
    "legend_fail": {"en": "fail or error", "ja": "不合格またはエラー"},
    "legend_empty": {"en": "blank: the witness does not check this op here", "ja": "空欄: この検証器はここでこの演算を確かめません"},
    "band_m0": {"en": "margin < 0.001", "ja": "マージン < 0.001"},
    "band_m1": {"en": "< 0.1", "ja": "< 0.1"},
    "band_m2": {"en": "< 0.5", "ja": "< 0.5"},
    "band_m3": {"en": "< 1: passes, close to the tolerance", "ja": "< 1: 合格、許容誤差に近い"},
    "witnesses_intro": {"en": "Where torch and jax both check a case on the same device and dtype, "
                              "their results are also compared with each other. A disagreement "
                              "here is a finding about the frameworks, not a failure of the "
                              "implementation: it never fails a check and is not counted above.",
                        "ja": "torch と jax が同じケースを同じデバイスと dtype で確かめるとき、"
                              "両者の結果どうしも比べます。ここでの不一致はフレームワークについての"
                              "所見で、実装の不合格ではありません（成績には数えません）。"},
    "no_disagreement": {"en": "No disagreement beyond tolerance.", "ja": "許容誤差を超える不一致はありません。"},
    "no_cross": {"en": "No case was checked by both torch and jax in this run.",
                 "ja": "この実行では torch と jax の両方で確かめたケースはありません。"},
    "filter": {"en": "Show", "ja": "表示"},
    "all": {"en": "all", "ja": "すべて"},
    "sort_margin": {"en": "sort by margin", "ja": "マージン順"},
    # -- the op page --
    "op_summary": {"en": "Summary per quantity", "ja": "量ごとのまとめ"},
    "op_summary_intro": {"en": "Each quantity over every case, witness, device and dtype of this run.",
                         "ja": "この実行のすべてのケース・検証器・デバイス・dtype にわたる、量ごとの結果です。"},
    "ok": {"en": "ok", "ja": "合格"},
    "wrong": {"en": "wrong", "ja": "不合格"},
    "formulas": {"en": "Formulas", "ja": "数式"},
    "no_formula": {"en": "The spec gives no formula.", "ja": "仕様に数式はありません。"},
    "convention": {"en": "Convention", "ja": "規約"},
    "no_convention": {"en": "No convention noted: it is the textbook definition.",
                      "ja": "特別な規約はありません（教科書どおりの定義です）。"},
    "plot_heading": {"en": "Errors against tolerance", "ja": "許容誤差に対する誤差"},
    "plot_intro": {"en": "Each point is one check (case × witness@device × dtype): its worst margin "
                         "over the quantities. The dashed line is the tolerance (margin 1); below "
                         "it passes. Filled: float64, hollow: float32. Exact agreement is drawn at 1e-12.",
                   "ja": "各点は 1 つのチェック（ケース × 検証器@デバイス × dtype）の、量のうち最悪の"
                         "マージンです。破線が許容誤差（マージン 1）で、それより下が合格です。"
                         "塗りつぶし: float64、中空: float32。完全一致は 1e-12 に描きます。"},
    "no_plot": {"en": "No record has a margin to plot.", "ja": "描けるマージンを持つ記録はありません。"},
    "cases": {"en": "Cases", "ja": "ケース"},
    "why_case": {"en": "why it exists", "ja": "なぜあるか"},
    "hparams": {"en": "hyperparameters", "ja": "ハイパーパラメータ"},
    "arrays": {"en": "arrays", "ja": "配列"},
    "rerun_case": {"en": "rerun this case", "ja": "このケースを再実行"},
    "every_check": {"en": "Every check", "ja": "すべてのチェック"},
    "grid_intro": {"en": "The worst margin of each check, max |a−b| / (atol + rtol·|b|) over its "
                         "quantities (a = the implementation, b = the witness): at most 1 passes. "
                         "Columns torch~jax compare two witnesses with each other.",
                   "ja": "各チェックの最悪のマージン max |a−b| / (atol + rtol·|b|)（量のうち最大、"
                         "a は実装、b は検証器の値）です。1 以下なら合格です。torch~jax の列は"
                         "検証器どうしの比較です。"},
    "not_passed": {"en": "Checks that did not pass ({n} records)",
                   "ja": "合格しなかったチェック（記録 {n} 件）"},
    "checks_intro": {"en": "One row per record of each check that did not pass (every quantity "
                           "of it, the passing ones too). Rows in italics compare two witnesses "
                           "with each other (not the implementation).",
                     "ja": "合格しなかったチェックの記録を 1 行ずつ示します（そのチェックの合格した量も"
                           "含みます）。斜体の行は検証器どうしの比較です（実装ではありません）。"},
    "source_of": {"en": "Source of {name} in the implementation under test",
                  "ja": "テスト対象の実装における {name} のソース"},
    "no_spec": {"en": "This version of backprop-oracle has no spec named {op}: only its records are shown.",
                "ja": "この版の backprop-oracle には {op} という仕様がありません。記録だけを示します。"},
    "tolerance_heading": {"en": "Tolerances", "ja": "許容誤差"},
}

STATUS_KEYS = ("pass", "fail", "error", "not_attempted", "skipped")


def t(key, lang="en", **fields):
    """The message `key` in `lang` (English where it has no translation), formatted."""
    entry = MESSAGES[key]
    text = entry.get(lang) or entry["en"]
    return text.format(**fields) if fields else text


def default_lang(environ=None):
    """"ja" where the locale is Japanese, else "en" (POSIX order: LC_ALL, LC_MESSAGES, LANG)."""
    environ = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name)
        if value:
            return "ja" if value.lower().startswith("ja") else "en"
    return "en"


def quantity_label(quantity, lang="en"):
    """'grad:W' -> 'W (gradient)' / 'W の勾配（逆伝播）'; 'out' -> the forward output."""
    if quantity == "out":
        return t("q_out", lang)
    if quantity.startswith("grad:"):
        return t("q_grad", lang, name=quantity[5:])
    if quantity == "*":
        return t("q_all", lang)
    return quantity


def diagnosis_text(record, lang="en"):
    """The record's diagnosis in `lang`: diagnosis_ja where there is one, else the English."""
    if lang == "ja" and record.get("diagnosis_ja"):
        return record["diagnosis_ja"]
    return record.get("diagnosis") or ""
