"""The catalog is every module's `OPS`: an op declared in derivations/ and left out of it is caught here."""

from __future__ import annotations

import importlib
import pkgutil

import derivations
from derivations import OPS
from derivations.model import ClosedForm, Op, Program


def _declared_at_top_level() -> dict[str, str]:
    found: dict[str, str] = {}
    for info in pkgutil.iter_modules(derivations.__path__):
        module = importlib.import_module(f"derivations.{info.name}")
        for value in vars(module).values():
            ops = value if isinstance(value, tuple) else (value,)
            found.update({op.name: info.name for op in ops if isinstance(op, Op)})
    return found


def test_every_op_a_module_declares_is_in_the_catalog() -> None:
    missing = {name: module for name, module in _declared_at_top_level().items() if name not in OPS}
    assert missing == {}, f"declared but not in any module's OPS tuple: {missing}"


def test_the_catalog_holds_both_engines_under_one_record() -> None:
    engines = {type(op.engine) for op in OPS.values()}
    assert engines == {ClosedForm, Program}
    assert all(op.name == name for name, op in OPS.items())
    assert len(OPS) == 33
