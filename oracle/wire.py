"""The wire between the grader and the implementation's process: plain data only.

A message is one frame:

    <u64 length of header> header (JSON, UTF-8)

then per array: <u64 length> its raw bytes (C order). The header is JSON in which an
array stands as {"__nd__": i, "dtype": "<f8", "shape": [2, 3]}, the i-th array after
it. Only plain numeric dtypes cross (bool, int, uint, float, complex: WIRE_KINDS),
rebuilt with np.frombuffer: nothing is ever unpickled, and object, string or
structured arrays cannot cross. (Raw bytes rather than .npy: its header is parsed
with ast.literal_eval, a tenth of a millisecond per array.) Frames larger than
MAX_FRAME bytes are refused. Both sides use the same functions, `encode` and `Reader`.
"""
import json
import os
import select
import struct
import time

import numpy as np

MAX_FRAME = 512 * 2 ** 20      # bytes: far above any case of the suite
MAX_HEADER = 16 * 2 ** 20
MAX_ARRAYS = 100_000
_LEN = struct.Struct("<Q")


class WireError(Exception):
    """A frame that is not one: cut short, too large, or not JSON and .npy."""


class Timeout(Exception):
    """No whole frame came before the deadline."""


WIRE_KINDS = "biufc"


def _flatten(value, arrays):
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in WIRE_KINDS or value.dtype.fields is not None:
            raise TypeError(f"cannot send an array of dtype {value.dtype}")
        arrays.append(value)
        return {"__nd__": len(arrays) - 1, "dtype": value.dtype.str, "shape": list(value.shape)}
    if isinstance(value, dict):
        return {str(k): _flatten(v, arrays) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_flatten(v, arrays) for v in value]
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    raise TypeError(f"cannot send a {type(value).__name__} over the wire")


def encode(message):
    """The frame of `message` (dicts, lists, str, numbers, None and ndarrays)."""
    arrays = []
    body = _flatten(message, arrays)
    header = json.dumps({"n": len(arrays), "body": body}, allow_nan=True).encode()
    parts = [_LEN.pack(len(header)), header]
    for a in arrays:
        raw = np.ascontiguousarray(a).tobytes() if a.ndim else a.tobytes()
        parts += [_LEN.pack(len(raw)), raw]
    return b"".join(parts)


def _array(ref, raw):
    """The array of header entry `ref` from its bytes; WireError unless plain and whole."""
    try:
        dtype = np.dtype(str(ref["dtype"]))
        shape = tuple(int(n) for n in ref["shape"])
    except (KeyError, TypeError, ValueError) as err:
        raise WireError(f"an array entry that is not one ({err!r})") from None
    if dtype.kind not in WIRE_KINDS or dtype.fields is not None or dtype.hasobject \
            or dtype.subdtype is not None:
        raise WireError(f"an array of dtype {dtype}: only plain numeric arrays cross")
    if any(n < 0 for n in shape) or dtype.itemsize * int(np.prod(shape, dtype=np.int64)) != len(raw):
        raise WireError(f"an array of {len(raw)} bytes for shape {shape} of {dtype}")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()   # writable, its own memory


def _unflatten(value, arrays):
    if isinstance(value, dict):
        if "__nd__" in value:
            index = value["__nd__"]
            if not isinstance(index, int) or not 0 <= index < len(arrays):
                raise WireError(f"array reference {index!r} out of range")
            return _array(value, arrays[index])
        return {k: _unflatten(v, arrays) for k, v in value.items()}
    if isinstance(value, list):
        return [_unflatten(v, arrays) for v in value]
    return value


class Reader:
    """Reads frames from a file descriptor, each within a deadline."""

    def __init__(self, fd):
        self.fd = fd

    def _exactly(self, n, deadline, total):
        chunks, got = [], 0
        while got < n:
            wait = None if deadline is None else deadline - time.monotonic()
            if wait is not None and wait <= 0:
                raise Timeout()
            ready, _, _ = select.select([self.fd], [], [], wait)
            if not ready:
                raise Timeout()
            chunk = os.read(self.fd, min(n - got, 1 << 20))
            if not chunk:
                raise EOFError("the other side closed the pipe")
            chunks.append(chunk)
            got += len(chunk)
        total[0] += n
        if total[0] > MAX_FRAME:
            raise WireError(f"a frame over {MAX_FRAME} bytes")
        return b"".join(chunks)

    def _length(self, deadline, total, limit):
        (n,) = _LEN.unpack(self._exactly(_LEN.size, deadline, total))
        if n > limit:
            raise WireError(f"a frame part of {n} bytes (at most {limit})")
        return n

    def read(self, timeout=None):
        """The next message; raises Timeout, EOFError or WireError."""
        deadline = None if not timeout else time.monotonic() + timeout
        total = [0]
        header = self._exactly(self._length(deadline, total, MAX_HEADER), deadline, total)
        try:
            framed = json.loads(header.decode())
            count, tree = int(framed["n"]), framed["body"]
        except (UnicodeDecodeError, ValueError, TypeError, KeyError) as err:
            raise WireError(f"a header that is not the frame's JSON ({err!r})") from None
        if not 0 <= count <= MAX_ARRAYS:
            raise WireError(f"a frame of {count} arrays (at most {MAX_ARRAYS})")
        raws = [self._exactly(self._length(deadline, total, MAX_FRAME), deadline, total)
                for _ in range(count)]
        return _unflatten(tree, raws)


def write(fd, message, timeout=None):
    """Send `message`; raises Timeout if the other side stops reading for `timeout` s."""
    data = memoryview(encode(message))
    deadline = None if not timeout else time.monotonic() + timeout
    while data:
        wait = None if deadline is None else deadline - time.monotonic()
        if wait is not None and wait <= 0:
            raise Timeout()
        _, ready, _ = select.select([], [fd], [], wait)
        if not ready:
            raise Timeout()
        n = os.write(fd, data[:1 << 16])
        data = data[n:]
