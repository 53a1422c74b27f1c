"""The mutant library: realistic gradient bugs on the catalog's ops, and correct variants that
must pass (a different valid subgradient at a kink, another stable algorithm).

Each variant replaces the forward and/or vjp of one op of the NumPy reference. A family names
the kind of bug; new ops add their families (transpose, stride/padding, ties, dropped
residual, ...) here, as entries of VARIANTS, and nothing else changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from harness.backends import numpy_ref as ref
from harness.impl.registry import Implementation
from harness.selftest import scalar_mutants as sm
from harness.selftest import second_mutants as so
from harness.selftest import tensor_mutants as tm
from harness.selftest import update_mutants as um

Fn = Callable[..., object]


@dataclass(frozen=True)
class Variant:
    name: str
    family: str
    op: str
    forward: Fn | None = None  # None: the reference's
    vjp: Fn | None = None
    correct: bool = False  # a correct variant must pass every check
    jvp: Fn | None = None
    torch: Fn | None = None  # a torch callable instead of a NumPy pair (the second-order variants)

    def implementation(self) -> Implementation:
        if self.torch is not None:
            impl = Implementation("torch")
            impl.add(self.op, self.torch)
            return impl
        impl = Implementation("numpy")
        impl.add(self.op, *self.pair(), jvp=self.jvp or ref.OPS[self.op].jvp)
        return impl

    def pair(self) -> tuple[Fn, Fn]:
        """forward and vjp under the user-facing contract (one gradient per input)."""
        base = ref.OPS[self.op]
        return self.forward or base.forward, self.vjp or base.vjp


M = Variant


def _with_target(op: str, prediction: Fn) -> Fn:
    """A loss's vjp whose one bug is in the prediction's gradient: the target's is the reference's."""

    def vjp(a: np.ndarray, y: np.ndarray, c: np.ndarray) -> tuple[object, object]:
        return prediction(a, y, c), ref.OPS[op].vjp(a, y, c)[1]  # type: ignore[index]

    return vjp


VARIANTS: tuple[Variant, ...] = (
    # sigmoid
    M(
        "sigmoid-one-plus",
        "sign error inside the derivative",
        "sigmoid",
        vjp=lambda z, c: c * sm.sig(z) * (1 + sm.sig(z)),
    ),
    M(
        "sigmoid-in-input",
        "derivative written in the input, not the output",
        "sigmoid",
        vjp=lambda z, c: c * z * (1 - z),
    ),
    M("sigmoid-missing-factor", "missing factor of the derivative", "sigmoid", vjp=lambda z, c: c * sm.sig(z)),
    M("sigmoid-ignores-cotangent", "cotangent ignored", "sigmoid", vjp=lambda z, c: sm.sig(z) * (1 - sm.sig(z))),
    M(
        "sigmoid-cotangent-mean",
        "cotangent reduced over the batch",
        "sigmoid",
        vjp=lambda z, c: np.mean(c) * sm.sig(z) * (1 - sm.sig(z)),
    ),
    M(
        "sigmoid-float16",
        "precision loss: float16 intermediate",
        "sigmoid",
        vjp=lambda z, c: c * sm.f16(sm.sig(z) * (1 - sm.sig(z))),
    ),
    # tanh
    M("tanh-no-square", "wrong formula (1 - a for 1 - a^2)", "tanh", vjp=lambda z, c: c * (1 - np.tanh(z))),
    M(
        "tanh-consistent-wrong-forward",
        "forward wrong but consistent with its backward",
        "tanh",
        forward=lambda z: 1.001 * np.tanh(z),
        vjp=lambda z, c: 1.001 * c * (1 - np.tanh(z) ** 2),
    ),
    M("tanh-inplace", "forward overwrites its input", "tanh", forward=lambda z: np.tanh(z, out=z)),
    M(
        "tanh-derivative-twice",
        "activation derivative applied twice",
        "tanh",
        vjp=lambda z, c: c * (1 - np.tanh(z) ** 2) ** 2,
    ),
    # relu
    M(
        "relu-subgradient-two",
        "value outside the subgradient set at the kink",
        "relu",
        vjp=lambda z, c: c * np.where(z > 0, 1.0, np.where(z == 0, 2.0, 0.0)).astype(z.dtype),
    ),
    M(
        "relu-subgradient-just-outside",
        "value outside the subgradient set at the kink",
        "relu",
        # A quarter of the cotangent past the set: within the [0, 1] box a float64 reference has there.
        vjp=lambda z, c: c * np.where(z > 0, 1.0, np.where(z == 0, 1.25, 0.0)).astype(z.dtype),
    ),
    M(
        "relu-nan-at-kink",
        "NaN at a kink or tie",
        "relu",
        vjp=lambda z, c: c * np.where(z > 0, 1.0, np.where(z == 0, np.nan, 0.0)).astype(z.dtype),
    ),
    M("relu-no-mask", "gradient passed through unmasked", "relu", vjp=lambda z, c: c + 0 * z),
    M("relu-mask-on-cotangent", "mask taken from the wrong tensor", "relu", vjp=lambda z, c: c * (c > 0) + 0 * z),
    M("relu-inplace", "forward overwrites its input", "relu", forward=lambda z: np.maximum(z, 0, out=z)),
    # leaky_relu
    M(
        "leaky-fixed-slope",
        "parameter ignored",
        "leaky_relu",
        vjp=lambda z, c, alpha: c * np.where(z > 0, 1, 0.01).astype(z.dtype),
    ),
    M(
        "leaky-swapped-branches",
        "branches swapped",
        "leaky_relu",
        vjp=lambda z, c, alpha: c * np.where(z > 0, alpha, 1).astype(z.dtype),
    ),
    M(
        "leaky-float64-gradient",
        "gradient dtype upcast",
        "leaky_relu",
        vjp=lambda z, c, alpha: c * np.where(z > 0, 1.0, alpha),
    ),
    M("leaky-relu-derivative", "another activation's derivative", "leaky_relu", vjp=lambda z, c, alpha: c * (z > 0)),
    # softmax
    M(
        "softmax-diagonal-only",
        "off-diagonal Jacobian terms dropped",
        "softmax",
        vjp=lambda z, c: c * ref.softmax(z) * (1 - ref.softmax(z)),
    ),
    M(
        "softmax-wrong-axis",
        "reduction over the wrong axis",
        "softmax",
        vjp=lambda z, c: ref.softmax(z) * (c - (c * ref.softmax(z)).sum(axis=0, keepdims=True)),
    ),
    M(
        "softmax-no-max-shift",
        "overflow: no max subtraction",
        "softmax",
        forward=sm.softmax_no_shift,
        vjp=lambda z, c: sm.softmax_no_shift(z) * (c - sm.row((c * sm.softmax_no_shift(z)).sum(axis=-1))),
    ),
    M(
        "softmax-unweighted-sum",
        "missing weight inside a sum",
        "softmax",
        vjp=lambda z, c: ref.softmax(z) * (c - c.sum(axis=-1, keepdims=True)),
    ),
    M(
        "softmax-no-keepdims",
        "broadcast against the wrong axis (keepdims missing)",
        "softmax",
        vjp=lambda z, c: ref.softmax(z) * (c - (c * ref.softmax(z)).sum(axis=-1)),
    ),
    M("softmax-shuffled-sum", "nondeterministic reduction order", "softmax", forward=sm.softmax_shuffled),
    # mse
    M(
        "mse-no-mean",
        "missing normaliser",
        "mse",
        vjp=_with_target("mse", lambda yhat, y, c: sm.row(c) * 2 * (yhat - y)),
    ),
    M(
        "mse-sign",
        "sign error in the residual",
        "mse",
        vjp=_with_target("mse", lambda yhat, y, c: sm.row(c) * 2 * (y - yhat) / yhat.shape[-1]),
    ),
    M(
        "mse-no-two",
        "missing constant factor",
        "mse",
        vjp=_with_target("mse", lambda yhat, y, c: sm.row(c) * (yhat - y) / yhat.shape[-1]),
    ),
    M(
        "mse-batch-normaliser",
        "normalised by the wrong count (all entries, not the row)",
        "mse",
        vjp=_with_target("mse", lambda yhat, y, c: sm.row(c) * 2 * (yhat - y) / yhat.size),
    ),
    M("mse-rmse", "forward wrong but consistent with its backward", "mse", forward=sm.rmse, vjp=sm.rmse_vjp),
    M(
        "mse-squeezed",
        "gradient shape squeezed",
        "mse",
        vjp=_with_target("mse", lambda yhat, y, c: np.squeeze(sm.row(c) * 2 * (yhat - y) / yhat.shape[-1])),
    ),
    M(
        "mse-gradients-swapped",
        "gradients returned in the wrong order",
        "mse",
        vjp=lambda yhat, y, c: ref.mse_vjp(yhat, y, c)[::-1],
    ),
    M(
        "mse-target-sign",
        "sign error in the target's gradient",
        "mse",
        vjp=lambda yhat, y, c: (ref.mse_vjp(yhat, y, c)[0],) * 2,
    ),
    # softmax_cross_entropy
    M(
        "ce-sign",
        "sign error in the residual",
        "softmax_cross_entropy",
        vjp=_with_target("softmax_cross_entropy", lambda z, y, c: sm.row(c) * (y - ref.softmax(z))),
    ),
    M(
        "ce-target-dropped",
        "target term dropped",
        "softmax_cross_entropy",
        vjp=_with_target("softmax_cross_entropy", lambda z, y, c: sm.row(c) * ref.softmax(z)),
    ),
    M(
        "ce-no-max-shift",
        "overflow: no max subtraction",
        "softmax_cross_entropy",
        forward=sm.ce_no_shift,
        vjp=_with_target("softmax_cross_entropy", lambda z, y, c: sm.row(c) * (sm.softmax_no_shift(z) - y)),
    ),
    M(
        "ce-float16",
        "precision loss: float16 intermediate",
        "softmax_cross_entropy",
        vjp=_with_target("softmax_cross_entropy", lambda z, y, c: sm.row(c) * (sm.f16(ref.softmax(z)) - y)),
    ),
    M(
        "ce-cotangent-unbroadcast",
        "cotangent broadcast along the wrong axis",
        "softmax_cross_entropy",
        vjp=_with_target("softmax_cross_entropy", lambda z, y, c: c * (ref.softmax(z) - y)),
    ),
    M(
        "ce-wrt-probabilities",
        "derivative with respect to the wrong variable",
        "softmax_cross_entropy",
        vjp=_with_target("softmax_cross_entropy", lambda z, y, c: sm.row(c) * (-y / ref.softmax(z))),
    ),
    M(
        "ce-target-no-normaliser",
        "target's gradient without the log-sum-exp (-z, not -log softmax z)",
        "softmax_cross_entropy",
        vjp=lambda z, y, c: (ref.softmax_cross_entropy_vjp(z, y, c)[0], -sm.row(c) * z),
    ),
    # binary_cross_entropy
    M(
        "bce-sign",
        "sign error in the residual",
        "binary_cross_entropy",
        vjp=_with_target("binary_cross_entropy", lambda z, y, c: c * (y - sm.sig(z))),
    ),
    M(
        "bce-float16",
        "precision loss: float16 intermediate",
        "binary_cross_entropy",
        vjp=_with_target("binary_cross_entropy", lambda z, y, c: c * (sm.f16(sm.sig(z)) - y)),
    ),
    M("bce-naive-log", "log of a saturated probability", "binary_cross_entropy", forward=sm.bce_naive),
    M(
        "bce-target-as-prediction",
        "target's gradient copied from the prediction's",
        "binary_cross_entropy",
        vjp=lambda z, y, c: (c * (sm.sig(z) - y),) * 2,
    ),
    M(
        "bce-sigmoid-derivative-twice",
        "activation derivative applied twice",
        "binary_cross_entropy",
        vjp=_with_target("binary_cross_entropy", lambda z, y, c: c * (sm.sig(z) - y) * sm.sig(z) * (1 - sm.sig(z))),
    ),
    M(
        "bce-wrt-probability",
        "derivative with respect to the wrong variable",
        "binary_cross_entropy",
        vjp=_with_target("binary_cross_entropy", lambda z, y, c: c * (sm.sig(z) - y) / (sm.sig(z) * (1 - sm.sig(z)))),
    ),
    # Forward mode: Jacobian-vector products.
    M("sigmoid-jvp-sign", "jvp with the wrong sign", "sigmoid", jvp=lambda z, z_dot: -ref.sigmoid_jvp(z, z_dot)),
    M(
        "sigmoid-jvp-ignores-tangent",
        "jvp ignores its tangent",
        "sigmoid",
        jvp=lambda z, z_dot: sm.sig(z) * (1 - sm.sig(z)),
    ),
    M(
        "softmax-jvp-uncoupled",
        "jvp without the coupling term (the Jacobian's diagonal only)",
        "softmax",
        jvp=lambda z, z_dot: ref.softmax(z) * (1 - ref.softmax(z)) * z_dot,
    ),
    M(
        "mse-jvp-target-tangent-dropped",
        "jvp drops the target's tangent",
        "mse",
        jvp=lambda yhat, y, yhat_dot, y_dot: (2 * (yhat - y) * yhat_dot).mean(axis=-1),
    ),
    # Second order: torch Functions whose first derivatives are right.
    M(
        "sigmoid-double-backward-detached",
        "double backward that detaches the first gradient",
        "sigmoid",
        torch=so.sigmoid_detached_backward,
    ),
    M(
        "softmax-hessian-missing-symmetric-term",
        "double backward missing the Hessian's symmetric term",
        "softmax",
        torch=so.softmax_missing_symmetric_term,
    ),
    # Correct variants: each must pass everything.
    M(
        "softmax-double-backward-by-hand",
        "correct: a hand-written double backward",
        "softmax",
        torch=so.softmax_double_backward_by_hand,
        correct=True,
    ),
    M(
        "sigmoid-torch",
        "correct: torch's own sigmoid, second order included",
        "sigmoid",
        torch=so.sigmoid_torch,
        correct=True,
    ),
    M(
        "softmax-jvp-explicit-jacobian",
        "correct: J u through the explicit Jacobian diag(p) - p p^T",
        "softmax",
        jvp=sm.softmax_jvp_explicit,
        correct=True,
    ),
    M(
        "relu-subgradient-one",
        "correct: subgradient 1 at the kink",
        "relu",
        vjp=lambda z, c: c * (z >= 0),
        correct=True,
    ),
    M(
        "relu-subgradient-half",
        "correct: subgradient 1/2 at the kink",
        "relu",
        vjp=lambda z, c: c * np.where(z > 0, 1.0, np.where(z == 0, 0.5, 0.0)).astype(z.dtype),
        correct=True,
    ),
    M(
        "relu-mask-from-output",
        "correct: mask taken from the output",
        "relu",
        vjp=lambda z, c: c * (ref.relu(z) > 0),
        correct=True,
    ),
    M(
        "leaky-subgradient-one",
        "correct: subgradient 1 at the kink",
        "leaky_relu",
        vjp=lambda z, c, alpha: c * np.where(z >= 0, 1, alpha).astype(z.dtype),
        correct=True,
    ),
    M(
        "softmax-explicit-jacobian",
        "correct: the Jacobian matrix applied explicitly",
        "softmax",
        vjp=sm.softmax_jacobian_vjp,
        correct=True,
    ),
    M(
        "sigmoid-logaddexp",
        "correct: another stable algorithm",
        "sigmoid",
        forward=sm.sigmoid_exp,
        vjp=lambda z, c: c * sm.sigmoid_exp(z) * sm.sigmoid_exp(-z),
        correct=True,
    ),
    M(
        "ce-factored",
        "correct: another stable algorithm",
        "softmax_cross_entropy",
        forward=sm.ce_factored,
        correct=True,
    ),
    M(
        "bce-logaddexp",
        "correct: another stable algorithm",
        "binary_cross_entropy",
        forward=lambda z, y: np.logaddexp(0, z) - y * z,
        correct=True,
    ),
    M(
        "mse-reassociated",
        "correct: another order of operations",
        "mse",
        vjp=_with_target("mse", lambda yhat, y, c: sm.row(c) * (yhat - y) * (2.0 / yhat.shape[-1])),
        correct=True,
    ),
    # Tensor ops: layers, chains, residual blocks, convolution, pooling, reductions.
    M("dense-weight-transposed", "transposed weight gradient", "dense_layer", vjp=tm.dense_weight_transposed),
    M("dense-bias-batch-mean", "missing batch sum for the bias", "dense_layer", vjp=tm.dense_bias_no_batch_sum),
    M(
        "chain-last-layer-slope",
        "wrong layer's activation derivative",
        "backprop_chain_L2",
        vjp=tm.chain_last_layer_slope,
    ),
    M("residual-no-identity", "dropped residual term", "residual_linear", vjp=tm.residual_no_identity),
    M(
        "conv-crop-ignores-padding",
        "stride/padding handling in the backward",
        "conv2d",
        vjp=tm.conv_crop_ignores_padding,
    ),
    M("conv-flipped-kernel", "flipped kernel", "conv2d", vjp=tm.conv_flipped_kernel),
    M(
        "conv-bias-first-example",
        "bias gradient of the first example only (batch > 1)",
        "conv2d",
        vjp=tm.conv_bias_first_example,
    ),
    M(
        "max-pool-last-window-column",
        "last column of windows dropped (k >= 2, two or more windows along W)",
        "max_pool2d",
        vjp=tm.max_pool_last_column_dropped,
    ),
    M("max-pool-ties-duplicated", "tie handling", "max_pool2d", vjp=tm.max_pool_ties_duplicated),
    M("max-dim-ties-duplicated", "tie handling", "max_dim", vjp=tm.max_dim_ties_duplicated),
    M("sum-keepdim-last-axis", "keepdim mishandled", "sum_dim", vjp=tm.sum_keepdim_last_axis),
    M("mean-wrong-dim-count", "wrong axis or dim", "mean_dim", vjp=tm.mean_wrong_dim_count),
    M("norm2-missing-norm", "missing factor or normaliser", "norm2_dim", vjp=tm.norm2_missing_norm),
    M("norm2-naive-unit", "inf or NaN on a tiny or zero slice", "norm2_dim", vjp=tm.norm2_naive_unit),
    M(
        "max-pool-ties-split",
        "correct: ties share the cotangent evenly",
        "max_pool2d",
        vjp=tm.max_pool_ties_split,
        correct=True,
    ),
    M(
        "max-dim-ties-split",
        "correct: ties share the cotangent evenly",
        "max_dim",
        vjp=tm.max_dim_ties_split,
        correct=True,
    ),
    M(
        "chain-relu-slope-one",
        "correct: subgradient 1 at the kink",
        "backprop_chain_L2",
        vjp=tm.chain_relu_slope_one,
        correct=True,
    ),
    *um.variants(),
)

# Loadable as `--impl harness.selftest.mutants:<name>`, the same path as a user's module.
IMPLEMENTATIONS = {v.name: v.implementation() for v in VARIANTS}
BY_NAME = {v.name: v for v in VARIANTS}
