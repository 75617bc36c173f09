"""results.json: the public record of a run, and how it is written and read.

    {"schema": 1,
     "meta": {"impl", "seed", "oracles", "devices", "dtypes", "versions", "host",
              "started", "finished", "partial", ...},
     "records": [{"op", "family", "case", "oracle", "device", "dtype", "quantity",
                  "status", "max_abs", "max_rel", "margin", "atol", "rtol",
                  "diagnosis", "message", ...}]}

Files are written atomically (a temporary file renamed over the target), so a
reader never sees half a file, even when the run is interrupted.
"""
import json
import math
import os
import tempfile

SCHEMA = 1
from ..oracle.records import STATUSES  # noqa: E402  (the record's one definition)
RECORD_FIELDS = ("op", "family", "case", "oracle", "device", "dtype", "quantity", "status",
                 "max_abs", "max_rel", "margin", "atol", "rtol", "diagnosis", "message")


class SchemaError(ValueError):
    """A results file that this version cannot read."""


def write_atomic(path, content):
    """Write text or bytes to a temporary file beside `path`, then rename it over `path`."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=os.path.basename(path))
    try:
        mode, encoding = ("wb", None) if isinstance(content, bytes) else ("w", "utf-8")
        with os.fdopen(fd, mode, encoding=encoding) as f:
            f.write(content)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a report is for reading
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


# Summary figures keep 6 significant digits (timings 3): enough to read and compare,
# and a third of the file. The values at the worst element keep every digit.
SIGNIFICANT = {"max_abs": 6, "max_rel": 6, "margin": 6, "seconds": 3}


def _clean(value, digits=None):
    """JSON has no NaN or infinity: such numbers are written as null."""
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        if digits:
            return float(f"{value:.{digits}g}")
    return value


def write_results(path, meta, records):
    """One record per line: compact, and still readable and diffable."""
    lines = ",\n".join(json.dumps({k: _clean(v, SIGNIFICANT.get(k)) for k, v in r.items()},
                                  separators=(",", ":"))
                        for r in records)
    head = json.dumps({"schema": SCHEMA, "meta": meta}, indent=1)[:-2]
    write_atomic(path, f'{head},\n "records": [\n{lines}\n]}}\n')


def validate(data, source="results"):
    if not isinstance(data, dict) or "schema" not in data:
        raise SchemaError(f"{source}: not a backprop-oracle results file (no 'schema' field)")
    if data["schema"] != SCHEMA:
        raise SchemaError(f"{source}: schema {data['schema']!r}, this version reads schema {SCHEMA}")
    for i, record in enumerate(data.get("records", [])):
        missing = [f for f in RECORD_FIELDS if f not in record]
        if missing:
            raise SchemaError(f"{source}: record {i} lacks {', '.join(missing)}")
        if record["status"] not in STATUSES:
            raise SchemaError(f"{source}: record {i} has unknown status {record['status']!r}")
    return data


def load_results(path):
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except json.JSONDecodeError as err:
        raise SchemaError(f"{path}: not valid JSON ({err})") from None
    return validate(data, str(path))


def is_cross(record):
    """A record of one witness against another ("torch~jax"), not of the implementation."""
    return "~" in record["oracle"]


def counts(records):
    """How many records of the implementation have each status (zero if none).

    Records of the witnesses against each other are findings about the
    frameworks and are not counted here."""
    out = {s: 0 for s in STATUSES}
    for r in records:
        if not is_cross(r):
            out[r["status"]] += 1
    return out
