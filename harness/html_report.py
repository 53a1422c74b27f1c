"""index.html from a validated report.json: one self-contained page rendered with Jinja2."""

from __future__ import annotations

import re
from typing import Any

import jinja2
from markupsafe import Markup

from harness import mathml, report_view, svg_plot

MAX_FD_PLOTS = 3  # enough to show the shape of the error against the step

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("harness", "templates"),
    autoescape=True,  # every string from the report is escaped; only the markup below is trusted
    undefined=jinja2.ChainableUndefined,  # optional fields of older or newer minor versions render empty
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.filters["slug"] = lambda name: re.sub(r"[^A-Za-z0-9_-]", "_", str(name))
_ENV.filters["short"] = report_view.short_number  # three significant digits


def _series_plots(report: dict[str, Any]) -> list[Markup]:
    found = []
    for entry in [*report["derivations"], *report.get("claims", [])]:
        for name, spec in (entry.get("series") or {}).items():
            found.append(Markup(svg_plot.render(svg_plot.from_series(entry["name"], name, spec))))
    return found


def _formulas(derivation: dict[str, Any]) -> list[tuple[str, Markup]]:
    """The stored MathML, rebuilt from safe parts; a formula that is not is named, not drawn."""
    shown = []
    for f in derivation.get("formulas") or []:
        try:
            shown.append((f["caption"], Markup(mathml.clean(f["mathml"]))))
        except mathml.UnsafeMathML as exc:
            shown.append((f"{f['caption']} (not drawn: {exc})", Markup("")))
    return shown


def _catalog_plots(derivations: list[dict[str, Any]], kind: str, limit: int | None = None) -> list[Markup]:
    found = [d["plots"][kind] for d in derivations if kind in (d.get("plots") or {})]
    return [Markup(svg_plot.render(svg_plot.from_series("", kind, spec))) for spec in found[:limit]]


def render(report: dict[str, Any]) -> str:
    """The page for a report that `report_schema.validate` accepted, from its data alone:
    formulas and plots were stored at verify time. Every string is escaped; the stored MathML
    goes through an allowlist and the plots are drawn here from numbers."""
    derivations = report["derivations"]
    template = _ENV.get_template("report.html.j2")
    return template.render(
        r=report,
        matrix=report_view.matrix(report),
        failures=report_view.failures(report),
        coverage=report_view.coverage(report),
        notes=report_view.notes(report),
        notes_summary=report_view.notes_summary(report),
        regions=report_view.regions(report),
        conventions=report_view.conventions(report),
        claims=report_view.claims(report),
        selftest=report_view.selftest(report),
        derivations=derivations,
        refuted_derivations=[d for d in derivations if d.get("symbolic", {}).get("status") == "refuted"],
        refuted_claims=[c for c in report.get("claims", []) if c["verdict"] == "refuted"],
        formulas={d["name"]: _formulas(d) for d in derivations},
        activation_plots=_catalog_plots(derivations, "activation"),
        fd_plots=_catalog_plots(derivations, "fd_step", MAX_FD_PLOTS),
        series_plots=_series_plots(report),
    )
