"""Running checks from tests: one derivation, one backend, chosen targets."""

from __future__ import annotations

from derivations import CATALOG
from harness.backends.base import Backend
from harness.runner import Runner, RunOptions, examples_for


def run_checks(
    name: str,
    backend: Backend,
    *,
    dtypes: tuple[str, ...] | None = None,
    devices: tuple[str, ...] = ("cpu",),
    kinds: tuple[str, ...] = ("forward", "vjp", "projection", "jacobian"),
    seed: int = 0,
    profile: str = "quick",
    fd_oracle: bool = False,
) -> list[dict[str, object]]:
    options = RunOptions(seed=seed, profile=profile, dtypes=dtypes, devices=devices, kinds=kinds, fd_oracle=fd_oracle)
    d = CATALOG[name]
    return Runner([backend], options).run_op(d, examples_for(d, options))


def failures(records: list[dict[str, object]]) -> list[str]:
    return [f"{r['id']}: {r['verdict']} {r['message']}" for r in records if r["verdict"] in ("fail", "error")]
