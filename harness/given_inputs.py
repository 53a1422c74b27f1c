"""`--at NAME=VALUES` and `--param NAME=VALUE`: one input the user gives, for any op of the catalog.

VALUES is `v1,v2;v3,v4` (rows separated by `;`) or a JSON array of any depth, for the 4-D images
of a convolution; a tensor op's parameters are Python literals (`stride=(1, 2)`, `keepdim=False`,
`g='relu'`, or a bare word for a string; JSON's true, false and null as well). Every problem raises
ValueError with one line.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from derivations.elementary import FLOAT
from derivations.model import Example, Op, Program


def parse_array(text: str) -> np.ndarray:
    if text.lstrip().startswith("["):
        try:
            arr = np.array(json.loads(text), dtype=np.float64)
        except (json.JSONDecodeError, ValueError, TypeError) as exc:
            raise ValueError(f"not a rectangular JSON array of numbers ({exc})") from None
        return arr
    rows = [[float(v) for v in row.split(",") if v.strip()] for row in text.split(";")]
    if len({len(r) for r in rows}) != 1:
        raise ValueError("rows of different lengths")
    arr = np.array(rows, dtype=np.float64)
    return arr[0] if len(rows) == 1 else arr


def _arrays(op: Op, at: Sequence[str]) -> dict[str, np.ndarray]:
    names = [i.name for i in op.inputs]
    arrays: dict[str, np.ndarray] = {}
    for item in at:
        name, _, values = item.partition("=")
        if not values:
            raise ValueError(f"--at takes NAME=v1,v2;v3,v4 or NAME=[JSON array], not {item!r}")
        if name not in names:
            raise ValueError(f"{op.name} has no input {name!r}; inputs: {', '.join(names)}")
        try:
            arrays[name] = parse_array(values)
        except ValueError as exc:
            raise ValueError(f"--at {name}: {exc}") from None
    missing = [n for n in names if n not in arrays]
    if missing:
        raise ValueError(f"{op.name} needs --at for every input; missing: {', '.join(missing)}")
    return arrays


JSON_WORDS = {"true": True, "false": False, "null": None}  # `keepdim=true` was the string "true"


def _literal(text: str) -> Any:
    if text in JSON_WORDS:
        return JSON_WORDS[text]
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text  # a bare word: g=relu


def _tensor_example(op: Op, arrays: dict[str, np.ndarray], params: Sequence[str]) -> Example:
    given = {name: _literal(value) for name, _, value in (p.partition("=") for p in params)}
    unknown = sorted(set(given) - set(op.params_doc))
    missing = [p for p in op.params_doc if p not in given]
    if unknown or missing:
        wanted = "; ".join(f"{k}: {v}" for k, v in op.params_doc.items()) or "none"
        raise ValueError(f"{op.name} takes the parameters {wanted} (unknown: {unknown}, missing: {missing})")
    for i in op.inputs:
        if not i.domain.contains(arrays[i.name]):
            raise ValueError(f"{op.name}: input {i.name!r} outside its domain {i.domain.describe()}")
    try:
        op.program.forward(FLOAT, arrays, given)
    except Exception as exc:  # shapes that do not fit each other or the parameters
        raise ValueError(f"{op.name} cannot be evaluated there: {type(exc).__name__}: {exc}") from None
    return Example(arrays, given, "user", ())


def _example(d: Op, arrays: dict[str, np.ndarray], params: Sequence[str]) -> Example:
    parsed: dict[str, float] = d.param_defaults()
    for item in params:
        name, _, value = item.partition("=")
        try:
            parsed[name] = float(value)
        except ValueError:
            raise ValueError(f"--param takes NAME=number, not {item!r}") from None
    shapes = {a.shape for a in arrays.values()}
    if len(shapes) > 1:
        raise ValueError(f"{d.name}: inputs must share one shape, got {sorted(shapes)}")
    problem = d.check_domain(arrays, parsed)
    if problem:
        raise ValueError(problem)
    return Example(arrays, parsed, "user", ())


def given(op: Op, at: Sequence[str], params: Sequence[str]) -> Example:
    """The user's input for `op`, checked against its inputs, parameters and domain."""
    arrays = _arrays(op, at)
    return _tensor_example(op, arrays, params) if isinstance(op.engine, Program) else _example(op, arrays, params)
