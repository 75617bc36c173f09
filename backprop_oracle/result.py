"""What `grade()` and `check()` return: the records of a run, read per op and per quantity.

    result = backprop_oracle.grade(my_layers)
    result.passed, result.attempted        # checks passed / attempted (as the suite's grade)
    result.ok                              # something attempted, and every attempted check passed
    result["affine"].quantities["grad:W"]  # one op, one quantity (result.quantities: all)
    result.problems                        # the distinct problems: one per (op, diagnosis)
    print(result)                          # a terminal summary; Jupyter shows result's HTML

A *check* is one (op, case, witness, device, dtype); it passes when every record of it
passes (the unit of the pytest run's grade, conformance/grading.py). A *record* is one
quantity of one check (`out`, `grad:W`, ...), exactly as in results.json.
"""
import os
from collections import defaultdict
from dataclasses import dataclass, field

from .conformance import grading
from .reports.i18n import diagnosis_text, pad, phrase, t
from .reports.model import counts, is_cross, problem_groups, representative, write_results

CHECK_KEY = ("op", "case", "oracle", "device", "dtype")
FAILING = ("fail", "error")


def _check_id(r):
    return "-".join(str(r[k]) for k in CHECK_KEY)


def _worst(records):
    margins = [r["margin"] for r in records if r.get("margin") is not None]
    return max(margins) if margins else None


def _status(statuses):
    """One status for several records or checks: the worst of them."""
    return grading.check_status(set(statuses))


def _what(r):
    """The one line a problem is known by: the diagnosis, else the message's last line."""
    text = (r.get("diagnosis") or r.get("message") or r["status"]).strip()
    if r["status"] == "error" and not r.get("diagnosis"):
        lines = [ln for ln in text.splitlines() if ln.strip()]
        return lines[-1] if lines else text
    return text


@dataclass
class Problem:
    """One distinct problem: every failing record of one op that says the same thing."""
    op: str
    family: str
    status: str                 # "fail" or "error"
    what: str                   # the diagnosis (a fail) or the error's last line
    quantities: list            # the quantities it was seen in
    checks: list                # ids of the checks it was seen in
    worst: dict                 # the record with the largest margin (an error: the first)
    detail: str = ""            # an error's excerpt: the learner's file, line and code
    ops: list = field(default_factory=list)   # as displayed: every op saying the same error
    shown: dict = field(default_factory=dict)  # the record it is known by (what it says)

    @property
    def count(self):
        return len(self.checks)

    def said(self, lang="en"):
        """`what` in `lang`: the Japanese diagnosis where the record has one."""
        if lang == "en":
            return self.what
        record = self.shown or self.worst
        if record.get("diagnosis"):
            return diagnosis_text(record, lang)
        return phrase(self.what, lang)


def problems(records):
    """The distinct problems of the implementation's records, grouped as the report and the
    terminal group them (reports.model.problem_groups: one per op and diagnosis, a case
    that cannot tell two mistakes apart counted with the one other cases name), op by op in
    the order the records came, the largest first; each with where it was seen."""
    first_seen = {}
    for i, r in enumerate(records):
        first_seen.setdefault(r["op"], i)
    out = []
    for rs in problem_groups(records):
        shown = representative(rs)
        status = "error" if any(r["status"] == "error" for r in rs) else "fail"
        worst = max(rs, key=lambda r: -1.0 if r.get("margin") is None else r["margin"])
        quantities = list(dict.fromkeys(r["quantity"] for r in rs))
        checks = list(dict.fromkeys(_check_id(r) for r in rs))
        detail = shown.get("message", "") if status == "error" else ""
        out.append(Problem(shown["op"], shown["family"], status, _what(shown), quantities, checks,
                           worst, detail, [shown["op"]], shown))
    return sorted(out, key=lambda p: (first_seen[p.op], -len(p.checks)))


@dataclass
class QuantityResult:
    """One quantity of one op (`out`, `grad:W`) over every check that compared it."""
    quantity: str
    records: list = field(default_factory=list)

    @property
    def passed(self):
        return sum(r["status"] == "pass" for r in self.records)

    @property
    def attempted(self):
        return sum(r["status"] in ("pass", "fail", "error") for r in self.records)

    @property
    def status(self):
        return _status(r["status"] for r in self.records)

    @property
    def worst_margin(self):
        return _worst(self.records)

    @property
    def diagnoses(self):
        return list(dict.fromkeys(_what(r) for r in self.records if r["status"] in FAILING))

    def __repr__(self):
        return (f"<{self.quantity}: {self.status}, {self.passed}/{self.attempted} records passed, "
                f"worst margin {_num(self.worst_margin)}>")


@dataclass
class OpResult:
    """One op: its checks (passed / attempted) and each quantity's records."""
    op: str
    family: str
    records: list = field(default_factory=list)

    def _tally(self):
        return grading.grade(self.records)["ops"].get(self.op) or {"passed": 0, "attempted": 0}

    @property
    def passed(self):
        return self._tally()["passed"]

    @property
    def attempted(self):
        return self._tally()["attempted"]

    @property
    def status(self):
        """"pass", "fail" (a fail or an error), "not_attempted" or "skipped"."""
        status = _status(r["status"] for r in self.records if not is_cross(r))
        return "fail" if status == "error" else status

    @property
    def quantities(self):
        out = {}
        for r in self.records:
            if is_cross(r) or r["quantity"] == "*":
                continue
            out.setdefault(r["quantity"], QuantityResult(r["quantity"])).records.append(r)
        return out

    @property
    def worst_margin(self):
        return _worst([r for r in self.records if not is_cross(r)])

    @property
    def problems(self):
        return problems(self.records)

    @property
    def reason(self):
        """Why nothing was attempted (the first message), when nothing was."""
        return next((r["message"] for r in self.records if r["status"] == "not_attempted"), "")

    def __repr__(self):
        return f"<{self.op}: {self.status}, {self.passed}/{self.attempted} checks passed>"


def _num(value, fmt="{:.3g}"):
    return "-" if value is None else fmt.format(value)


class Result:
    """The outcome of grade() or check(): the records and what they add up to."""

    def __init__(self, records, meta, module=None):
        self.records = list(records)
        self._module = module           # for the sources on the report's op pages
        self.meta = dict(meta)
        self.lang = self.meta.get("lang") or "en"     # of print(result), the cell, the report
        self.grade = grading.grade(self.records)
        self.meta["grade"] = self.grade
        self._ops = None

    # -- the grade -------------------------------------------------------------------
    @property
    def passed(self):
        """Checks passed (a check: one op, case, witness, device and dtype)."""
        return self.grade["overall"]["passed"]

    @property
    def attempted(self):
        """Checks attempted: everything but "not attempted" and skipped."""
        return self.grade["overall"]["attempted"]

    @property
    def failed(self):
        return self.attempted - self.passed

    @property
    def ok(self):
        """True when something was attempted and every attempted check passed."""
        return self.attempted > 0 and self.passed == self.attempted

    def __bool__(self):
        return self.ok

    @property
    def counts(self):
        """Records by status (the implementation's; witness-against-witness records aside)."""
        return counts(self.records)

    # -- per op, per quantity -----------------------------------------------------------
    @property
    def ops(self):
        """{op: OpResult}, in the order of the run."""
        if self._ops is None:
            self._ops = {}
            for r in self.records:
                self._ops.setdefault(r["op"], OpResult(r["op"], r["family"])).records.append(r)
        return self._ops

    def __getitem__(self, op):
        try:
            return self.ops[op]
        except KeyError:
            raise KeyError(f"no op {op!r} in this result; it has: {', '.join(self.ops)}") from None

    @property
    def quantities(self):
        """{op: {quantity: QuantityResult}}: every op's quantities (out, grad:W, ...)."""
        return {op: o.quantities for op, o in self.ops.items()}

    def attempted_ops(self):
        return [o for o in self.ops.values() if o.attempted]

    def not_attempted_ops(self):
        return [o for o in self.ops.values() if not o.attempted and o.status == "not_attempted"]

    @property
    def problems(self):
        """The distinct problems, one per (op, diagnosis): see Problem."""
        return problems(self.records)

    def shown_problems(self):
        """The problems as displayed: an error that every op of several says alike (an import
        that failed, say) is one row naming those ops."""
        rows, seen = [], {}
        for p in self.problems:
            key = (p.status, p.what)
            if p.status == "error" and key in seen:
                first = seen[key]
                first.ops.append(p.op)
                first.checks = first.checks + p.checks
                continue
            p = Problem(**{**vars(p), "ops": [p.op]})
            seen[key] = p
            rows.append(p)
        for p in rows:
            shown = ", ".join(p.ops[:8])
            p.op = shown if len(p.ops) <= 8 else f"{len(p.ops)} ops ({shown}, ...)"
        return rows

    @property
    def diagnoses(self):
        """{op: [what each distinct problem of the op says]}."""
        out = defaultdict(list)
        for p in self.problems:
            out[p.op].append(p.what)
        return dict(out)

    # -- files ----------------------------------------------------------------------------
    def write(self, out_dir, html_report=True):
        """results.json (as the pytest run writes it) and, with jinja2, the full HTML report
        (index.html, op pages, in self.lang); returns the path of index.html or results.json."""
        os.makedirs(out_dir, exist_ok=True)
        path = os.path.join(out_dir, "results.json")
        write_results(path, self.meta, self.records)
        if not html_report:
            return path
        from .reports.render import render
        return render({"meta": self.meta, "records": self.records}, out_dir, module=self._module,
                      lang=self.lang)

    # -- display ----------------------------------------------------------------------------
    def summary(self):
        """One line: the grade, and what was not attempted."""
        g, lang = self.grade["overall"], self.lang
        who = self.meta.get("impl", "the implementation")
        if not g["attempted"]:
            return t("res_nothing", lang, who=who, n=g["not_attempted"])
        missing = self.not_attempted_ops()
        rest = t("res_ops_not_attempted", lang, n=len(missing)) if missing else ""
        verdict = t("res_all_passed", lang) if self.ok else t("res_failed", lang, n=self.failed)
        return t("res_summary", lang, who=who, passed=g["passed"], attempted=g["attempted"],
                 percent=f"{g['percent']:g}", verdict=verdict, rest=rest)

    def __str__(self):
        lang = self.lang
        lines = [self.summary(), ""]
        shown = self.attempted_ops()
        whole = t("q_all", lang)
        if shown:
            width = max(len(o.op) for o in shown)
            lines.append(f"  {pad(t('col_op', lang), width)}  {pad(t('res_checks', lang), 9, '>')}  "
                         f"{pad(t('res_worst', lang), 12, '>')}  {t('res_failing', lang)}")
            for o in shown:
                bad = [q for q, qr in o.quantities.items() if qr.status in FAILING]
                if not bad and o.status == "fail":
                    bad = [f"({whole})"]
                lines.append(f"  {o.op:<{width}}  {o.passed:>4}/{o.attempted:<4}  "
                             f"{_num(o.worst_margin):>12}  {', '.join(bad) or '-'}")
        found = self.shown_problems()
        if found:
            lines += ["", t("res_problems", lang, n=len(found))]
            for p in found:
                quantities = ", ".join(q if q != "*" else f"({whole})" for q in p.quantities)
                count = (t("res_n_checks", lang, n=p.count) if lang != "en" or p.count != 1
                         else "1 check")
                lines.append(f"  {p.op} {quantities} [{t(p.status, lang)}, {count}]: {p.said(lang)}")
                if p.detail:
                    lines += [f"      {ln}" for ln in p.detail.splitlines()[:-1]]
        missing = self.not_attempted_ops()
        if missing and shown:
            names = ", ".join(o.op for o in missing[:12]) + (", ..." if len(missing) > 12 else "")
            lines += ["", t("res_not_attempted", lang, n=len(missing), names=names)]
        return "\n".join(lines)

    def __repr__(self):
        return f"<backprop_oracle.Result {self.summary()}>"

    def _repr_html_(self):
        from .result_html import result_html
        return result_html(self)
