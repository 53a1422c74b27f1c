"""Loads an implementation (a module path or a .py file) and calls its ops.

This is the only place third-party code runs; in isolation it runs inside a worker process.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from harness.impl.contract import ContractError, Convention, Raw
from harness.impl.kinds import KINDS, Kind
from harness.impl.registry import Implementation


class LoadError(Exception):
    """The implementation as a whole cannot be used (import failure, unknown kind)."""


@dataclass(frozen=True)
class Descriptor:
    """What an implementation offers, as plain data that crosses process boundaries."""

    spec: str
    label: str
    kind: str
    ops: tuple[str, ...]
    problems: tuple[str, ...]  # one line each: module, op and problem
    nondeterminism_ulps: float
    targets: tuple[tuple[str, str], ...]
    unavailable: dict[str, str] = field(default_factory=dict)  # "device-dtype" -> why
    jvp_ops: tuple[str, ...] = ()  # the ops whose Jacobian-vector product can be asked for
    second_order_ops: tuple[str, ...] = ()  # the ops whose double backward and Hessian-vector product can be


def label_of(spec: str) -> str:
    """The name the report uses: the module path, or a file's stem."""
    path, _, attribute = spec.partition(":")
    base = Path(path).stem if path.endswith(".py") or os.sep in path else path
    return f"{base}:{attribute}" if attribute else base


def import_spec(spec: str) -> ModuleType:
    """The module a spec names; `module:name` is handled by `_table`."""
    spec = spec.split(":", 1)[0]
    try:
        if spec.endswith(".py") or os.sep in spec:
            path = Path(spec)
            if not path.is_file():
                raise LoadError(f"{spec}: no such file")
            name = f"gradproof_impl_{path.stem}"
            loader = importlib.util.spec_from_file_location(name, path)
            if loader is None or loader.loader is None:
                raise LoadError(f"{spec}: not a Python file")
            module = importlib.util.module_from_spec(loader)
            sys.modules[name] = module
            loader.loader.exec_module(module)
            return module
        if os.getcwd() not in sys.path:
            sys.path.insert(0, os.getcwd())  # `--impl mymodule` finds ./mymodule.py
        return importlib.import_module(spec)
    except LoadError:
        raise
    except BaseException as exc:  # SystemExit and friends from a module body are import failures too
        raise LoadError(f"{spec}: cannot import: {type(exc).__name__}: {exc}") from None


def _table(
    module: ModuleType, catalog: Mapping[str, Convention], attribute: str | None = None
) -> tuple[str, dict[str, Any], float]:
    """kind, op entries and declared nondeterminism, from whichever form the module uses;
    `attribute` picks one Implementation out of the module (or its IMPLEMENTATIONS table)."""
    if attribute is not None:
        chosen = getattr(module, attribute, None) or getattr(module, "IMPLEMENTATIONS", {}).get(attribute)
        if not isinstance(chosen, Implementation):
            raise LoadError(f"{module.__name__}: no Implementation named {attribute!r}")
        return chosen.kind, dict(chosen.ops), chosen.nondeterminism_ulps
    registries = [v for v in vars(module).values() if isinstance(v, Implementation)]
    if registries:
        reg = registries[0]
        return reg.kind, dict(reg.ops), reg.nondeterminism_ulps
    kind = str(getattr(module, "KIND", "numpy"))
    ulps = float(getattr(module, "NONDETERMINISM_ULPS", 0.0))
    ops = getattr(module, "OPS", None)
    if isinstance(ops, Mapping):
        return kind, dict(ops), ulps
    found: dict[str, Any] = {}
    for name in catalog:
        fn = getattr(module, name, None)
        if fn is None:
            continue
        pair = (fn, getattr(module, f"{name}_vjp", None), getattr(module, f"{name}_jvp", None))
        found[name] = pair if kind == "numpy" else fn
    return kind, found, ulps


def _entry(kind: str, value: Any) -> Any:
    """A numpy op as (forward, vjp, jvp), the jvp None where not given, whatever shape the user gave it in."""
    if kind != "numpy":
        return value
    if hasattr(value, "forward") and hasattr(value, "vjp"):
        return (value.forward, value.vjp, getattr(value, "jvp", None))
    if isinstance(value, (tuple, list)) and len(value) in (2, 3):
        return (*value, None)[:3]
    return (value, None, None)


class Host:
    """A loaded implementation: its descriptor and a way to call each op."""

    def __init__(
        self, spec: str, catalog: Mapping[str, Convention], module: ModuleType | None = None, *, watch: bool = True
    ) -> None:
        """`module`, when given, is the implementation itself (gradproof.check builds one from the
        functions it is handed); `spec` then only names it. `watch=False` skips the comparison of
        arguments before and after each call, which only the conformance checks read."""
        self.catalog = dict(catalog)
        label = label_of(spec)
        module = import_spec(spec) if module is None else module
        attribute = spec.split(":", 1)[1] if ":" in spec else None
        kind_name, table, ulps = _table(module, catalog, attribute)
        if kind_name not in KINDS:
            raise LoadError(f"{label}: unknown kind {kind_name!r}; valid: {', '.join(KINDS)}")
        try:
            self.kind: Kind = KINDS[kind_name]()
            self.kind.watch = watch
        except ImportError as exc:
            raise LoadError(f"{label}: kind {kind_name!r} needs a package that is missing: {exc}") from None
        problems: list[str] = []
        self.entries: dict[str, Any] = {}
        for op, value in table.items():
            if op not in catalog:
                problems.append(f"{label}, op {op!r}: not in the catalog (valid: {', '.join(catalog)})")
                continue
            entry = _entry(kind_name, value)
            problem = self.kind.check_entry(catalog[op], entry)
            if problem:
                problems.append(f"{label}, op {op!r}: {problem}")
            else:
                self.entries[op] = entry
        targets = tuple(self.kind.targets())
        unavailable = {f"{d}-{t}": why for d, t in targets if (why := self.kind.unavailable(d, t))}
        jvp_ops = tuple(op for op, entry in self.entries.items() if self.kind.has_jvp(entry))
        second = tuple(op for op, entry in self.entries.items() if self.kind.has_second_order(entry))
        self.descriptor = Descriptor(
            spec, label, kind_name, tuple(self.entries), tuple(problems), ulps, targets, unavailable, jvp_ops, second
        )

    def call(
        self,
        method: str,
        op: str,
        arrays: Mapping[str, np.ndarray],
        params: dict[str, float],
        cotangent: Any,
        device: str,
        dtype: str,
    ) -> Raw:
        """`cotangent`: the output's cotangent for "vjp", the tangent of each differentiable input by name for "jvp",
        {"cotangent": w, "direction": {input: v}} for "vjp_vjp" and "hvp"."""
        conv, entry = self.catalog[op], self.entries[op]
        try:
            if method == "forward":
                return self.kind.forward(conv, entry, arrays, params, device, dtype)
            if method == "jvp":
                return self.kind.jvp(conv, entry, arrays, params, dict(cotangent), device, dtype)
            if method in ("vjp_vjp", "hvp"):
                w, v = np.asarray(cotangent["cotangent"]), dict(cotangent["direction"])
                second = self.kind.vjp_vjp if method == "vjp_vjp" else self.kind.hvp
                return second(conv, entry, arrays, params, w, v, device, dtype)
            assert cotangent is not None
            return self.kind.vjp(conv, entry, arrays, params, cotangent, device, dtype)
        except ContractError as exc:
            raise type(exc)(f"{self.descriptor.label}, op {op!r}: {exc}") from None
