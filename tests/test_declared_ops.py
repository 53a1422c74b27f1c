"""Ops declared by users with gradproof.op: the README's GELU and layer norm against torch, planted
bugs caught, declarations that cannot work refused in one line, and `verify --ops`."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import gradproof

ROOT = Path(__file__).resolve().parents[1]
NUMERIC = ("forward", "vjp", "projection")


def _readme_ops() -> dict[str, Any]:
    """The README's `gradproof.op` block, run as written: the README cannot drift from what works."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = next(b for b in re.findall(r"```python\n(.*?)```", text, re.S) if "@gradproof.op" in b)
    scope: dict[str, Any] = {"__name__": "readme"}
    exec(compile(block, "README.md", "exec"), scope)
    return scope


README = _readme_ops()
GELU, LAYER_NORM = README["gelu"], README["layer_norm"]


def _verdicts(records: list[dict[str, Any]]) -> dict[str, str]:
    return {f"{r['dtype']}-{r['check']}": r["verdict"] for r in records}


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("test", ["test_torch_gelu", "test_torch_layer_norm"])
def test_the_readme_checks_pass_on_torch(test: str, seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("torch")
    calls: list[list[dict[str, Any]]] = []
    real = gradproof.check
    monkeypatch.setitem(README, "gradproof", _Spy(real, calls, seed))
    README[test]()
    (records,) = calls
    numeric = [r for r in records if r["check"] in NUMERIC]
    assert len(numeric) == 6 and all(r["verdict"] == "pass" for r in records), _verdicts(records)


class _Spy:
    """gradproof as the README's tests see it, with check() pinned to a seed and its records kept."""

    def __init__(self, real: Any, calls: list[list[dict[str, Any]]], seed: int) -> None:
        self.real, self.calls, self.seed = real, calls, seed

    def check(self, *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        self.calls.append(self.real(*args, seed=self.seed, max_examples=5, **kwargs))
        return self.calls[-1]


def _gelu(x: np.ndarray, k: float = 0.7978845608028654) -> np.ndarray:
    return 0.5 * x * (1 + np.tanh(k * (x + 0.044715 * x**3)))


def _gelu_vjp(x: np.ndarray, c: np.ndarray, cubic: float = 3 * 0.044715) -> np.ndarray:
    k = 0.7978845608028654
    t = np.tanh(k * (x + 0.044715 * x**3))
    return c * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + cubic * x * x))


def _layer_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float, ddof: int = 0) -> np.ndarray:
    mu = x.mean(axis=-1, keepdims=True)
    return (x - mu) / np.sqrt(x.var(axis=-1, keepdims=True, ddof=ddof) + eps) * gamma + beta


def _layer_norm_vjp(x: Any, gamma: Any, beta: Any, c: Any, eps: float, mean_term: bool = True) -> tuple[Any, ...]:
    mu = x.mean(axis=-1, keepdims=True)
    rstd = 1 / np.sqrt(x.var(axis=-1, keepdims=True) + eps)
    xhat, g = (x - mu) * rstd, c * gamma
    dx = rstd * (g - g.mean(axis=-1, keepdims=True) - xhat * (g * xhat).mean(axis=-1, keepdims=True))
    if not mean_term:
        dx = rstd * (g - xhat * (g * xhat).mean(axis=-1, keepdims=True))
    lead = tuple(range(x.ndim - 1))
    return dx, (c * xhat).sum(axis=lead), c.sum(axis=lead)


def test_correct_numpy_pairs_pass() -> None:
    for seed in range(3):
        assert all(r["verdict"] == "pass" for r in gradproof.check(_gelu, GELU, vjp=_gelu_vjp, seed=seed))
        found = gradproof.check(_layer_norm, LAYER_NORM, vjp=_layer_norm_vjp, seed=seed)
        assert all(r["verdict"] == "pass" for r in found), _verdicts(found)


def _nan_at_first(x: np.ndarray) -> np.ndarray:
    out = _gelu(x)
    out.reshape(-1)[0] = np.nan
    return out


PLANTED = {
    "a rounded constant (0.79788)": (lambda x: _gelu(x, 0.79788), _gelu_vjp, "forward"),
    "the cubic term's 3 dropped from the derivative": (_gelu, lambda x, c: _gelu_vjp(x, c, 0.044715), "vjp"),
    "a NaN in one entry": (_nan_at_first, _gelu_vjp, "forward"),
}


@pytest.mark.parametrize("bug", PLANTED)
def test_planted_gelu_bugs_are_caught(bug: str) -> None:
    forward, vjp, check = PLANTED[bug]
    with pytest.raises(gradproof.CheckFailure, match=f"gelu-.*-{check}"):
        gradproof.check(forward, GELU, vjp=vjp, checks=[check], dtypes=["float64"], seed=0)


def test_planted_layer_norm_bugs_are_caught() -> None:
    def unbiased(x: Any, gamma: Any, beta: Any, eps: float) -> Any:
        return _layer_norm(x, gamma, beta, eps, ddof=1)

    def no_mean_term(x: Any, gamma: Any, beta: Any, c: Any, eps: float) -> Any:
        return _layer_norm_vjp(x, gamma, beta, c, eps, mean_term=False)

    def gamma_unsummed(x: Any, gamma: Any, beta: Any, c: Any, eps: float) -> Any:
        dx, dgamma, dbeta = _layer_norm_vjp(x, gamma, beta, c, eps)
        return dx, dgamma / x.shape[0], dbeta

    cases = [(unbiased, _layer_norm_vjp, "forward"), (_layer_norm, no_mean_term, "vjp")]
    cases.append((_layer_norm, gamma_unsummed, "vjp"))
    for forward, vjp, check in cases:
        with pytest.raises(gradproof.CheckFailure, match=f"layer_norm-.*-{check}"):
            gradproof.check(forward, LAYER_NORM, vjp=vjp, checks=[check], dtypes=["float64"], seed=0)


def test_a_function_the_namespace_lacks_is_one_line() -> None:
    with pytest.raises(gradproof.DeclarationError, match=r"^gelu_erf: .*no function 'erf'; it has exp, log"):

        @gradproof.op(inputs={"x": ("n",)})
        def gelu_erf(m: Any, x: Any) -> Any:
            return 0.5 * x * (1 + m.erf(x / np.sqrt(2)))


def test_a_numpy_function_on_the_inputs_is_one_line() -> None:
    with pytest.raises(gradproof.DeclarationError, match=r"^softplus: the forward calls a NumPy function.*m\.exp"):

        @gradproof.op(inputs={"x": ("n",)})
        def softplus(m: Any, x: Any) -> Any:
            return np.log1p(np.exp(x))


def test_a_domain_must_name_an_input() -> None:
    with pytest.raises(gradproof.DeclarationError, match="'y' is not one of the inputs"):
        gradproof.op(inputs={"x": ("n",)}, domains={"y": (0, 1)})(lambda m, x: x)


def test_verify_ops_checks_an_implementation_against_declared_ops(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    impls = ROOT / "tests" / "impls"
    command = [sys.executable, "-m", "harness", "verify", "--ops", str(impls / "declared_ops.py")]
    command += ["--impl", str(impls / "declared_torch.py"), "--quiet", "--report-dir", str(tmp_path)]
    done = subprocess.run([*command, "--profile", "quick"], capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    data = json.loads((tmp_path / "report.json").read_text())
    assert [d["name"] for d in data["derivations"]] == ["gelu", "layer_norm"]
    cpu = [r for r in data["checks"] if r["device"] == "cpu" and r["dtype"] in ("float32", "float64")]
    # 2 ops x 2 dtypes x (forward, vjp, projection, jvp, transpose + 4 conformance checks)
    assert {r["verdict"] for r in cpu} == {"pass"} and len(cpu) == 2 * 2 * (5 + 4)
    checks = data["checks"]
    assert {r["verdict"] for r in checks} == {"pass", "skip"}, "float16, bfloat16 and cuda: skipped with a reason here"
    assert all("--ops " in r["reproduce"] and "--impl " in r["reproduce"] for r in checks)


def test_verify_ops_without_impl_is_a_usage_error() -> None:
    command = [sys.executable, "-m", "harness", "verify", "--ops", "tests/impls/declared_ops.py"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 2 and "--ops needs --impl" in done.stderr
