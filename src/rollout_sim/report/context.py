"""The report's context: what each section shows, read from the results folder.

It is built only from what the folder already holds, so building it twice gives the same
context: the only dates in it are the scenario's, and the only timings those in
``manifest.json``. Every plot in ``plots/`` is placed once: the sections take theirs by name
and "Other figures" gets whatever is left.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from ..fileio import JsonObject, regular_member
from ..scenario.comments import SourceComments, yaml_comments
from ..scenario.describe import SchemaDescriber
from ..summaries import (
    CalibrationSummary,
    ComparisonSummary,
    ReplicationsSummary,
    RunSummary,
    Spread,
)
from .folder import (
    Figures,
    Summary,
    read_calibration,
    read_csv,
    read_json,
    read_summary,
    read_yaml,
)
from .sections import figures as fig
from .sections.calibration import calibration_headline, calibration_tables
from .sections.comparison import comparison_table, differences_table, icer_table
from .sections.cost import availability_tables, cost_table, finance_tables
from .sections.files import files_table, manifest_table
from .sections.headline import (
    comparison_headline,
    comparison_story,
    facts,
    policy_descriptions,
    references_table,
    replications_headline,
    replications_story,
    run_headline,
    run_story,
)
from .sections.optimize import (
    OptimizeFolder,
    optimize_headline,
    optimize_section,
    optimize_story,
    read_optimize_folder,
)
from .sections.parameters import assumptions
from .sections.poverty import impact_on, run_impact_table, sets_impact_table
from .sections.uncertainty import (
    regret_section,
    sensitivity_headline,
    sensitivity_section,
    sensitivity_story,
)
from .view import (
    KIND_TITLES,
    Availability,
    Calibration,
    Comparison,
    Kind,
    ReportContext,
    Section,
)

__all__ = ["report_context"]


def _object(path: Path) -> JsonObject:
    data = read_json(path)
    if not isinstance(data, dict):
        raise InputError("expected a JSON object", source=str(path))
    return data


#: Files of a folder that are the user's scenario file with its comments: the copy a run
#: keeps, else the calibrated file or the optimisation's best (both written from it, comments
#: kept).
_COMMENTED = ("scenario.source.yaml", "scenario.calibrated.yaml", "best.yaml")


def _commented_file(results_dir: Path) -> str | None:
    """The name of the folder's copy of the user's scenario file (None: it has none)."""
    return next((n for n in _COMMENTED if regular_member(results_dir, n) is not None), None)


def _source_comments(results_dir: Path) -> SourceComments | None:
    """The comments of the user's scenario file as the folder keeps it (None: no copy)."""
    name = _commented_file(results_dir)
    if name is None:
        return None
    path = results_dir / name
    try:
        return yaml_comments(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read it ({exc})", source=str(path)) from None


def report_context(results_dir: Path, kind: Kind, skip: set[Path]) -> ReportContext:
    """Everything the template shows of *results_dir*, a folder of *kind*, in the order a
    briefing reads; *skip*: files not to list (the report itself)."""
    d = results_dir
    manifest = _object(d / "manifest.json") if regular_member(d, "manifest.json") else {}
    summary: Summary | None = None
    calibration: CalibrationSummary | None = None
    optimization: OptimizeFolder | None = None
    if kind == "calibration":
        calibration = read_calibration(d / "calibration.json")
        scenario_file = d / "scenario.calibrated.yaml"
    elif kind == "sensitivity":  # no summary.json: sensitivity.csv and .json say it all
        scenario_file = d / "scenario.resolved.yaml"
    elif kind == "optimize":  # no summary.json: optimization.json and the trials say it all
        optimization = read_optimize_folder(d)
        scenario_file = d / "scenario.resolved.yaml"
    else:
        summary = read_summary(d / "summary.json", kind)
        scenario_file = d / "scenario.resolved.yaml"
    scenario = read_yaml(scenario_file)
    if not isinstance(scenario, dict):
        raise InputError("not a scenario (expected a mapping)", source=str(scenario_file))
    dates = scenario
    if "end_date" not in scenario and regular_member(d, "scenario.resolved.yaml") is not None:
        # The calibrated file may give horizon_years: the resolved one has the end date.
        resolved = read_yaml(d / "scenario.resolved.yaml")
        if isinstance(resolved, dict):
            dates = {**scenario, "end_date": resolved.get("end_date")}

    if isinstance(summary, RunSummary):
        headline, story = run_headline(summary), run_story(summary)
    elif isinstance(summary, ReplicationsSummary):
        headline, story = replications_headline(summary), replications_story(summary)
    elif isinstance(summary, ComparisonSummary):
        headline, story = comparison_headline(summary), comparison_story(summary)
    elif kind == "sensitivity":
        headline, story = sensitivity_headline(d), sensitivity_story(d)
    elif optimization is not None:
        headline, story = optimize_headline(optimization), optimize_story(optimization)
    else:
        assert calibration is not None  # kind == "calibration"
        headline, story = calibration_headline(calibration), []
    source = _source_comments(d)
    figures = Figures(d)
    groups = assumptions(scenario, source, SchemaDescriber())
    ctx = ReportContext(
        kind=kind,
        kind_title=KIND_TITLES[kind],
        folder=d.name,
        title=str(scenario.get("name") or d.name),
        description=str(scenario.get("description") or "").strip(),
        facts=facts(
            kind,
            dates,
            summary,
            manifest,
            calibration,
            optimization.summary if optimization is not None else None,
        ),
        headline=headline,
        story=story,
        references=references_table(summary),
        assumptions=groups,
        assumptions_count=sum(len(g.rows) for g in groups),
        assumptions_source=_commented_file(d) if source is not None else None,
        assumptions_file=scenario_file.name,
        files=files_table(d, skip),
        manifest=manifest_table(manifest) if manifest else None,
    )
    if isinstance(summary, RunSummary):
        _run_sections(ctx, summary, scenario, figures)
    elif isinstance(summary, ReplicationsSummary | ComparisonSummary):
        _fan_sections(ctx, summary, scenario, figures)
    if isinstance(summary, ComparisonSummary):
        ctx.comparison = _comparison(d, summary, scenario, figures)
    if calibration is not None:
        ctx.calibration = Calibration(
            tables=calibration_tables(calibration),
            image=fig.calibration_image(figures),
            method=calibration.method,
            converged=calibration.converged,
            within_tolerance=calibration.within_tolerance,
            message=calibration.message,
        )
    if kind == "sensitivity":
        ctx.uncertainty = sensitivity_section(d, figures)
    elif kind == "comparison":
        ctx.uncertainty = regret_section(d, figures)
    if optimization is not None:
        ctx.optimization = optimize_section(optimization, figures)
    ctx.map_images = fig.map_images(figures)
    ctx.other_images = figures.rest()
    ctx.toc = _toc(ctx)
    return ctx


def _run_sections(
    ctx: ReportContext, summary: RunSummary, scenario: JsonObject, figures: Figures
) -> None:
    """A single run's coverage, cost, availability and poverty."""
    ctx.coverage_images = fig.coverage_images(
        figures, fan=False, references=ctx.references is not None
    )
    ctx.cost = Section(fig.run_cost_images(figures), finance_tables(summary))
    ctx.availability = Availability(fig.availability_image(figures), availability_tables(summary))
    if impact_on(scenario, summary):
        impact = summary.impact
        ctx.impact = Section(
            fig.impact_images(figures), [run_impact_table(impact)] if impact is not None else []
        )


def _fan_sections(
    ctx: ReportContext,
    summary: ReplicationsSummary | ComparisonSummary,
    scenario: JsonObject,
    figures: Figures,
) -> None:
    """Replications' or a comparison's fan chart, cost and poverty, by policy."""
    by_policy: dict[str, dict[str, Spread]]
    if isinstance(summary, ComparisonSummary):
        by_policy = {p: summary.metrics.get(p, {}) for p in summary.policies}
    else:
        by_policy = {summary.policy or ctx.title: summary.metrics}
    band = fig.band_text(scenario, summary.replications)
    ctx.coverage_images = fig.coverage_images(figures, fan=True, band=band)
    interval = summary.interval or "interval across replications"
    ctx.cost = Section(fig.fan_cost_images(figures), [cost_table(by_policy, interval)])
    if impact_on(scenario, summary):
        found = sets_impact_table(by_policy)
        ctx.impact = Section([], [found] if found else [])


def _comparison(
    d: Path, summary: ComparisonSummary, scenario: JsonObject, figures: Figures
) -> Comparison:
    """The policies, what each buys, the outcomes by policy and the paired differences."""
    described = policy_descriptions(scenario)
    diff_rows = read_csv(d / "differences.csv")
    comp_rows = read_csv(d / "comparison.csv")
    return Comparison(
        described=[(p, described.get(p, "")) for p in summary.policies],
        buys=icer_table(diff_rows, comp_rows),
        policies=comparison_table(comp_rows, summary.baseline),
        differences=differences_table(diff_rows),
        images=fig.comparison_images(figures, summary.baseline),
    )


def _toc(ctx: ReportContext) -> list[tuple[str, str]]:
    """The table of contents: the sections this report has, in their order."""
    toc = [("headline", "Headline")]
    calibration = ctx.kind == "calibration"
    if ctx.kind not in ("sensitivity", "optimize"):  # their own section is all they have
        toc.append(("calibration", "Calibration") if calibration else ("coverage", "Coverage"))
    sections = (  # each is in the report when its folder gave it something to show
        (ctx.cost, "cost", "Cost"),
        (ctx.availability, "availability", "Availability"),
        (ctx.comparison, "comparison", "Policy comparison"),
        (ctx.uncertainty, "uncertainty", "Uncertainty"),
        (ctx.optimization, "optimize", "Policy optimisation"),
        (ctx.impact, "impact", "Poverty"),
    )
    toc += [(anchor, title) for content, anchor, title in sections if content]
    if ctx.kind != "optimize":  # an optimisation draws no map: its trials are not one network
        toc.append(("map", "Maps"))
    if ctx.other_images:
        toc.append(("figures", "Other figures"))
    toc += [("files", "Files and provenance"), ("assumptions", "Assumptions")]
    return toc
