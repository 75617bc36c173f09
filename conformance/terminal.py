"""What the suite prints: a short text per failing check, and at the end the grade and
each distinct problem once (one mistake, one line), in English or in Japanese.

Text that comes from the implementation under test (its messages, diagnoses that
quote it, excerpts of its source) is passed through `plain` first: ANSI escapes
and other control characters are removed, so that a learner's string cannot
clear the screen, move the cursor or hide a line of the grade.
"""
import re

from ..reports.commands import check_command
from ..reports.i18n import diagnosis_text, phrase, quantity_label, t
from ..reports.model import counts, distinct_problems

from . import grading

# ESC [ ... final (CSI), ESC ] ... BEL or ESC \ (OSC), ESC P/X/^/_ ... ESC \ (DCS and the like),
# then any other two-character escape.
ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
                  r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?|\x1b[@-_]?|\x9b[0-?]*[ -/]*[@-~]")
# C0 but tab and newline, DEL, C1; the bidirectional overrides and isolates (they reorder a line).
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
MAX_PROBLEMS = 30   # lines of the grouped summary; the rest are in the report
MAX_LINE = 300      # characters of one diagnosis or message line in the terminal


def plain(text):
    """`text` without ANSI escapes or control characters (newlines and tabs kept)."""
    if not text:
        return ""
    text = str(text).replace("\r\n", "\n")
    return CONTROL.sub("", ANSI.sub("", text))


def _short(text, limit=MAX_LINE):
    text = " ".join(plain(text).split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def failure_text(check, records, lang="en"):
    """The text pytest shows for one failing check: one line per failing quantity, at most 4
    (pytest's own header above it names the check).

    The rerun command and the grouping of checks that fail for the same reason come in the
    summary at the end (summary_lines)."""
    bad = [r for r in records if r["status"] in ("fail", "error")]
    lines = []
    for r in bad[:4]:
        figures = f" margin {r['margin']:.3g}" if r.get("margin") is not None else ""
        what = diagnosis_text(r, lang) or phrase(_last_line(r.get("message")), lang)
        lines.append(f"  {r['quantity']} {t(r['status'], lang)}{figures}: {_short(what)}")
        where = _where(r.get("message"))
        if where and not diagnosis_text(r, lang):
            lines.append(f"      {_short(where)}")
    if len(bad) > 4:
        lines.append(f"  ... +{len(bad) - 4}")
    return "\n".join(line.strip() if i == 0 else line for i, line in enumerate(lines))


def _where(message):
    """The last 'file:line in function: code' line of an error's excerpt (the learner's line)."""
    lines = [line for line in plain(message).split("\n")[:-1] if " in " in line and ":" in line]
    return lines[-1] if lines else ""


def _last_line(message):
    lines = [line for line in plain(message).split("\n") if line.strip()]
    return lines[-1] if lines else ""


def problem_lines(records, options, suite, lang="en", limit=MAX_PROBLEMS):
    """Each distinct problem once: 'op: diagnosis', how many records, where, one rerun."""
    problems = distinct_problems(records)
    if not problems:
        return []
    lines = [t("problems_title", lang, n=len(problems))]
    for p in problems[:limit]:
        quantities = ", ".join(quantity_label(q, lang) for q in p["quantities"])
        words = (diagnosis_text(p["record"], lang) if p["record"].get("diagnosis")
                 else phrase(p["problem"], lang))
        lines.append(f"  {p['op']}: {_short(words)}")
        lines.append(f"      {t('problem_count', lang, records=p['records'], checks=p['checks'])}"
                     f"; {quantities}")
        lines.append(f"      {t('rerun', lang)}: {check_command(check_id(p['record']), options, suite)}")
    if len(problems) > limit:
        lines.append("  " + t("problems_more", lang, n=len(problems) - limit))
    return lines


def check_id(record):
    from ..oracle.engine import Check  # the one place that spells a check's id
    return Check(record["op"], record["case"], record["oracle"], record["device"],
                 record["dtype"]).id


def summary_lines(records, meta, lang="en"):
    """The end of the run: record counts, the grade, then each distinct problem once."""
    c = counts(records)
    line = ", ".join(f"{n} {t(s, lang)}" for s, n in c.items())
    partial = f"  [{t('partial', lang)}: {plain(phrase(meta['partial_reason'], lang))}]" if meta.get("partial") else ""
    lines = [f"{t('records', lang)}: {line}{partial}"]
    lines += grading.summary_lines(meta["grade"], lang)
    lines += problem_lines(records, meta.get("rerun_options") or [], meta.get("suite_path") or "conformance",
                           lang)
    return lines


class CleanReports:
    """Controller plugin: the captured output and failure text of a check, as pytest will
    print them, without control characters (a learner's print() reaches these)."""

    def __init__(self, run):
        self.run = run

    import pytest as _pytest

    @_pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report):
        if "test_op[" not in report.nodeid:
            return
        report.sections = [(plain(title), plain(content)) for title, content in report.sections]
        if report.longrepr is not None and not isinstance(report.longrepr, tuple):
            text = str(report.longrepr)
            if text != plain(text):
                report.longrepr = plain(text)
