"""Networks (D1-D6), perceptrons (D4) and residual blocks (D9, E8): silence on correct
implementations, planted bugs caught, the recursion proved, the depth experiment's claim."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

from derivations import TENSOR_OPS
from derivations.depth_experiment import EXPERIMENT_DEPTHS, depth_experiment, stack_input_gradient_norm
from derivations.elementary import FLOAT
from derivations.network_proof import prove_chain_recursion
from derivations.networks import chain_recursion, proved_recursion
from harness.backends import NumpyBackend, TorchBackend
from harness.backends import numpy_networks as ref
from harness.backends.numpy_ref import Pair
from harness.op_entry import entry, stated_verdict
from harness.runner import Runner, RunOptions, examples_for

KINDS = ("forward", "vjp", "projection")  # a program's checks

NETWORK_OPS = [name for name in TENSOR_OPS if name.startswith(("backprop_chain", "perceptron", "residual"))]


@pytest.fixture(autouse=True)
def one_torch_thread() -> Iterator[None]:
    """Tiny convolutions on a loaded machine: torch's thread pool costs 60 ms a call."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _run(
    name: str,
    *backends: object,
    seed: int = 0,
    profile: str = "quick",
    kinds: tuple[str, ...] = KINDS,
    dtypes: tuple[str, ...] | None = None,
    per_region: int | None = 1,
) -> list[dict[str, object]]:
    """The op's checks; `per_region` examples of each region (None: the profile's count)."""
    op = TENSOR_OPS[name]
    options = RunOptions(seed=seed, profile=profile, dtypes=dtypes, devices=("cpu",), kinds=kinds, fd_oracle=False)
    examples = examples_for(op, options)
    if per_region is not None:
        examples = [ex for r in op.regions for ex in [e for e in examples if e.region == r.name][:per_region]]
    return Runner(backends, options).run_op(op, examples)  # type: ignore[arg-type]


def _alarms(records: list[dict[str, object]]) -> list[str]:
    return [str(r["message"]) for r in records if r["verdict"] in ("fail", "error")]


@pytest.mark.parametrize("name", NETWORK_OPS)
def test_correct_networks_pass(name: str) -> None:
    records = _run(name, NumpyBackend(), TorchBackend())  # one runner: the exact references are shared
    assert {(r["backend"], r["check"]) for r in records if r["verdict"] == "pass"} >= {
        (b, k) for b in ("numpy", "torch") for k in ("forward", "vjp")
    }
    assert _alarms(records) == []


@pytest.mark.thorough
@pytest.mark.parametrize("name", NETWORK_OPS)
def test_correct_networks_pass_on_many_seeds(name: str) -> None:
    found = []
    for seed in range(1, 21):
        records = _run(name, NumpyBackend(), TorchBackend(), seed=seed, profile="default", per_region=None)
        found += [f"seed {seed}: {m}" for m in _alarms(records)]
    assert found == []


# --- planted bugs: each one a backward a person could write --------------------------------


def _chain_with(slope_of: Callable[[str, np.ndarray, int, int], np.ndarray], w_grad: Any = None, b_grad: Any = None):  # type: ignore[no-untyped-def]
    """A chain VJP with one piece swapped: slope_of(g, y, layer, depth), w_grad(dy, x_prev, w), b_grad(dy)."""

    def vjp(x, *args, g):  # type: ignore[no-untyped-def]
        *wb, c = args
        layers = ref._pairs(tuple(wb))
        xs = ref.mlp_forward(x, layers, g)
        out: list[np.ndarray] = []
        dx = c
        for k in range(len(layers), 0, -1):
            w, b = layers[k - 1]
            dy = dx * slope_of(g, xs[k - 1] @ w.T + b, k, len(layers))
            out = [
                (w_grad or (lambda d, xp, w: d.T @ xp))(dy, xs[k - 1], w),
                (b_grad or (lambda d: d.sum(axis=0)))(dy),
                *out,
            ]
            dx = dy @ w
        return (dx, *out)

    return vjp


def _right_slope(g: str, y: np.ndarray, k: int, depth: int) -> np.ndarray:
    return ref.activation(g, y)[1]


def _hidden_slope_dropped(g: str, y: np.ndarray, k: int, depth: int) -> np.ndarray:
    # the second-to-last layer's g'(y^{L-1}) left out of D3's chain (wrong layer's derivative)
    return ref.activation(g, y)[1] if k == depth else np.ones_like(y)


def _slope_in_preactivation(g: str, y: np.ndarray, k: int, depth: int) -> np.ndarray:
    # sigma'(y) = y(1 - y): g' written in y instead of in the output a
    return y * (1 - y) if g == "sigmoid" else (1 - y * y if g == "tanh" else ref.activation(g, y)[1])


def _last_slope_everywhere(x, *args, g):  # type: ignore[no-untyped-def]
    # every layer multiplies by the last layer's g'(y^L): the wrong layer's derivative
    *wb, c = args
    layers = ref._pairs(tuple(wb))
    xs = ref.mlp_forward(x, layers, g)
    slope_last = ref.activation(g, xs[-2] @ layers[-1][0].T + layers[-1][1])[1]
    out: list[np.ndarray] = []
    dx = c
    for k in range(len(layers), 0, -1):
        w, _ = layers[k - 1]
        dy = dx * slope_last  # raises where the widths differ, as the bug would
        out = [dy.T @ xs[k - 1], dy.sum(axis=0), *out]
        dx = dy @ w
    return (dx, *out)


CHAIN_BUGS = {
    "last layer's g' used in every layer": (_last_slope_everywhere, "backprop_chain_L3"),
    "hidden layer's g' dropped": (_chain_with(_hidden_slope_dropped), "backprop_chain_L2"),
    "g' in y instead of a": (_chain_with(_slope_in_preactivation), "backprop_chain_L3"),
    "transposed w gradient": (
        _chain_with(_right_slope, w_grad=lambda d, xp, w: (xp.T @ d).reshape(w.shape)),
        "backprop_chain_L2",
    ),
    "missing batch sum": (_chain_with(_right_slope, b_grad=lambda d: d[0]), "backprop_chain_L4"),
}


@pytest.mark.parametrize("bug", list(CHAIN_BUGS))
def test_planted_chain_bugs_are_caught(bug: str) -> None:
    vjp, name = CHAIN_BUGS[bug]
    mutant = NumpyBackend("mutant", {name: Pair(ref.chain, vjp)})
    records = _run(name, mutant, kinds=("vjp", "projection"), dtypes=("float64",), per_region=None)
    caught = {r["check"] for r in records if r["verdict"] in ("fail", "error")}
    assert caught >= {"vjp", "projection"}


def _residual_without_one(x, w, b, c):  # type: ignore[no-untyped-def]
    dx, dw, db = ref.residual_linear_vjp(x, w, b, c)
    dz = c * (x @ w.T + b + x > 0)
    return dx - dz, dw, db  # df/dx only: the shortcut's +1 dropped


def _block_without_one(x, w1, b1, w2, b2, c):  # type: ignore[no-untyped-def]
    dx, *rest = ref.residual_block_vjp(x, w1, b1, w2, b2, c)
    h = np.maximum(ref.conv3x3(x, w1, b1), 0)
    dz = c * (x + ref.conv3x3(h, w2, b2) > 0)
    return (dx - dz, *rest)


def _perceptron_sign_flipped(x, w, t, c):  # type: ignore[no-untyped-def]
    dx, dw, dt = ref.perceptron_vjp(x, w, t, c)
    return -dx, -dw, dt  # (t - O) for (O - t) in the weights' and inputs' gradients


OTHER_BUGS = {
    "residual_linear": (ref.residual_linear, _residual_without_one),
    "residual_block": (ref.residual_block, _block_without_one),
    "perceptron_multi": (ref.perceptron, _perceptron_sign_flipped),
}


@pytest.mark.parametrize("name", list(OTHER_BUGS))
def test_planted_residual_and_perceptron_bugs_are_caught(name: str) -> None:
    forward, vjp = OTHER_BUGS[name]
    mutant = NumpyBackend("mutant", {name: Pair(forward, vjp)})
    assert [r["verdict"] for r in _run(name, mutant, kinds=("vjp",), dtypes=("float64",))] == ["fail"]


# --- the stated formulas: proved, checked, and a wrong one refuted ------------------------


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_recursion_is_proved_for_a_generic_activation(depth: int) -> None:
    assert proved_recursion(depth)[1] == []  # cached: the verdicts below reuse it


def test_proof_refutes_a_recursion_without_the_hidden_slope() -> None:
    def stated(arrays, c, act, slope):  # type: ignore[no-untyped-def]
        calls: list[int] = []

        def last_layer_only(y, a):  # type: ignore[no-untyped-def]
            calls.append(1)  # the recursion runs from the last layer down
            return slope(y, a) if len(calls) == 1 else 1

        return chain_recursion(arrays, c, act, last_layer_only)

    wrong = prove_chain_recursion(2, stated=stated)
    assert any(w.startswith("d/dw1") for w in wrong) and not any(w.startswith("d/dw2") for w in wrong)


@pytest.mark.parametrize("name", NETWORK_OPS)
def test_stated_gradients_hold(name: str) -> None:
    op = TENSOR_OPS[name]
    verdict = stated_verdict(op, examples_for(op, RunOptions(seed=0, profile="quick")), 0)
    assert verdict["status"] == ("proved" if op.proof is not None else "checked"), verdict["detail"]


def test_stated_residual_without_the_one_is_refuted() -> None:
    op = TENSOR_OPS["residual_linear"]

    def stated(m, arrays, params, c):  # type: ignore[no-untyped-def]
        return {
            "x": op.program.stated(m, arrays, params, c)["x"]
            - c * (arrays["x"] @ arrays["w"].T + arrays["b"] + arrays["x"] > 0)
        }  # type: ignore[misc]

    wrong = op.with_engine(stated=stated)
    verdict = stated_verdict(wrong, examples_for(wrong, RunOptions(seed=0, profile="quick")), 0)
    assert verdict["status"] == "refuted" and "d/dx" in str(verdict["detail"])


# --- kinks in hidden layers ---------------------------------------------------------------


def test_hidden_kinks_accept_any_subgradient_and_reject_others() -> None:
    op = TENSOR_OPS["backprop_chain_L2"]
    arrays = {
        "x": np.array([[1.0, -1.0], [0.5, 2.0]]),
        "w1": np.array([[1.0, 1.0], [2.0, -1.0]]),
        "b1": np.array([0.0, 1.0]),  # y^1[0, 0] = 0: a kink in the hidden layer
        "w2": np.array([[1.5, -0.5], [1.0, 2.0], [0.0, 0.0]]),
        "b2": np.array([0.5, -1.0, 0.0]),  # unit 2 of the last layer: 0 for every row
    }
    c = np.array([[1.0, -2.0, 0.5], [3.0, 1.0, -1.0]])
    rule = op.program.subgradient_ok
    assert rule is not None
    ys = [arrays["x"] @ arrays["w1"].T + arrays["b1"]]
    assert ys[0][0, 0] == 0.0
    for s in (0.0, 0.25, 1.0):
        grads = _kinked_backprop(arrays, c, s)
        assert rule(arrays, {"g": "relu"}, c, grads, 1e-14) == f"relu'(0) = {s:g}"
    assert rule(arrays, {"g": "relu"}, c, _kinked_backprop(arrays, c, 1.5), 1e-14) is None


def test_hidden_kinks_take_the_cores_floor_where_float32_gradients_are_subnormal() -> None:
    """A cotangent of 1e-46 on the second output makes b2's gradient there 3e-46, which float32 rounds to 0:
    no relative accuracy is left below its smallest number, and the core's absolute floor (ties.floor)
    applies; a slope outside the set is still refused."""
    op = TENSOR_OPS["backprop_chain_L2"]
    arrays = {
        "x": np.array([[1.0, -1.0], [0.5, 2.0]]),
        "w1": np.array([[1.0, 1.0], [2.0, -1.0]]),
        "b1": np.array([0.0, 1.0]),
        "w2": np.array([[1.5, -0.5], [1.0, 2.0], [0.0, 0.0]]),
        "b2": np.array([0.5, -1.0, 0.0]),
    }
    c = np.array([[1.0, 1e-46, 0.5], [3.0, 2e-46, -1.0]])
    rule = op.program.subgradient_ok
    assert rule is not None

    def in_float32(grads: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {k: v.astype(np.float32).astype(np.float64) for k, v in grads.items()}

    rtol = 300 * 2.0**-24
    assert in_float32(_kinked_backprop(arrays, c, 0.0))["b2"][1] == 0.0 != _kinked_backprop(arrays, c, 0.0)["b2"][1]
    assert rule(arrays, {"g": "relu"}, c, in_float32(_kinked_backprop(arrays, c, 0.0)), rtol) == "relu'(0) = 0"
    assert rule(arrays, {"g": "relu"}, c, in_float32(_kinked_backprop(arrays, c, 3.0)), rtol) is None


def _kinked_backprop(arrays: dict[str, np.ndarray], c: np.ndarray, s: float) -> dict[str, np.ndarray]:
    """Back-propagation with relu'(0) = s everywhere (a hand-written two-layer loop)."""
    y1 = arrays["x"] @ arrays["w1"].T + arrays["b1"]
    x1 = np.maximum(y1, 0)
    y2 = x1 @ arrays["w2"].T + arrays["b2"]
    dy2 = c * np.where(y2 > 0, 1.0, np.where(y2 == 0, s, 0.0))
    dy1 = (dy2 @ arrays["w2"]) * np.where(y1 > 0, 1.0, np.where(y1 == 0, s, 0.0))
    return {
        "x": dy1 @ arrays["w1"],
        "w1": dy1.T @ arrays["x"],
        "b1": dy1.sum(axis=0),
        "w2": dy2.T @ x1,
        "b2": dy2.sum(axis=0),
    }


# --- the depth experiment: what the shortcut keeps alive --------------------------------


def test_residual_keeps_the_gradient_alive_where_plain_sigmoid_loses_it() -> None:
    """D5/D9 over 30 seeds: eight plain sigmoid blocks shrink the input gradient below 1 % of
    one block's, while eight ReLU blocks with the shortcut keep at least one block's."""
    deepest = len(EXPERIMENT_DEPTHS) - 1
    for seed in range(30):
        lines = depth_experiment(seed)["gradient_vs_depth"]["lines"]
        plain, residual = lines["sigmoid plain"], lines["relu residual"]
        assert plain[deepest] < 0.01 * plain[0], seed
        assert residual[deepest] >= residual[0], seed
        assert residual[deepest] > 1000 * plain[deepest], seed


def test_experiment_gradients_match_torch_autograd() -> None:
    import torch

    from derivations.depth_experiment import EXPERIMENT_BATCH, EXPERIMENT_WIDTH

    for act in ("sigmoid", "relu"):
        for shortcut in (False, True):
            rng = np.random.default_rng(7)
            x = torch.tensor(rng.standard_normal((EXPERIMENT_BATCH, EXPERIMENT_WIDTH)), requires_grad=True)
            h = x
            for _ in range(5):
                w = torch.tensor(rng.standard_normal((EXPERIMENT_WIDTH, EXPERIMENT_WIDTH)) / np.sqrt(EXPERIMENT_WIDTH))
                b = torch.tensor(0.1 * rng.standard_normal(EXPERIMENT_WIDTH))
                z = torch.nn.functional.linear(h, w, b) + (h if shortcut else 0)
                h = torch.sigmoid(z) if act == "sigmoid" else torch.relu(z)
            (grad,) = torch.autograd.grad(h.sum(), x)
            want = float(torch.linalg.norm(grad))
            assert stack_input_gradient_norm(act, shortcut, 5, 7) == pytest.approx(want, rel=1e-12)


def test_series_goes_into_the_record() -> None:
    op = TENSOR_OPS["residual_linear"]
    record = entry(op, [], {"status": "checked"}, seed=3)
    series = record["series"]["gradient_vs_depth"]  # type: ignore[index]
    assert series["x"] == list(EXPERIMENT_DEPTHS)
    assert set(series["lines"]) == {"sigmoid plain", "sigmoid residual", "relu plain", "relu residual"}
    assert series["lines"]["relu plain"][2] == stack_input_gradient_norm("relu", False, 3, 3)
    assert "series" not in entry(TENSOR_OPS["backprop_chain_L1"], [], {"status": "checked"})


def test_residual_block_keeps_the_shape() -> None:
    op = TENSOR_OPS["residual_block"]
    rng = np.random.default_rng(0)
    arrays = {
        "x": rng.standard_normal((2, 3, 5, 4)),
        "w1": rng.standard_normal((3, 3, 3, 3)),
        "b1": rng.standard_normal(3),
    }
    arrays |= {"w2": rng.standard_normal((3, 3, 3, 3)), "b2": rng.standard_normal(3)}
    assert op.program.forward(FLOAT, arrays, {}).shape == (2, 3, 5, 4)  # E8: h + 2*1 - 3 + 1 = h
    np.testing.assert_allclose(op.program.forward(FLOAT, arrays, {}), ref.residual_block(*arrays.values()), rtol=1e-13)


@pytest.mark.parametrize("name", [f"backprop_chain_L{d}" for d in (1, 2, 3, 4)])
def test_kink_region_zeros_are_exact_in_float32(name: str) -> None:
    """The kink region's exact zeros stay exactly zero (and the others keep their sign) when
    the network runs in float32, so every dtype sees the same kinks."""
    from derivations.networks import chain_forward_all

    op = TENSOR_OPS[name]
    examples = [e for e in examples_for(op, RunOptions(seed=0, profile="quick")) if e.region == "kink"]
    assert any(op.program.kink_gap(e.arrays, e.params) == 0 for e in examples)  # type: ignore[misc]
    for e in examples:
        ys64 = chain_forward_all(FLOAT, e.arrays, e.params["g"])[0]
        arrays32 = {k: v.astype(np.float32) for k, v in e.arrays.items()}
        ys32 = chain_forward_all(FLOAT, arrays32, e.params["g"])[0]
        for y64, y32 in zip(ys64, ys32, strict=True):
            assert np.array_equal(np.sign(y64), np.sign(y32))


def test_perceptron_whose_output_rounds_to_its_target_is_no_false_alarm() -> None:
    # Seed 10 drew this: O = sigma(39.2) rounds to 1.0 = t, so a float backward gives 0 where
    # the exact gradient is -8e-35; the bound must leave room for that rounding.
    from derivations.model import Example
    from harness.backends import NumpyBackend, TorchBackend
    from harness.runner import Runner, RunOptions

    op = TENSOR_OPS["perceptron_multi"]
    x = np.array([-1.4935095310211182, -2.835378408432007, 2.4838554859161377, 1.5489362478256226, -1.96359920501709])
    w = np.full((4, 5), 2.0)
    w[0, 1], w[1, 3], w[2, 3], w[3, 2] = -7.310764789581299, 25.70613670349121, -2.3947083950042725, 19.600801467895508
    t = np.array([0.8923149108886719, 0.2476053386926651, 0.4185752272605896, 1.0])
    example = Example({"x": x, "w": w, "t": t}, {}, "saturated")
    runner = Runner([NumpyBackend(), TorchBackend()], RunOptions(devices=("cpu",), kinds=("vjp",), fd_oracle=False))
    records = runner.run_op(op, [example])
    assert [r["verdict"] for r in records] == ["pass"] * 4
