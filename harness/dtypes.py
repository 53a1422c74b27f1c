"""Floating-point formats under test: unit roundoff, ULPs and the range limits."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from harness.choices import DTYPES


@dataclass(frozen=True)
class Format:
    name: str
    mantissa_bits: int  # including the implicit bit
    min_exponent: int  # exponent of the smallest normal number
    max_value: float

    @property
    def unit_roundoff(self) -> float:
        return 2.0 ** (-self.mantissa_bits)

    @property
    def tiny(self) -> float:
        """The smallest positive normal number."""
        return 2.0**self.min_exponent

    def ulp(self, values: np.ndarray) -> np.ndarray:
        """Spacing of the format at |values|; subnormals share the spacing of `tiny`."""
        mag = np.maximum(np.abs(np.asarray(values, dtype=np.float64)), self.tiny)
        with np.errstate(divide="ignore", invalid="ignore"):
            exponent = np.floor(np.log2(np.where(np.isfinite(mag), mag, self.max_value)))
        return np.ldexp(1.0, (exponent - (self.mantissa_bits - 1)).astype(np.int64))

    def round(self, values: np.ndarray) -> np.ndarray:
        """Round float64 values to this format (returned as float64, exactly)."""
        arr = np.asarray(values, dtype=np.float64)
        if self.name == "float64":
            return arr
        if self.name in ("float32", "float16"):
            return arr.astype(self.name).astype(np.float64)
        import torch

        return torch.from_numpy(arr).to(torch.bfloat16).to(torch.float64).numpy()


FORMATS: dict[str, Format] = {
    "float64": Format("float64", 53, -1022, float(np.finfo(np.float64).max)),
    "float32": Format("float32", 24, -126, float(np.finfo(np.float32).max)),
    "float16": Format("float16", 11, -14, 65504.0),
    "bfloat16": Format("bfloat16", 8, -126, 3.3895313892515355e38),
}


assert tuple(FORMATS) == DTYPES, "harness/choices.py names the dtypes"


def get_format(name: str) -> Format:
    try:
        return FORMATS[name]
    except KeyError:
        raise KeyError(f"unknown dtype {name!r}; valid: {', '.join(FORMATS)}") from None


def reference_digits(fmt: Format) -> int:
    """Decimal digits the exact reference must reach: at least twice the format's, and >= 30."""
    return max(30, 2 * math.ceil(fmt.mantissa_bits * math.log10(2)) + 2)
