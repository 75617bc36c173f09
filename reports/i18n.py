"""The words of the report and of the terminal summary, in English and in Japanese.

    t(key, lang, **fields)   one message, formatted; English where Japanese is missing
    default_lang(environ)    "ja" where the locale is Japanese (LC_ALL, LC_MESSAGES, LANG)

The Japanese follows the lecture notes' terms (勾配, 逆伝播, 順伝播, 忘却ゲート,
損失関数, 重み, バイアス ...). Names of ops, quantities (grad:W), witnesses and
formulas stay as they are in both languages: they are what the code says.
"""
import os
import re
import unicodedata

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
    # -- the implementation's use of the answer key --
    "uses_answer_key": {"en": "uses the answer key", "ja": "模範解答を使っています"},
    "uses_answer_key_how": {"en": "(imports, derives from or delegates to backprop_oracle.impl)",
                            "ja": "（backprop_oracle.impl を import、継承、または呼び出しています）"},
    "imports_answer_key": {"en": "its module imports the answer key",
                           "ja": "このモジュールは模範解答を import しています"},
    "col_index": {"en": "index", "ja": "位置"},
    "formula_forward": {"en": "forward", "ja": "順伝播"},
    "formula_backward": {"en": "backward", "ja": "逆伝播"},
    # -- the worked example --
    "worked_heading": {"en": "Worked example", "ja": "計算例"},
    "worked_intro": {"en": "The smallest case of this op, {case}: every number of the forward and "
                           "the backward, computed by the answer key ({dtype}, seed {seed}; "
                           "{numbers} numbers, shown to 4 significant digits). These are the "
                           "arrays every witness checks for this case.",
                     "ja": "この演算のいちばん小さいケース {case} の、順伝播と逆伝播のすべての数です。"
                           "模範解答で計算しています（{dtype}、シード {seed}、{numbers} 個の数を"
                           "有効数字 4 桁で表示）。このケースで各検証器が確かめる配列そのものです。"},
    "worked_forward": {"en": "Forward", "ja": "順伝播"},
    "worked_backward": {"en": "Backward", "ja": "逆伝播"},
    "col_array": {"en": "array", "ja": "配列"},
    "col_role": {"en": "role", "ja": "役割"},
    "col_shape": {"en": "shape", "ja": "形"},
    "col_values": {"en": "values", "ja": "値"},
    "role_input": {"en": "input", "ja": "入力"},
    "role_parameter": {"en": "parameter", "ja": "パラメータ"},
    "role_extra": {"en": "extra input (not differentiated)", "ja": "補助の入力（微分しない）"},
    "role_output": {"en": "output", "ja": "出力"},
    "role_dout": {"en": "upstream gradient", "ja": "上流から伝わる勾配"},
    "role_gradient": {"en": "gradient", "ja": "勾配"},
    "role_result": {"en": "result", "ja": "結果"},
    # -- the tolerance page --
    "tol_rule": {"en": "A record passes when every element satisfies |a − b| ≤ atol + rtol·|b| "
                       "(a: the implementation, b: the witness). Its margin is the worst "
                       "|a − b| / (atol + rtol·|b|).",
                 "ja": "記録は、すべての要素が |a − b| ≤ atol + rtol·|b| を満たすとき合格です"
                       "（a: 実装、b: 検証器）。マージンは |a − b| / (atol + rtol·|b|) の最大値です。"},
    "tol_policy": {"en": "Policy", "ja": "基準の表"},
    "tol_cross": {"en": "Two witnesses compared with each other (torch~jax) use the larger of their "
                        "two tolerances. This page shows the policy of the version that rendered "
                        "the report.",
                  "ja": "検証器どうしの比較（torch~jax）では、2 つの許容誤差の大きいほうを使います。"
                        "このページはレポートを作った版の基準を示します。"},
    "tol_why": {"en": "Why these numbers", "ja": "この値にした理由"},
    "tol_overrides": {"en": "Overrides ({n})", "ja": "演算ごとの例外（{n}）"},
    "tol_overrides_intro": {"en": "An op may depart from the table only with a written reason. Keys: "
                                  "witness, witness/dtype or */dtype. Each reason once, with the ops "
                                  "and keys it applies to.",
                            "ja": "演算が表と違う値を使うには、書かれた理由が必要です。キーは "
                                  "witness、witness/dtype、*/dtype のいずれかです。理由は 1 回ずつ、"
                                  "適用する演算とキーを添えて示します。"},
    "col_reason": {"en": "reason", "ja": "理由"},
    "col_applies": {"en": "applies to (op: key, rtol, atol)", "ja": "適用先（演算: キー, rtol, atol）"},
    "col_applies_to": {"en": "applies to (op: witness)", "ja": "適用先（演算: 検証器）"},
    "tol_no_overrides": {"en": "None: every op uses the policy table.",
                         "ja": "ありません。すべての演算が表の値を使います。"},
    "tol_unavailable": {"en": "Witnesses that cannot check an op ({n})",
                        "ja": "演算を確かめられない検証器（{n}）"},
    "tol_unavailable_intro": {"en": "Each reason once, with the ops and witnesses it applies to.",
                              "ja": "理由は 1 回ずつ、適用する演算と検証器を添えて示します。"},
    "none": {"en": "None.", "ja": "ありません。"},
    # -- grade() / check() results (print(result), the notebook's cell) --
    "res_nothing": {"en": "{who}: nothing attempted ({n} checks not attempted)",
                    "ja": "{who}: 実施なし（未実装のチェック {n}）"},
    "res_summary": {"en": "{who}: {passed}/{attempted} checks passed ({percent}%), {verdict}{rest}",
                    "ja": "{who}: {passed}/{attempted} チェック合格 ({percent}%)、{verdict}{rest}"},
    "res_all_passed": {"en": "all passed", "ja": "すべて合格"},
    "res_failed": {"en": "{n} failed", "ja": "{n} 不合格"},
    "res_ops_not_attempted": {"en": "; {n} ops not attempted", "ja": "、未実装の演算 {n}"},
    "res_checks": {"en": "checks", "ja": "チェック"},
    "res_worst": {"en": "worst margin", "ja": "最悪のマージン"},
    "res_failing": {"en": "failing quantities", "ja": "不合格の量"},
    "res_problems": {"en": "problems ({n} distinct):", "ja": "問題（{n} 件）:"},
    "res_problems_heading": {"en": "Problems ({n} distinct)", "ja": "問題（{n} 件）"},
    "res_n_checks": {"en": "{n} checks", "ja": "{n} チェック"},
    "res_not_attempted": {"en": "not attempted ({n} ops): {names}", "ja": "未実装（{n} 演算）: {names}"},
    "res_what": {"en": "what is wrong", "ja": "何が違うか"},
    "res_worst_at": {"en": "worst seen at", "ja": "最悪の記録"},
    "res_cell": {"en": "cell: records passed / records, worst margin below "
                       "(|a - b| / (atol + rtol |b|), at most 1 passes).",
                 "ja": "セル: 合格した記録 / 記録、その下に最悪のマージン"
                       "（|a - b| / (atol + rtol |b|)、1 以下なら合格）。"},
    "res_margin_below": {"en": "margin < {bound}", "ja": "マージン < {bound}"},
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


def pad(text, width, align="<"):
    """`text` padded to `width` terminal columns (a CJK character takes two)."""
    columns = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    fill = " " * max(0, width - columns)
    return text + fill if align == "<" else fill + text


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


# Sentences the harness writes into results.json in English: why a run is partial, why a
# device is absent, what a class owes the answer key, why a check was not attempted. The
# record keeps its English (it is the record); the report and the terminal show these in
# Japanese through the patterns below. A sentence no pattern knows (a learner's exception,
# a spec's own prose) is shown as it is.
PHRASES_JA = [(re.compile(pattern, re.S), ja) for pattern, ja in (
    (r"the run was interrupted", "実行が中断されました"),
    (r"a worker crashed while running (?P<what>.+)", "{what} の実行中にワーカーが異常終了しました"),
    (r"only (?P<done>\d+) of (?P<total>\d+) checks finished",
     "{total} チェックのうち終わったのは {done} チェックだけです"),
    (r"no NVIDIA GPU on this machine \(no /dev/nvidiactl, no nvidia-smi\)",
     "この機械には NVIDIA GPU がありません（/dev/nvidiactl も nvidia-smi もありません）"),
    (r"--tf32 needs a CUDA device: (?P<why>.+)", "--tf32 には CUDA デバイスが必要です: {why}"),
    (r"none selected", "選ばれていません"),
    (r"(?P<name>\w+) is the answer key's own class \((?P<where>[\w.]+)\)",
     "{name} は模範解答のクラスそのものです（{where}）"),
    (r"(?P<name>\w+) derives from the answer key's (?P<where>[\w.]+)",
     "{name} は模範解答の {where} を継承しています"),
    (r"(?P<name>\w+) uses the answer key \((?P<used>[^()]*)\)", "{name} は模範解答（{used}）を使っています"),
    (r"(?P<name>\w+) uses the answer key", "{name} は模範解答を使っています"),
    (r"its module imports backprop_oracle's answer key",
     "このモジュールは backprop_oracle の模範解答を import しています"),
    (r"(?P<what>[\w.]+) raises NotImplementedError", "{what} は NotImplementedError を送出します（未実装）"),
    (r"(?P<what>[\w.]+) raises NotImplementedError: (?P<why>.+)",
     "{what} は NotImplementedError を送出します（未実装）: {why}"),
    (r"(?P<module>\S+) has no class (?P<name>\w+)", "{module} には {name} クラスがありません"),
    (r"impl \(the answer key\)", "impl（模範解答）"),
    (r"golden cases only", "golden のケースだけを確かめる"),
    (r"a golden case is checked against its printed values", "golden のケースは講義ノートに載っている値と比べる"),
    (r"case '(?P<case>\w+)' is not checked by (?P<oracle>[\w~]+)", "ケース '{case}' は {oracle} では確かめない"),
    (r"the implementation has no (?P<name>\w+)", "実装には {name} がありません"),
    (r"the implementation's sources were not recorded in this run's results",
     "この実行の結果には実装のソースが記録されていません"),
    (r"source of (?P<name>\w+) not available(?P<why>.*)", "{name} のソースは得られません{why}"),
    (r"a zero-size case \(an edge form the answer key is held to; your code need not handle "
     r"it\) raised:\n(?P<error>.*)",
     "大きさ 0 のケース（模範解答には課している境界の形で、自分のコードで扱う必要はありません）で"
     "例外が出ました:\n{error}"),
)]


PHRASE_DEPTH = 4     # a reason inside a reason ("--tf32 needs ...: no NVIDIA GPU ..."), no deeper


def phrase(text, lang="en", known=None, depth=0):
    """`text` (a sentence the harness wrote in English) in `lang`, where a pattern knows it,
    or `known` ({English: Japanese}: an op's own prose, which a skipped record cites).
    Several runs' reasons joined by "; " (a merged report), each "source: reason", are each
    translated. A learner's message reaches this too: each part is translated once, at most
    PHRASE_DEPTH levels deep, so no message costs more than its length times that."""
    if lang != "ja" or not text or depth > PHRASE_DEPTH:
        return text
    if known and known.get(text):
        return known[text]
    inner = lambda part: phrase(part, lang, None, depth + 1)
    for pattern, ja in PHRASES_JA:
        found = pattern.fullmatch(text)
        if found:
            return ja.format(**{k: inner(v or "") if k in ("why", "what") else (v or "")
                                for k, v in found.groupdict().items()})
    if "; " in text and depth == 0:
        return "; ".join(inner(part) for part in text.split("; "))
    source, sep, rest = text.partition(": ")
    if sep and " " not in source:
        translated = inner(rest)
        if translated != rest:
            return f"{source}: {translated}"
    return text
