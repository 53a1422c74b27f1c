"""`--shape OP=SHAPE` as typed: read with no heavy import, so that a bad one is answered before the
catalog, torch or hypothesis load (harness/cli.py); what a shape means per op is harness/chosen_shapes.py's."""

from __future__ import annotations

import re
from collections.abc import Sequence

Shape = tuple[int, ...]


def parse_shape(text: str) -> Shape:
    """`4096x64` or `4096,64` (or `(4096, 64)`): positive whole sizes; ValueError with one line otherwise."""
    body = text.strip().strip("()[] ")
    parts = [p.strip() for p in re.split(r"[x,]", body)] if body else []
    if not parts or not all(p.isdigit() for p in parts):
        raise ValueError(f"cannot read the shape {text!r}: write sizes like 4096x64 or 4096,64")
    shape = tuple(int(p) for p in parts)
    if 0 in shape:
        raise ValueError(f"the shape {text!r} has a 0-size axis: every axis needs a size of 1 or more")
    return shape


def parse_spec(spec: str) -> tuple[str, Shape]:
    """`OP=SHAPE` as --shape takes it; ValueError with one line naming the op otherwise."""
    name, sep, text = spec.partition("=")
    if not sep or not name.strip():
        raise ValueError(f"--shape takes OP=SHAPE (e.g. softmax=4096x64), not {spec!r}")
    try:
        return name.strip(), parse_shape(text)
    except ValueError as exc:
        raise ValueError(f"--shape {name.strip()}: {exc}") from None


def shape_text(shape: Sequence[int]) -> str:
    return "x".join(map(str, shape))
