"""Plans and runs every op x backend x device x dtype x check, gathering one record per check group."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from derivations.model import Example, Op, Program
from harness import box_reference, cases, checks, compare, forward_mode, program_boxes, projection, second_order
from harness.backends.base import Backend, Target
from harness.backends.finite_differences import FiniteDifferenceBackend
from harness.backends.numpy_ref import NumpyBackend
from harness.dtypes import get_format
from harness.group_run import Accumulator, BackendCheck, Group, GroupRun, bind, check_record
from harness.impl.contract import NotOffered
from harness.inputs import draw_examples, regions_of, strategy_for, with_conditions
from harness.options import PROFILES, RunOptions, seed_of
from harness.records import CheckRecord

FD_KINDS = ("projection", "jacobian")  # their tolerance comes from a finite-difference error estimate
FORWARD_MODE = ("jvp", "transpose")  # planned only where the backend gives a jvp
SECOND_ORDER = ("vjp-of-vjp", "hvp")  # planned only where the backend gives them, for closed forms
KINKED = "every example sits at a kink, where finite differences do not apply"


def examples_for(op: Op, options: RunOptions) -> list[Example]:
    """The seeded examples of every region of the op (a closed form's regions add a batched one)."""
    count = PROFILES[options.profile]
    found: list[Example] = []
    for region in regions_of(op):
        seed = seed_of(options.seed, op.name, region.name)
        found += with_conditions(op, region, draw_examples(strategy_for(op, region.name), count, seed), seed)
    return found


def checks_of(op: Op) -> dict[str, BackendCheck]:
    """Every op's forward, VJP, JVP and their transpose; the projection of its engine; the Jacobian
    and the second-order checks of a closed form (a program's exact reference is first order)."""
    found: dict[str, BackendCheck] = {"forward": checks.forward, "vjp": checks.vjp, "projection": projection.projection}
    if not isinstance(op.engine, Program):
        found["jacobian"] = checks.jacobian
        found["vjp-of-vjp"] = second_order.vjp_of_vjp
        found["hvp"] = second_order.hvp
    return {**found, "jvp": forward_mode.jvp, "transpose": forward_mode.transpose}


def _model(
    op: Op, examples: Sequence[Example], group: Group, coverage: Callable[[], str]
) -> Callable[[Accumulator], str]:
    """The tolerance in words; a closed form's names the rows of the example that used most of it, and
    which entries the exact engine computed (`coverage`, once the group has run)."""
    prefix = "4 x the finite-difference error estimate + " if group.finite_differences else ""
    if isinstance(op.engine, Program):
        text = f"{prefix}rho*u*(|exact|+bound)+rho*tiny, bound from {op.name}'s running-error magnitudes"
        return lambda acc: f"{text}; reference: {coverage()}"

    def model(acc: Accumulator) -> str:
        shown = examples[max(acc.worst_example, 0)].arrays[op.wrt.name].shape if examples else (1,)
        fmt = get_format(group.target.dtype)
        text = compare.model_text(op, op.row_length(shown), fmt, finite_differences=group.finite_differences)
        return f"{text}; reference: {coverage()}"

    return model


class Runner:
    """Checks ops on each backend that provides them; `on_progress` hears each group.

    The cases of the op last seen are kept, so that a program's stated-formula verdict and its
    checks share one exact reference per example and dtype (the costliest step)."""

    def __init__(
        self,
        backends: Sequence[Backend],
        options: RunOptions,
        on_progress: Callable[[str], None] = lambda line: None,
    ) -> None:
        self.backends = backends
        self.options = options
        self.on_progress = on_progress
        # (example index, dtype) -> (the example, its case), for the op named by _cases_of: one
        # op at a time, as the references are large. The example is kept to know a hit is one.
        self._cases: dict[tuple[int, str], tuple[Example, cases.Case]] = {}
        self._cases_of = ""

    def case(self, op: Op, ex: Example, index: int, dtype: str) -> cases.Case:
        if self._cases_of != op.name:
            self._cases, self._cases_of = {}, op.name
        key = (index, dtype)
        if key not in self._cases or self._cases[key][0] is not ex:
            self._cases[key] = (ex, cases.build(op, ex, dtype, seed_of(self.options.seed, op.name, index, dtype)))
        return self._cases[key][1]

    def run_op(self, op: Op, examples: Sequence[Example]) -> list[CheckRecord]:
        """Skip records (unavailable target, expectations file), then each check group's record, the
        finite-difference oracle's last: differences of the NumPy reference against the exact VJP."""
        o = self.options
        records: list[CheckRecord] = []
        groups: list[Group] = []
        runners = checks_of(op)
        for backend in self.backends:
            if not backend.provides(op):
                continue
            for target in self._targets(backend):
                unavailable = backend.unavailable(target)
                jvp, second = backend.provides_jvp(op), getattr(backend, "provides_second_order", lambda op: False)(op)
                # Forward over reverse runs the backward on dual numbers: it needs both.
                offered = {**dict.fromkeys(FORWARD_MODE, jvp), "vjp-of-vjp": second, "hvp": jvp and second}
                for kind in [k for k in o.kinds if k in runners and offered.get(k, True)]:
                    skip = unavailable or self._skip_reason(op, backend.name, target, kind)
                    if skip:
                        records.append(check_record(op, backend.name, target, kind, "skip", message=skip, options=o))
                    else:
                        groups.append(Group(backend.name, target, kind, bind(runners[kind], backend), kind in FD_KINDS))
        if o.fd_oracle and (o.dtypes is None or "float64" in o.dtypes) and (o.devices is None or "cpu" in o.devices):
            groups.append(self._oracle(op))
        for k, group in enumerate(groups, 1):
            self.on_progress(f"{op.name}: {group.name} {group.target} {group.kind} ({k}/{len(groups)})")
            records.append(self._run_group(op, examples, group))
        return records

    def _oracle(self, op: Op) -> Group:
        fd = FiniteDifferenceBackend(NumpyBackend())
        program = isinstance(op.engine, Program)

        def check(case: cases.Case, target: Target) -> checks.Outcome:
            # A closed form's differences see every Jacobian entry; a program's, directions through all inputs.
            return projection.fd_oracle(fd.of, case, target) if program else checks.fd_oracle(fd, case, target)

        return Group(fd.name, Target("cpu", "float64"), "vjp", check, True)

    def _targets(self, backend: Backend) -> list[Target]:
        o = self.options
        chosen = [t for t in backend.targets() if o.dtypes is None or t.dtype in o.dtypes]
        return [t for t in chosen if o.devices is None or t.device in o.devices]

    def _skip_reason(self, op: Op, backend: str, target: Target, kind: str) -> str | None:
        """An expectations file's skip line, decided when planning."""
        if self.options.skip_reason is None:
            return None
        return self.options.skip_reason(f"{op.name}-{backend}-{target.device}-{target.dtype}-{kind}")

    def _run_group(self, op: Op, examples: Sequence[Example], group: Group) -> CheckRecord:
        target = group.target

        out_of_range: list[str] = []
        not_offered: list[str] = []

        def measure(i: int, ex: Example) -> checks.Outcome | None:
            try:
                case = self.case(op, ex, i, target.dtype)
                if group.finite_differences and case.at_kink:
                    return None  # differences straddle the kink; the VJP check judges the set
                return group.run(case, target)
            except projection.KinkedStencil:
                return None
            except cases.OutOfRange as exc:
                out_of_range.append(str(exc))
                return None
            except NotOffered as exc:
                not_offered.append(str(exc))
                return None

        def none_measured() -> str:
            if not_offered:
                return f"not offered: {not_offered[0]}"
            if out_of_range:
                return f"no example fits {target.dtype}: {out_of_range[0]} (and {len(out_of_range)} in all)"
            return forward_mode.AT_KINKS if group.kind in FORWARD_MODE else KINKED

        def coverage() -> str:
            found = [c.reference for (_, dtype), (_, c) in self._cases.items() if dtype == target.dtype]
            if not found:
                return "none computed"
            if isinstance(op.engine, Program):
                return program_boxes.coverage([r.enclosed for r in found])
            return box_reference.Coverage.total([r.coverage for r in found]).text()

        model = _model(op, examples, group, coverage)
        return GroupRun(op, group, examples, self.options, model).judge(measure, none_measured)
