"""benchmarks/bench_scale.py and bench_checks.py at their smallest settings, so that they cannot rot.

Nothing here times anything against a threshold: speed is measured and reported, never asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.fixture
def bench(monkeypatch: pytest.MonkeyPatch) -> tuple[ModuleType, ModuleType]:
    monkeypatch.syspath_prepend(str(BENCHMARKS))  # sibling scripts, not a package
    import bench_checks
    import bench_scale

    return bench_scale, bench_checks


def test_every_contender_accepts_the_correct_op_at_the_smallest_size(bench: tuple[ModuleType, ModuleType]) -> None:
    bench_scale, _ = bench
    from derivations import OPS

    settings = bench_scale.Settings(1, 60.0, 4.0, bench_scale.contenders(bench_scale.FIRST_ORDER))
    for name in ("sigmoid", "softmax", "conv2d"):
        rows = bench_scale.run_op(OPS[name], [16], settings, lambda line: None)
        assert [r.size for r in rows] == [16]
        for row in rows:
            assert set(row.cells) == {c.name for c in settings.contenders}
            for contender, cell in row.cells.items():
                assert cell.measured and cell.accepted, (name, row.size, contender, cell)
            # the gradproof runs checked every first-order kind the op has, each record a pass
            assert "vjp" in row.by_check["gradproof f32"] and "projection" in row.by_check["gradproof f64"]


def test_example_at_builds_the_asked_size_inside_the_domain(bench: tuple[ModuleType, ModuleType]) -> None:
    bench_scale, _ = bench
    import numpy as np

    from derivations import OPS

    rng = np.random.default_rng(0)
    assert bench_scale.example_at(OPS["sigmoid"], 1000, rng).arrays["z"].shape == (1000,)
    assert bench_scale.example_at(OPS["softmax"], 1000, rng).arrays["z"].shape == (125, 8)
    conv = bench_scale.example_at(OPS["conv2d"], 1024, rng)
    assert conv.arrays["x"].shape == (1, 1, 32, 32) and bench_scale.size_of(OPS["conv2d"], conv) == 1024
    with pytest.raises(ValueError, match="no example builder"):
        bench_scale.example_at(OPS["dense_layer"], 100, rng)


def test_estimates_follow_the_measured_growth_and_never_grow_slower_than_linear(
    bench: tuple[ModuleType, ModuleType],
) -> None:
    bench_scale, _ = bench
    assert bench_scale.estimate([], 1e4) is None
    assert bench_scale.estimate([(1e3, 2.0)], 1e4) == pytest.approx(20.0)  # one point: linear
    assert bench_scale.estimate([(1e2, 1.0), (1e3, 100.0)], 1e4) == pytest.approx(1e4)  # slope 2
    assert bench_scale.estimate([(1e2, 1.0), (1e3, 1.0)], 1e4) == pytest.approx(10.0)  # flat: floored at 1
    assert bench_scale.slope([(1e2, 3.0), (1e3, 3e3), (1e4, 3e6)]) == pytest.approx(3.0)


def test_a_contender_over_the_budget_or_the_memory_is_not_run(bench: tuple[ModuleType, ModuleType]) -> None:
    bench_scale, _ = bench
    import numpy as np

    from derivations import OPS

    op = OPS["sigmoid"]
    ex = bench_scale.example_at(op, 10**5, np.random.default_rng(0))
    settings = bench_scale.Settings(1, 60.0, 4.0, bench_scale.contenders(bench_scale.FIRST_ORDER))
    history: dict[str, list[tuple[float, float]]] = {c.name: [] for c in settings.contenders}
    history["gradproof f32"] = [(1e3, 1.0), (1e4, 10.0)]
    cells = bench_scale.plan_cells(op, ex, history, settings)
    assert cells["gradproof f32"].skipped == "> budget (est. 100 s)"
    assert cells["gradcheck slow f64"].skipped.startswith("> memory")  # two 1e5 x 1e5 float64 Jacobians
    assert not cells["bare f32"].skipped and not cells["gradproof f64"].skipped


def _report(tmp_path: Path) -> Path:
    def record(op: str, backend: str, check: str, seconds: float) -> dict[str, object]:
        return {"derivation": op, "backend": backend, "check": check, "seconds": seconds}

    checks = [
        record("sigmoid", "torch", "forward", 1.5),
        record("sigmoid", "numpy", "forward", 0.5),
        record("sigmoid", "torch", "vjp", 0.25),
        record("sigmoid", "fd", "vjp", 0.75),
        record("conv2d", "torch", "projection", 4.0),
    ]
    data = {"seconds": 12.0, "derivations": [{"name": "sigmoid"}, {"name": "conv2d"}, {"name": "relu"}]}
    path = tmp_path / "report.json"
    path.write_text(json.dumps({**data, "checks": checks, "claims": [{"seconds": 2.0}]}))
    return path


def test_catalog_times_are_summed_by_op_and_kind(bench: tuple[ModuleType, ModuleType], tmp_path: Path) -> None:
    _, bench_checks = bench
    times = bench_checks.times_of(json.loads(_report(tmp_path).read_text()))
    assert times.kinds == ["forward", "vjp", "fd", "projection"]
    assert times.by_op == {
        "sigmoid": {"forward": 2.0, "vjp": 0.25, "fd": 0.75},
        "conv2d": {"projection": 4.0},
        "relu": {},
    }
    lines = bench_checks.table(times)
    assert "| sigmoid | 3.00 | 2.00 | 0.25 | 0.75 | 0.00 |" in lines
    assert "| relu | 0.00 | 0.00 | 0.00 | 0.00 | 0.00 |" in lines
    assert lines[-1].startswith("check records 7.0 s, claims 2.0 s, whole run 12.0 s; the other 3.0 s")


def test_the_command_line_reads_a_report(tmp_path: Path) -> None:
    path = _report(tmp_path)
    cmd = [sys.executable, str(BENCHMARKS / "bench_scale.py"), "--catalog", "--from-report", str(path)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "| conv2d | 4.00 | 0.00 | 0.00 | 0.00 | 4.00 |" in done.stdout
    missing = subprocess.run([*cmd[:-1], str(tmp_path / "none.json")], capture_output=True, text=True, check=False)
    assert missing.returncode == 2 and "no report at" in missing.stderr


def test_the_command_line_prints_the_table_at_the_smallest_size() -> None:
    cmd = [sys.executable, str(BENCHMARKS / "bench_scale.py"), "--ops", "sigmoid", "--sizes", "16,32", "--repeats", "1"]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("| sigmoid | 16 | 16 |") == 2  # the CPU and the wall table
    assert "REJECTED" not in done.stdout
    assert "sigmoid: bare f32" in done.stdout  # its growth line


def test_bench_growth_has_a_shape_for_every_op_of_the_catalog(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import bench_growth

    from harness import chosen_shapes, pipeline

    for name, op in pipeline.OPS.items():
        shape = bench_growth.shape_at(op, 64)
        assert chosen_shapes.examples_at(op, shape, seed=0), name  # fits the op: no ShapeError


def test_bench_growth_prints_a_row_with_its_growth_exponents() -> None:
    cmd = [sys.executable, str(BENCHMARKS / "bench_growth.py"), "--ops", "relu,sum_dim", "--base", "16", "--steps", "2"]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if line.startswith(("| relu |", "| sum_dim |"))]
    assert len(rows) == 2 and all(row.endswith("| - |") for row in rows), done.stdout
