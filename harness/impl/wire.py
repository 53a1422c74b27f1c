"""What a worker sends back to the host: plain data only, never pickle.

An implementation runs inside the worker and can reach the worker's end of the pipe, so anything
the host reads from it is hostile input. Unpickling it could run code in the host; this format
holds JSON (None, numbers, text, lists, dicts) and float64 arrays as raw bytes, and the host
checks every field of what it expects before use.
"""

from __future__ import annotations

import base64
import json
import math
from dataclasses import fields, is_dataclass
from typing import Any

import numpy as np

from harness.impl.contract import Raw
from harness.impl.host import Descriptor

MAX_MESSAGE = 1 << 30  # bytes; a larger message is refused unread
_ARRAY = "__float64__"


class WireError(Exception):
    """A message from the worker that is not what the protocol allows."""


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        data = np.asarray(value, dtype="<f8")  # not ascontiguousarray: it makes a 0-d array 1-d
        return {_ARRAY: list(data.shape), "bytes": base64.b64encode(data.tobytes(order="C")).decode("ascii")}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    return value


def encode(status: str, payload: Any) -> bytes:
    """A status and a payload: text, or a Raw or Descriptor as the record of its fields."""
    if is_dataclass(payload) and not isinstance(payload, type):
        payload = {f.name: getattr(payload, f.name) for f in fields(payload)}
    return json.dumps([status, _plain(payload)]).encode("utf-8")


def _array(value: Any) -> np.ndarray:
    shape = value[_ARRAY]
    if not isinstance(shape, list) or not all(isinstance(n, int) and n >= 0 for n in shape):
        raise WireError("an array with a malformed shape")
    try:
        data = base64.b64decode(str(value.get("bytes", "")), validate=True)
    except ValueError:
        raise WireError("an array whose bytes are not base64") from None
    # Python integers: a product in int64 wraps (2^32 x 2^32 is 0) or overflows.
    if len(data) != 8 * math.prod(shape):
        raise WireError("an array whose bytes do not match its shape")
    return np.frombuffer(data, dtype="<f8").reshape(shape).astype(np.float64)


def _decoded(value: Any) -> Any:
    if isinstance(value, dict):
        return _array(value) if _ARRAY in value else {k: _decoded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decoded(v) for v in value]
    return value


def decode(message: bytes) -> tuple[str, Any]:
    try:
        found = json.loads(message.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise WireError(f"not a message of the protocol ({type(exc).__name__})") from None
    if not (isinstance(found, list) and len(found) == 2 and isinstance(found[0], str)):
        raise WireError("not a [status, payload] pair")
    return found[0], _decoded(found[1])


def text(payload: Any) -> str:
    """A message the worker sends as text (an exception, a load error)."""
    if not isinstance(payload, str):
        raise WireError("a message that is not text")
    return payload


def _strs(value: Any, what: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise WireError(f"{what} is not a list of text")
    return tuple(value)


def raw(payload: Any) -> Raw:
    """A Raw from a decoded payload, every field checked."""
    if not isinstance(payload, dict):
        raise WireError("a call's result is not a record")
    values = payload.get("values")
    if not isinstance(values, list) or not all(v is None or isinstance(v, np.ndarray) for v in values):
        raise WireError("a call's values are not arrays")
    dtypes = payload.get("dtypes")
    if not isinstance(dtypes, list) or not all(d is None or isinstance(d, str) for d in dtypes):
        raise WireError("a call's dtypes are not text")
    shapes = payload.get("shapes")
    if not isinstance(shapes, list) or not all(
        s is None or (isinstance(s, list) and all(isinstance(n, int) for n in s)) for s in shapes
    ):
        raise WireError("a call's shapes are not lists of sizes")
    return Raw(
        values=tuple(values),
        dtypes=tuple(dtypes),
        shapes=tuple(None if s is None else tuple(s) for s in shapes),
        modified=_strs(payload.get("modified"), "the modified arguments"),
    )


def descriptor(payload: Any) -> Descriptor:
    """A Descriptor from a decoded payload, every field checked."""
    if not isinstance(payload, dict):
        raise WireError("the implementation's description is not a record")
    targets = payload.get("targets")
    if not isinstance(targets, list) or not all(
        isinstance(t, list) and len(t) == 2 and all(isinstance(p, str) for p in t) for t in targets
    ):
        raise WireError("the targets are not (device, dtype) pairs")
    unavailable = payload.get("unavailable")
    if not isinstance(unavailable, dict) or not all(isinstance(v, str) for v in unavailable.values()):
        raise WireError("the unavailable targets are not text")
    ulps = payload.get("nondeterminism_ulps")
    if not isinstance(ulps, (int, float)) or isinstance(ulps, bool):
        raise WireError("nondeterminism_ulps is not a number")
    text = {k: payload.get(k) for k in ("spec", "label", "kind")}
    if not all(isinstance(v, str) for v in text.values()):
        raise WireError("spec, label or kind is not text")
    return Descriptor(
        spec=str(text["spec"]),
        label=str(text["label"]),
        kind=str(text["kind"]),
        ops=_strs(payload.get("ops"), "the ops"),
        problems=_strs(payload.get("problems"), "the problems"),
        nondeterminism_ulps=float(ulps),
        targets=tuple((t[0], t[1]) for t in targets),
        unavailable=dict(unavailable),
        jvp_ops=_strs(payload.get("jvp_ops", []), "the ops with a jvp"),
        second_order_ops=_strs(payload.get("second_order_ops", []), "the ops with second order"),
    )
