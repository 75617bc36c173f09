"""Every spec's prose that the report shows has its Japanese beside it: a case's `why`, the
op's `convention`, a tolerance override's `reason` and each unavailable witness's reason.

    FAMILIES=recurrent,conv pytest tests/test_spec_japanese.py   # some families only
"""
import os
import re

import pytest

from backprop_oracle.oracle import registry

SELECTED = [f for f in os.environ.get("FAMILIES", "").split(",") if f]
SPECS = [s for s in registry.all_specs() if not SELECTED or s.family in SELECTED]
KANA = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")     # hiragana, katakana, kanji


def _texts(spec):
    """(where, English, Japanese) of every text of the spec that the report shows."""
    out = [(f"case {c.name}.why", c.why, c.why_ja) for c in spec.cases if c.why]
    if spec.convention:
        out.append(("convention", spec.convention, spec.convention_ja))
    out += [(f"override {k}", o.reason, o.reason_ja) for k, o in spec.overrides.items()]
    out += [(f"unavailable {k}", why, spec.unavailable_ja.get(k, ""))
            for k, why in spec.unavailable.items()]
    return out


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_the_reports_prose_has_its_japanese(spec):
    missing = [where for where, en, ja in _texts(spec) if not ja]
    assert not missing, f"{spec.name}: no Japanese for {', '.join(missing)}"
    not_japanese = [where for where, en, ja in _texts(spec) if not KANA.search(ja)]
    assert not not_japanese, f"{spec.name}: not Japanese: {', '.join(not_japanese)}"
    extra = set(spec.unavailable_ja) - set(spec.unavailable)
    assert not extra, f"{spec.name}: unavailable_ja names witnesses not in unavailable: {extra}"
