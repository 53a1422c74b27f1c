"""Every form of the vjp contract on the ops that need it, and vjps with the wrong number of gradients.

The NumPy reference's gradients, returned as a bare array (one-input ops), a tuple in input order
(None for a target), a dict by input name with the target left out, or a dict with the target None.
One registry per form, for `gradproof verify --impl entry_forms.py:FORM`; gradproof.check and the
pytest plugin take the same functions from CASES and WRONG_COUNT.
"""

from harness.backends import numpy_ref as ref
from harness.impl import Implementation

INPUTS = {
    "sigmoid": ("z",),
    "max_pool2d": ("x",),
    "mse": ("yhat", "y"),
    "softmax_cross_entropy": ("z", "y"),
    "perceptron_single": ("x", "w", "t"),
}
OPS_OF_FORM = {
    "bare": ("sigmoid", "max_pool2d"),
    "as_tuple": tuple(INPUTS),
    "as_dict": tuple(INPUTS),
    "as_dict_none": ("mse", "softmax_cross_entropy", "perceptron_single"),
}


def _gradients(name, args, params):
    """The reference's gradients as one entry per input, None for an input that is not differentiable,
    whatever form it returns them in."""
    out = ref.OPS[name].vjp(*args, **params)
    if isinstance(out, (tuple, list)):
        return tuple(out)
    return (out,) + (None,) * (len(INPUTS[name]) - 1)


def _shaped(name, form):
    def vjp(*args, **params):
        grads = _gradients(name, args, params)
        if form == "bare":
            return grads[0]
        if form == "as_tuple":
            return grads
        by_name = dict(zip(INPUTS[name], grads, strict=True))
        return by_name if form == "as_dict_none" else {k: g for k, g in by_name.items() if g is not None}

    vjp.__name__ = f"{name}_vjp_{form}"
    return vjp


def _sigmoid_two(z, c):
    (dz,) = _gradients("sigmoid", (z, c), {})
    return dz, dz  # two gradients for one input


def _mse_bare(yhat, y, c):
    return _gradients("mse", (yhat, y, c), {})[0]  # one bare array for two inputs


def _softmax_cross_entropy_three(z, y, c):
    return (*_gradients("softmax_cross_entropy", (z, y, c), {}), None)  # three for two


def _conv2d_two(x, w, b, c, stride, padding):
    return ref.OPS["conv2d"].vjp(x, w, b, c, stride=stride, padding=padding)[:2]  # no bias gradient


WRONG_COUNT = {
    "sigmoid": (ref.sigmoid, _sigmoid_two),
    "mse": (ref.mse, _mse_bare),
    "softmax_cross_entropy": (ref.softmax_cross_entropy, _softmax_cross_entropy_three),
    "conv2d": (ref.OPS["conv2d"].forward, _conv2d_two),
}

CASES = {}  # "FORM-OP": (op, forward, vjp)
IMPLEMENTATIONS = {form: Implementation("numpy") for form in (*OPS_OF_FORM, "wrong_count")}
for _form, _names in OPS_OF_FORM.items():
    for _name in _names:
        CASES[f"{_form}-{_name}"] = (_name, ref.OPS[_name].forward, _shaped(_name, _form))
        IMPLEMENTATIONS[_form].add(_name, ref.OPS[_name].forward, CASES[f"{_form}-{_name}"][2])
for _name, (_forward, _vjp) in WRONG_COUNT.items():
    IMPLEMENTATIONS["wrong_count"].add(_name, _forward, _vjp)
