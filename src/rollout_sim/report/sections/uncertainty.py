"""Uncertainty in the report: a comparison's regret (``regret.csv`` and its plots), and a
sensitivity folder's ranking of the uncertain inputs (``sensitivity.csv`` and bar charts)."""

from __future__ import annotations

from pathlib import Path

from ...fileio import regular_member
from ...outcomes import label_of, show_long
from ..folder import Figures, as_float, plot_names, read_csv, read_json
from ..view import Section, Table, table

__all__ = ["regret_section", "sensitivity_headline", "sensitivity_section", "sensitivity_story"]

#: Metrics whose regret the report's table shows (when the comparison has them).
_REGRET_SHOWN = (
    "people_reached",
    "people_served",
    "public_cost_usd",
    "public_cost_per_person_reached_usd",
    "availability",
)


def _share(text: str) -> str:
    v = as_float(text)
    return "—" if v is None else f"{v * 100:.0f} %"


def regret_section(d: Path, figures: Figures) -> Section | None:
    """How far each policy falls short of the best one, replication by replication (None: the
    folder has no regret.csv)."""
    if regular_member(d, "regret.csv") is None:
        return None
    rows = read_csv(d / "regret.csv")
    metrics = [m for m in _REGRET_SHOWN if any(r.get("metric") == m for r in rows)]
    policies = list(dict.fromkeys(r.get("policy", "") for r in rows))
    head = ["Policy", *(label_of(m) for m in metrics)]
    body = []
    for pol in policies:
        cells = [pol]
        for m in metrics:
            r = next((x for x in rows if x.get("policy") == pol and x.get("metric") == m), None)
            if r is None:
                cells.append("—")
                continue
            mean = show_long(m, as_float(r.get("mean_regret")))
            worst = show_long(m, as_float(r.get("max_regret")))
            cells.append(f"{mean} / {worst} (best in {_share(r.get('share_best', ''))})")
        body.append(cells)
    caption = (
        "Regret: in each replication (the same draws of the uncertain inputs and of chance for "
        "every policy) the best policy's value minus this policy's (for costs: this policy's "
        "minus the best's). Mean / maximum over replications, and the share of replications "
        "in which the policy is the best. A robust policy has a small maximum regret."
    )
    images = [
        figures.take(
            name,
            f"Regret distribution: {name[len('regret_') :]}",
            f"Regret in {label_of(name[len('regret_') :])} per policy: each dot a replication.",
        )
        for name in plot_names(d)
        if name.startswith("regret_")
    ]
    return Section(figures.taken(*images), [table(head, body, caption)])


def _sobol(rows: list[dict[str, str]]) -> bool:
    return bool(rows) and "ST" in rows[0]


def _fmt(text: str | None) -> str:
    v = as_float(text)
    return "—" if v is None else f"{v:.3f}" if abs(v) < 1000 else f"{v:,.0f}"


def _effect(metric: str, text: str | None) -> str:
    """A Morris effect (a change of *metric*) in the metric's unit: 720 people, US$ 13,011,
    0.67 %, not "720.000" for a count of people."""
    v = as_float(text)
    return "—" if v is None else show_long(metric.partition("@")[0], v)


def sensitivity_section(d: Path, figures: Figures) -> Section:
    """Per metric, the inputs ranked, with their indices and confidence intervals, and the
    bar charts."""
    rows = read_csv(d / "sensitivity.csv")
    sobol = _sobol(rows)
    tables: list[Table] = []
    for metric in dict.fromkeys(r["metric"] for r in rows):
        mine = [r for r in rows if r["metric"] == metric]
        if sobol:
            head = ["Rank", "Input", "First order S1 (± 95 %)", "Total ST (± 95 %)"]
            body = [
                [str(i), r["parameter"], f"{_fmt(r['S1'])} ± {_fmt(r['S1_conf'])}",
                 f"{_fmt(r['ST'])} ± {_fmt(r['ST_conf'])}"]
                for i, r in enumerate(mine, 1)
            ]  # fmt: skip
            caption = (
                f"{metric}: Sobol' indices. ST is the share of the outcome's variance the input "
                "is involved in (alone or with others), S1 the share it explains alone."
            )
        else:
            head = ["Rank", "Input", "mu* (± 95 %)", "sigma"]
            body = [
                [str(i), r["parameter"],
                 f"{_effect(metric, r['mu_star'])} ± {_effect(metric, r['mu_star_conf'])}",
                 _effect(metric, r["sigma"])]
                for i, r in enumerate(mine, 1)
            ]  # fmt: skip
            caption = (
                f"{metric}: Morris elementary effects. mu* is the mean absolute change of the "
                "outcome when the input moves across its range (0 to 1 in probability); a sigma "
                "near mu* means the effect depends on the other inputs."
            )
        tables.append(table(head, body, caption))
    images = [
        figures.take(name, name.replace("_", " "), "Inputs ranked, with 95 % intervals.")
        for name in plot_names(d)
        if name.startswith("sensitivity_")
    ]
    return Section(figures.taken(*images), tables)


def sensitivity_headline(d: Path) -> Table:
    """The three most influential inputs of each metric."""
    rows = read_csv(d / "sensitivity.csv")
    sobol = _sobol(rows)
    body = []
    for metric in dict.fromkeys(r["metric"] for r in rows):
        mine = [r for r in rows if r["metric"] == metric][:3]
        shown = [_fmt(r["ST"]) if sobol else _effect(metric, r["mu_star"]) for r in mine]
        cells = [f"{r['parameter']} ({v})" for r, v in zip(mine, shown, strict=True)]
        body.append([metric, *cells])
    width = max((len(b) for b in body), default=1)
    head = ["Outcome", *(f"#{i}" for i in range(1, width))]
    return table(head, [b + [""] * (width - len(b)) for b in body])


def sensitivity_story(d: Path) -> list[str]:
    """A sentence on the design that produced the indices."""
    info = read_json(d / "sensitivity.json")
    if not isinstance(info, dict):
        return []
    method = "Sobol' (Saltelli design)" if info.get("method") == "sobol" else "Morris"
    return [
        f"{method} analysis of {len(info.get('inputs', []))} uncertain inputs: "
        f"{info.get('design_rows')} scenarios, each run on {info.get('replications_per_row')} "
        f"replication(s) with the same random draws (only the inputs differ).",
    ]
