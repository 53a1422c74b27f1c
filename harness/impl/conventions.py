"""`gradproof list --params`: each op's calling convention, derived from its catalog entry."""

from __future__ import annotations

from derivations import OPS
from derivations.model import ClosedForm, Op, Program
from harness.impl.contract import Convention

# How every catalog op is called, by name.
CONVENTIONS = {name: Convention.of(op) for name, op in OPS.items()}


def _shapes(op: Op) -> str:
    if isinstance(op.engine, Program):
        return "as torch lays them out (see each parameter); the output's shape follows from the inputs"
    if op.structure == "elementwise":
        return "any shape; the output has the input's shape"
    if op.engine.reduces:
        return "rows along the last axis (leading axes are batch); the output has one value per row (shape[:-1])"
    return "rows along the last axis (leading axes are batch); the output has the input's shape"


def _kinks(op: Op) -> list[str]:
    if isinstance(op.engine, ClosedForm):
        return [f"at {k.at:g} any value in [{k.lo}, {k.hi}] passes" for k in op.engine.kinks]
    return [op.tie_rule] if op.tie_rule else []


def rows() -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for op in OPS.values():
        conv = Convention.of(op)
        out.append(
            {
                "op": op.name,
                "forward": conv.forward_call(),
                "vjp": f"{conv.vjp_call()} -> {conv.vjp_returns()}",
                "shapes": _shapes(op),
                "cotangent": "the output's shape",
                "inputs": [
                    {"name": i.name, "domain": i.domain.describe(), "differentiable": i.differentiable}
                    for i in op.inputs
                ],
                "params": [
                    *(
                        {"name": p.name, "default": p.default, "domain": p.domain.describe(), "keyword": True}
                        for p in op.params
                    ),
                    # A program's: integers, booleans, pairs or names, passed as keywords exactly as documented.
                    *({"name": k, "convention": v, "keyword": True} for k, v in op.params_doc.items()),
                ],
                "kinks": _kinks(op),
            }
        )
    return out


def text() -> str:
    lines = [
        "Every op: forward(*inputs, **params) and vjp(*inputs, cotangent, **params) -> one gradient per input,",
        "None for inputs that are not differentiable; float32/float64 arrays in, the same dtype out.",
        "",
    ]
    for row in rows():
        lines.append(f"{row['op']}")
        lines.append(f"  {row['forward']}    {row['vjp']}")
        lines.append(f"  shapes: {row['shapes']}; cotangent: {row['cotangent']}")
        for i in row["inputs"]:  # type: ignore[attr-defined]
            what = "differentiable" if i["differentiable"] else "not differentiable (return None)"
            lines.append(f"  input {i['name']}: {i['domain']}, {what}")
        for p in row["params"]:  # type: ignore[attr-defined]
            if "convention" in p:
                lines.append(f"  param {p['name']} (keyword): {p['convention']}")
            else:
                lines.append(f"  param {p['name']} (keyword): default {p['default']:g}, domain {p['domain']}")
        for k in row["kinks"]:  # type: ignore[attr-defined]
            lines.append(f"  kink: {k}")
    return "\n".join(lines)
