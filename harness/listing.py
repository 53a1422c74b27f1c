"""`gradproof list`: the catalog, one line or one JSON row per entry; with --params [OP] each op's call, layout,
parameters and conventions (an adapter writer's reference), and with --params OP --example a minimal NumPy
implementation of that op to copy, in the form `verify --impl` takes."""

from __future__ import annotations

import argparse
import ast
import inspect
import json
import sys
import textwrap
from collections.abc import Callable
from types import ModuleType
from typing import Any

from derivations import CLAIMS, OPS
from derivations.model import Claim, ClosedForm, Example, Op
from harness import op_examples
from harness.backends import numpy_conv, numpy_layers, numpy_networks, numpy_ref, numpy_stats, numpy_update_rules
from harness.impl import conventions as cv

# The NumPy reference itself where it has an op's pair as OP and OP_vjp; op_examples.py writes out the
# ops the reference builds from tables (the chains, the perceptrons, the selections).
EXAMPLE_MODULES = (
    numpy_ref,
    numpy_layers,
    numpy_conv,
    numpy_stats,
    numpy_networks,
    numpy_update_rules,
    op_examples,
)
EXAMPLES_PER_REGION = 4  # enough draws to find one whose axes have sizes apart, few enough to list fast
WIDTH = 118


def cmd_list(args: argparse.Namespace) -> int:
    if args.example and not args.params:
        return _usage("--example prints one op's implementation: gradproof list --params OP --example")
    if args.params is not None:
        return _params(args)
    entries: list[Op | Claim] = [*OPS.values(), *CLAIMS.values()]
    if args.json:
        print(json.dumps([_list_row(e) for e in entries], indent=1, ensure_ascii=False))
        return 0
    for e in entries:
        print(_list_line(e))
    return 0


def _usage(message: str) -> int:
    print(f"gradproof: error: {message}", file=sys.stderr)
    return 2


def _params(args: argparse.Namespace) -> int:
    if args.params and args.params not in OPS:
        return _usage(f"no op {args.params!r} in the catalog; valid: {', '.join(OPS)}")
    ops = [OPS[args.params]] if args.params else list(OPS.values())
    if args.example:
        if args.json:
            return _usage("--example prints Python, not JSON")
        print(example_module(ops[0]), end="")
        return 0
    if args.json:
        rows = [params_row(op) for op in ops]
        print(json.dumps(rows[0] if args.params else rows, indent=1, ensure_ascii=False))
        return 0
    blocks = [] if args.params else ["\n".join(cv.PREAMBLE)]
    blocks += ["\n".join(params_lines(op)) for op in ops]
    hint = f"gradproof list --params {args.params or 'OP'} --example: a NumPy implementation to start from"
    print("\n\n".join([*blocks, hint]))
    return 0


def _list_row(e: Op | Claim) -> dict[str, object]:
    kind = {"method": e.method} if isinstance(e, Claim) else {"structure": e.structure}
    return {"name": e.name, "title": e.title, **kind, "claims": list(e.source.claims), "seed": e.source.seed}


def _list_line(e: Op | Claim) -> str:
    claims = "/".join(e.source.claims)
    if isinstance(e, Claim):
        return f"{e.name:24} claim/{e.method:10} {claims}  {e.title}"
    inputs = ", ".join(i.name + ("" if i.differentiable else " (target)") for i in e.inputs)
    params = "".join([*(f", {p.name}={p.default:g}" for p in e.params), *(f", {p}" for p in e.params_doc)])
    return f"{e.name:24} {e.structure:11} ({inputs}{params})  {claims}  {e.title}"


# --- --params: one op's whole reference ------------------------------------------------------


def example_input(op: Op) -> tuple[Example, dict[str, tuple[int, ...]]]:
    """An input the catalog draws for this op (seed 0), picked for axes whose sizes differ, so that the shapes
    show which axis is which; with every shape, the output's ("out") included."""
    from harness import cases, inputs  # hypothesis and the references: only for --params

    drawn = [
        ex
        for region in inputs.regions_of(op)
        for ex in inputs.draw_examples(inputs.strategy_for(op, region.name), EXAMPLES_PER_REGION, 0)
    ]

    def spread(ex: Example) -> tuple[int, int]:
        """Named axes of different sizes (and leading axes) first, then the smaller input."""
        shapes = {k: tuple(v.shape) for k, v in ex.arrays.items()}
        bound, _ = cv.bind(op, {**shapes, "out": cases.output_shape(op, ex.arrays, ex.params)}, ex.params)
        lead = bound.pop("...", ())
        axes = {v for k, v in bound.items() if k not in cv.PARAM_NAMES}
        return len(axes - {1}) + len(set(lead) - {1}), -sum(a.size for a in ex.arrays.values())

    best = max(drawn, key=spread)
    shapes = {k: tuple(v.shape) for k, v in best.arrays.items()}
    return best, {**shapes, "out": cases.output_shape(op, best.arrays, best.params)}


def _shape(shape: tuple[int, ...]) -> str:
    return str(tuple(shape))


def params_row(op: Op) -> dict[str, Any]:
    conv, lay = cv.CONVENTIONS[op.name], cv.layout(op)
    example, shapes = example_input(op)
    return {
        "op": op.name,
        "title": op.title,
        "forward": conv.forward_call(),
        "vjp": f"{conv.vjp_call()} -> {conv.vjp_returns()}",
        "jvp": f"{conv.jvp_call()} -> J u, the output's tangent (optional: forward mode)",
        "second_order": (
            "vjp-of-vjp and hvp (--order 2): torch and JAX through their own autograd"
            if isinstance(op.engine, ClosedForm)
            else "none: the exact reference of a program is first order"
        ),
        "inputs": [
            {
                "name": i.name,
                "axes": cv.describe_axes(lay.inputs[i.name]),
                "example_shape": list(shapes[i.name]),
                "differentiable": i.differentiable,
                "domain": i.domain.describe(),
            }
            for i in op.inputs
        ],
        "output": {
            "axes": cv.describe_axes(lay.out),
            "example_shape": list(shapes["out"]),
            "sizes": dict(lay.sizes),
            "note": lay.note,
        },
        "cotangent": "the output's shape; each gradient has its input's shape and dtype",
        "params": [{**p, "example": example.params.get(p["name"], p["default"])} for p in cv.params(op)],
        "notes": cv.notes(op),
        "kinks": cv.kinks(op),
    }


def params_lines(op: Op) -> list[str]:
    row = params_row(op)
    lines = [f"{op.name}: {op.title}", *_say(row["forward"]), *_say(row["vjp"]), *_say(row["jvp"])]
    lines.append(f"  second order: {row['second_order']}")
    out = row["output"]
    text_out = not out["axes"].startswith("(")  # a reduction's output is said in words
    width = max(len(i["axes"]) for i in [*row["inputs"], *([] if text_out else [out])])
    for i in row["inputs"]:
        role = "differentiable" if i["differentiable"] else "not differentiable: its gradient is None"
        shape = f"e.g. {_shape(i['example_shape'])}"
        lines.append(f"  input {i['name']:5} {i['axes']:{width}}  {shape:18} {role}; values in {i['domain']}")
    example = f"e.g. {_shape(out['example_shape'])}"
    if text_out:
        lines += _say(f"output      {' ' * width}  {example:18} {out['axes']}")
    else:
        sizes = "; ".join([*(f"{k} = {v}" for k, v in out["sizes"].items()), *([out["note"]] if out["note"] else [])])
        lines.append(f"  output      {out['axes']:{width}}  {example:18} {sizes}".rstrip())
    lines.append(f"  cotangent   {row['cotangent']}")
    for p in row["params"]:
        if p["default"] is None:
            lines += _say(
                f"param {p['name']} (keyword): {p['meaning']}; no default, every call passes it; e.g. {p['example']!r}"
            )
        else:
            also = (
                f"; checks also use {', '.join(f'{v:g}' for v in p['also'] if v != p['default'])}" if p["also"] else ""
            )
            lines += _say(f"param {p['name']} (keyword): default {p['default']:g}, domain {p['domain']}{also}")
    for n in row["notes"]:
        lines += _say(f"note: {n}")
    for k in row["kinks"]:
        lines += _say(f"at a kink or tie: {k}")
    return lines


def _say(text: str) -> list[str]:
    """One fact, indented under its op and wrapped to a terminal's width."""
    return textwrap.wrap(text, WIDTH, initial_indent="  ", subsequent_indent="      ", break_on_hyphens=False)


# --- --example: one op's NumPy pair as a module ----------------------------------------------


def _definitions(module: ModuleType) -> tuple[str, dict[str, ast.stmt], dict[str, str]]:
    """The module's source, its top-level functions and assignments by name, and the names it imports from
    other modules than numpy (which every example imports) with the module each comes from."""
    source = inspect.getsource(module)
    found: dict[str, ast.stmt] = {}
    imported: dict[str, str] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef):
            found[node.name] = node
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            found[node.targets[0].id] = node
        elif isinstance(node, ast.ImportFrom) and node.module not in ("__future__", "numpy"):
            imported.update(
                {alias.asname or alias.name: f"from {node.module} import {alias.name}" for alias in node.names}
            )
    return source, found, imported


def _reached(roots: list[str], definitions: dict[str, ast.stmt]) -> list[str]:
    """The top-level names the roots use, directly or through one another, in the module's order."""
    seen, todo = set(roots), list(roots)
    while todo:
        for node in ast.walk(definitions[todo.pop()]):
            if isinstance(node, ast.Name) and node.id in definitions and node.id not in seen:
                seen.add(node.id)
                todo.append(node.id)
    return sorted(seen, key=lambda n: definitions[n].lineno)


def example_module(op: Op) -> str:
    """A module that implements `op` in NumPy, ready for `gradproof verify --impl FILE --only OP`."""
    module = sys.modules[example_pair(op)[0].__module__]
    source, definitions, imported = _definitions(module)
    names = _reached([op.name, f"{op.name}_vjp"], definitions)
    used = {n.id for name in names for n in ast.walk(definitions[name]) if isinstance(n, ast.Name)}
    imports = sorted(statement for name, statement in imported.items() if name in used)
    conv, lay = cv.CONVENTIONS[op.name], cv.layout(op)
    axes = ", ".join(f"{i} {cv.describe_axes(a)}" for i, a in lay.inputs.items())
    header = [
        f'"""gradproof\'s `{op.name}` in plain NumPy: a minimal forward and vjp to start an implementation from.',
        "",
        f"{conv.forward_call()} -> output {cv.describe_axes(lay.out)}",
        f"{conv.vjp_call()} -> {conv.vjp_returns()}",
        f"inputs: {axes}; the whole reference: gradproof list --params {op.name}",
        "",
        f"    gradproof list --params {op.name} --example > {op.name}_numpy.py",
        f"    gradproof verify --impl {op.name}_numpy.py --only {op.name}",
        '"""',
        "",
        *imports,
        *([""] if imports else []),
        "import numpy as np",
        "",
        'KIND = "numpy"',
    ]
    # Named in a table, not found by name: the pair may call another op's function (softmax), which
    # would otherwise count as that op, without its vjp.
    table = f'OPS = {{"{op.name}": ({op.name}, {op.name}_vjp)}}'
    lines = source.splitlines()
    # Whole lines, so that a comment after a function's last statement stays with it.
    bodies = ["\n".join(lines[definitions[n].lineno - 1 : definitions[n].end_lineno]) for n in names]
    return "\n".join(header) + "\n\n\n" + "\n\n\n".join(bodies) + "\n\n\n" + table + "\n"


def example_pair(op: Op) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """The forward and vjp that `--example` prints for `op`, as functions."""
    module = next(m for m in EXAMPLE_MODULES if callable(getattr(m, op.name, None)))
    return getattr(module, op.name), getattr(module, f"{op.name}_vjp")
