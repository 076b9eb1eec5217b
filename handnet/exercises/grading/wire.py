"""The wire between the grading process and a student's child: plain data, and nothing that runs.

Both ways: an 8-byte big-endian length, then that many bytes of UTF-8 JSON.

    child, once the file is loaded:  {"hello": {NAME: "function" | V, ...}} | {"error": EXC}
    grader -> child:                 {"call": NAME, "args": [V...], "kwargs": {NAME: V}}
    child -> grader, during a call:  {"evaluate": K, "theta": V}     (the student's code calls f)
    grader -> child, the reply:      {"value": float} | {"error": {"type": "ValueError" | "TypeError",
                                                                   "message": sentence}}
    child -> grader, the answer:     {"value": V, "args": [V | null...]} | {"error": EXC}
    every child message also has     "refused": [sentences]

A call may lend the student's code functions of the grader: an argument
``{"__function__": K}`` (K = 0, 1... in the call) reaches the student's code as an
opaque callable. Each time the student's code calls it with theta, the child sends
``{"evaluate": K, "theta": theta}`` and waits for the reply on the request pipe;
the grading side checks theta (an array of the right shape, real and finite),
computes f, counts the evaluation and replies with the value as a float, or an
error the child raises in the student's code. Any number of evaluations may come
before the answer; past the function's limit the grading side stops the call (a
FAIL) and ends the child. The function's definition and its count never leave
the grading side (``functions.GraderFunction``).

Values V: JSON null, booleans, numbers (NaN and Infinity included), strings and
lists; ``{"__tuple__": [V...]}``; ``{"__array__": base64 of .npy bytes}`` (real or
boolean dtypes only, read back with ``allow_pickle=False``); ``{"__opaque__":
[type name, text]}`` for anything else the student returns; and, from the grader
only, ``{"__function__": K}`` (``LentFunction``). ``"args"`` of an answer gives
the arrays passed to the call as they are after it (a student's function may
change its arguments; the grading side copies that back). EXC: ``{"type",
"message", "todo", "exit", "where", "syntax"}`` (see ``worker.describe_exception``).

This module imports numpy and the standard library only: the child loads it from
its own copy, never through handnet.
"""

from __future__ import annotations

import base64
import io
import json
import os
import struct

import numpy as np

__all__ = ["encode", "decode", "Opaque", "LentFunction", "ProtocolError",
           "read_message", "write_message", "frame",
           "shorten", "safe_repr", "MAX_MESSAGE_BYTES", "MAX_TEXT"]

#: The largest message either side accepts (a student's huge return value is a FAIL, not a crash).
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
#: Strings (exception messages, descriptions) longer than this are cut in the middle.
MAX_TEXT = 4000
#: Deeper nesting than this is sent as an opaque description.
MAX_DEPTH = 32
_HEADER = struct.Struct(">Q")
_REAL_KINDS = "biuf"


class ProtocolError(ValueError):
    """A message that is not in the protocol's format (too large, not JSON, an unknown tag...)."""


class Opaque:
    """A value of a type the protocol does not carry (a dict, an object...): its type name and repr."""

    def __init__(self, type_name, text):
        self.type_name, self.text = str(type_name), str(text)

    def description(self):
        return f"{self.type_name} {self.text}" if self.type_name else self.text

    def __repr__(self):
        return self.text


class LentFunction:
    """``{"__function__": K}``: the grader's K-th function of a call, lent to the student's code.
    The child replaces it by a stand-in that asks the grading side for every value (``worker``)."""

    def __init__(self, index):
        self.index = index

    def __repr__(self):
        return f"<function {self.index} of the grader>"


# ----------------------------------------------------------------------------
# Values <-> JSON
# ----------------------------------------------------------------------------

def shorten(text, limit=MAX_TEXT):
    text = str(text)
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n... ({len(text) - limit} characters left out) ...\n{text[-half:]}"


def safe_repr(value):
    try:
        return shorten(repr(value), 200)
    except BaseException:  # noqa: BLE001 - a student's __repr__ may do anything
        return "<no repr>"


def _array_text(arr):
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.ascontiguousarray(arr), allow_pickle=False)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def encode(value, depth=0):
    """``value`` as JSON-ready plain data (see the module docstring); never raises."""
    if value is None or isinstance(value, (bool, str)):
        return shorten(value, 10 * MAX_TEXT) if isinstance(value, str) else value
    if isinstance(value, (int, float)) and type(value) in (int, float):
        if isinstance(value, int) and abs(value) >= 2 ** 63:
            return {"__opaque__": ["int", safe_repr(value)]}
        return value
    if isinstance(value, np.generic) and value.dtype.kind in _REAL_KINDS:
        return value.item() if value.dtype.kind != "u" or value < 2 ** 63 else float(value)
    if depth >= MAX_DEPTH:
        return {"__opaque__": [type(value).__name__, "(nested too deeply)"]}
    if isinstance(value, np.ndarray):
        if value.dtype.kind in _REAL_KINDS and not value.dtype.fields:
            return {"__array__": _array_text(np.asarray(value))}
        return {"__opaque__": ["", f"an array of shape {value.shape} (dtype {value.dtype})"]}
    if type(value) in (list, tuple):
        items = [encode(v, depth + 1) for v in value]
        return {"__tuple__": items} if type(value) is tuple else items
    if isinstance(value, (int, float)):                      # numpy-like or subclassed numbers
        try:
            return float(value)
        except BaseException:  # noqa: BLE001
            pass
    return {"__opaque__": [type(value).__name__, safe_repr(value)]}


def _decode_tagged(obj):
    if len(obj) == 1 and "__tuple__" in obj and isinstance(obj["__tuple__"], list):
        return tuple(obj["__tuple__"])
    if len(obj) == 1 and "__array__" in obj and isinstance(obj["__array__"], str):
        try:
            arr = np.lib.format.read_array(io.BytesIO(base64.b64decode(obj["__array__"], validate=True)),
                                           allow_pickle=False)
        except Exception as exc:  # noqa: BLE001 - anything malformed
            raise ProtocolError(f"an array that cannot be read ({type(exc).__name__})") from None
        if arr.dtype.kind not in _REAL_KINDS or arr.dtype.fields:
            raise ProtocolError(f"an array of dtype {arr.dtype}")
        return arr
    if len(obj) == 1 and "__opaque__" in obj and isinstance(obj["__opaque__"], list) \
            and len(obj["__opaque__"]) == 2:
        return Opaque(*obj["__opaque__"])
    if len(obj) == 1 and type(obj.get("__function__")) is int:
        return LentFunction(obj["__function__"])
    return obj


def decode(data):
    """The message (a dict) in ``data`` (bytes), values decoded; ProtocolError when it is not one."""
    try:
        message = json.loads(data.decode("utf-8"), object_hook=_decode_tagged)
    except ProtocolError:
        raise
    except (ValueError, RecursionError, TypeError) as exc:
        raise ProtocolError(f"not a protocol message ({type(exc).__name__})") from None
    if not isinstance(message, dict):
        raise ProtocolError("not a protocol message (not a JSON object)")
    return message


def frame(message):
    """One message (a dict of encoded values) as the bytes that go down the pipe."""
    data = json.dumps(message, allow_nan=True).encode("utf-8")
    return _HEADER.pack(len(data)) + data


def write_message(fd, message):
    """Write one message (a dict of encoded values) to the file descriptor ``fd``."""
    view = memoryview(frame(message))
    while view:
        view = view[os.write(fd, view):]


def _read_exactly(fd, n, wait):
    chunks, left = [], n
    while left:
        if wait is not None:
            wait()
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_message(fd, wait=None):
    """The next message from ``fd`` as raw bytes, or None at end of file; ``wait()`` is called before
    each read (the grading side waits there with a deadline). ProtocolError for an oversized one."""
    header = _read_exactly(fd, _HEADER.size, wait)
    if header is None:
        return None
    (size,) = _HEADER.unpack(header)
    if size > MAX_MESSAGE_BYTES:
        raise ProtocolError(f"a message of {size} bytes (at most {MAX_MESSAGE_BYTES} are read)")
    data = _read_exactly(fd, size, wait)
    if data is None:
        return None
    return data
