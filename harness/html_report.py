"""index.html from a validated report.json: one self-contained page rendered with Jinja2."""

from __future__ import annotations

import re
from typing import Any

import jinja2
from markupsafe import Markup

from harness import report_view, svg_plot

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


def render(report: dict[str, Any], *, catalog_plots: bool = True) -> str:
    """The page for a report that `report_schema.validate` accepted.

    Formulas and the catalog's plots come from the catalog code for the derivations the
    report names; the report's own text is always escaped.
    """
    from harness import catalog_plots as plots
    from harness import formulas

    names = report_view.derivation_names(report)
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
        formulas={n: [(caption, Markup(ml)) for caption, ml in formulas.of(n)] for n in names},
        activation_plots=[Markup(svg_plot.render(p)) for p in plots.activations(names)] if catalog_plots else [],
        fd_plots=[Markup(svg_plot.render(p)) for p in plots.fd_step(names)] if catalog_plots else [],
        series_plots=_series_plots(report),
    )
