"""Report fields that other parts of gradproof add: claims, coverage, self-test, tensor ops."""

from __future__ import annotations

from typing import Any

REFUTED_QUOTE = "σ′ 取值 [0, 0.5]"


def with_additions(report: dict[str, Any]) -> dict[str, Any]:
    """The report with every documented addition, as another branch would write it."""
    check = dict(report["checks"][0])
    report["checks"].append(
        {
            **check,
            "id": "conv2d-impl:mymodule-cpu-float64-conformance",
            "derivation": "conv2d",
            "backend": "impl:mymodule",
            "device": "cpu",
            "dtype": "float64",
            "check": "conformance",
            "verdict": "fail",
            "input_name": "weight",
            "message": "conv2d conformance on impl:mymodule: entry [0, 1] expected 1.5, got 1.25",
            "failure": {"worst_index": [0, 1], "expected": 1.5, "actual": 1.25, "tolerance": 1e-12},
        }
    )
    report["summary"]["fail"] += 1
    report["derivations"].append(
        {
            "name": "conv2d",
            "title": "2-D convolution",
            "structure": "tensor",
            "source": {"seed": "003_x.txt", "section": "CNN", "quote": "卷积", "claims": ["D1"]},
            "regions": {"typical": 3},  # no "symbolic": a tensor op may have no symbolic verdict
            "kinks": [{"rule": "g'(0) anywhere in [alpha, 1]"}],
            "params": [{"name": "g", "convention": "one of sigmoid, tanh, relu"}],
            "series": {
                "grad_norm": {
                    "title": "gradient norm per layer against depth",
                    "xlabel": "layer",
                    "ylabel": "norm",
                    "x": [1, 2, 3, 4],
                    "lines": {"sigmoid": [1.0, 0.25, 0.06, 0.015], "ReLU": [1.0, 1.0, 0.9, 0.95]},
                }
            },
        }
    )
    report["claims"] = [
        {
            "name": "sigmoid_range",
            "title": "range of the sigmoid derivative",
            "claims": ["A1"],
            "source": {"seed": "004_f.txt", "section": "sigmoid", "quote": REFUTED_QUOTE, "claims": ["A1"]},
            "method": "numerical",
            "verdict": "refuted",
            "detail": "the maximum of σ′ is 0.25",
            "corrected": "σ′ takes values in (0, 0.25]",
            "evidence": [{"name": "max at z=0", "ok": False, "expected": "0.5", "actual": 0.25, "note": "at z=0"}],
            "series": {"depth": {"x": [0, 1], "lines": {"residual": [1.0, 1.0]}}},
            "seconds": 0.1,
        },
        {
            "name": "linear_stack",
            "claims": ["A6"],
            "method": "symbolic",
            "verdict": "proved",
            "evidence": [],
        },
    ]
    report["claims_summary"] = {"proved": 1, "refuted": 1}
    report["derivations"][0]["symbolic"]["status"] = "checked"
    report["coverage"] = {"A1": ["sigmoid", "sigmoid_range"], "A3": ["relu"], "A6": ["linear_stack"], "G4": []}
    report["selftest"] = [
        {
            "mutant": "sigmoid_plus",
            "family": "sign",
            "op": "sigmoid",
            "caught_by_gradproof": True,
            "caught_by_gradcheck": None,
            "detail": "vjp",
        }
    ]
    return report
