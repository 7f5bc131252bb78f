"""The results folder of ``rollout-sim calibrate``: calibrated scenario, fit table, fit plot.

``scenario.calibrated.yaml`` is the user's own scenario file with only the fitted values (and
any ``--set`` of the command line) changed: every comment, key order and layout kept, written
by ruamel.yaml's round trip. ``scenario.resolved.yaml`` is the same scenario with every default
filled in, as other commands write it.
"""

from __future__ import annotations

import copy
import io
import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from .. import __version__
from ..errors import InputError
from ..experiments.calibrate import CalibrationResult, Evaluation, Identification
from ..fileio import atomic_write, results_dir, write_manifest
from ..scenario.calibration import PointTarget, WindowTarget
from ..scenario.load import apply_override, dump_scenario, read_yaml, scenario_hash
from ..summaries import (
    CalibrationEvaluation,
    CalibrationSummary,
    FittedParameter,
    IdentificationCheck,
    ObjectiveChange,
    PointTargetSummary,
    SeriesTargetSummary,
    TargetRow,
    TargetSummary,
    WindowTargetSummary,
)
from .writer import versions

__all__ = [
    "calibrated_yaml",
    "calibration_rows",
    "calibration_summary",
    "roundtrip_edit",
    "write_calibration",
]

PathKey = tuple[str | int, ...]


def _finite(v: Any) -> Any:
    """JSON has no NaN: undefined values (an availability with no site on air) become null."""
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, list):
        return [_finite(x) for x in v]
    return v


def _evaluation(e: Evaluation) -> CalibrationEvaluation:
    return CalibrationEvaluation(
        params=e.params,
        simulated=_finite(e.simulated),
        errors=[_finite(round(x, 6)) for x in e.errors],
        objective=_finite(round(e.objective, 9)),
        within_tolerance=e.ok,
    )


def calibration_rows(res: CalibrationResult) -> list[TargetRow]:
    """One row per target point: label, metric, date, target, tolerance, before, after,
    error % and whether it is within its tolerance after the fit."""
    rows = []
    for i, (p, t) in enumerate(zip(res.plans, res.spec.targets, strict=True)):
        before, after = res.initial.simulated[i], res.best.simulated[i]
        befores = before if isinstance(before, list) else [before]
        afters = after if isinstance(after, list) else [after]
        for k in range(p.points):
            value = p.values[k]
            got = afters[k]
            error = (got - value) / abs(value) * 100 if value and math.isfinite(got) else None
            rows.append(
                TargetRow(
                    index=i,
                    label=p.label,
                    metric=p.metric.name,
                    kind=p.kind,
                    date=p.dates[k],
                    value=value,
                    tolerance=p.tolerances[k],
                    rel_tolerance=t.rel_tolerance,
                    weight=p.weight,
                    before=_finite(befores[k]),
                    after=_finite(got),
                    error_pct=None if error is None else round(error, 4),
                    within=res.best.within[i][k],
                )
            )
    return rows


def _target(res: CalibrationResult, i: int) -> TargetSummary:
    """Target *i* as written: what it asks for, and the simulated value(s) before and after."""
    t = res.spec.targets[i]
    common = {
        "metric": t.metric,
        "label": t.label,
        "weight": t.weight,
        "tolerance": t.tolerance,
        "rel_tolerance": t.rel_tolerance,
        "before": _finite(res.initial.simulated[i]),
        "after": _finite(res.best.simulated[i]),
    }
    if isinstance(t, WindowTarget):
        return WindowTargetSummary(
            kind="window_mean",
            start=t.start.isoformat(),
            end=t.end.isoformat(),
            value=t.value,
            **common,
        )
    if isinstance(t, PointTarget):
        return PointTargetSummary(
            kind="point",
            date=None if t.date is None else t.date.isoformat(),
            value=t.value,
            **common,
        )
    dates, values = res.observed[i]
    return SeriesTargetSummary(
        kind="series",
        file=t.file,
        observed=[(d.isoformat(), float(v)) for d, v in zip(dates, values, strict=True)],
        **common,
    )


def _identification(ident: Identification) -> IdentificationCheck:
    return IdentificationCheck(
        step_share_of_range=ident.step,
        rows=ident.rows,
        jacobian={
            k: None if c is None else [round(v, 6) for v in c] for k, c in ident.jacobian.items()
        },
        sensitivity={k: None if v is None else round(v, 6) for k, v in ident.sensitivity.items()},
        not_identified=ident.insensitive,
        collinear=[(a, b, round(c, 6)) for a, b, c in ident.collinear],
        warnings=ident.warnings,
        evaluations=[_evaluation(e) for e in ident.evaluations],
    )


def calibration_summary(
    res: CalibrationResult, calibrated_file_notes: Sequence[str] = ()
) -> CalibrationSummary:
    """What ``calibration.json`` holds (and the console and the report show)."""
    ident = res.identification
    parameters = []
    for p in res.spec.parameters:
        sens = None if ident is None else ident.sensitivity.get(p.path)
        identified = None
        if ident is not None:
            identified = p.path not in ident.insensitive and not any(
                p.path in (a, b) for a, b, _ in ident.collinear
            )
        parameters.append(
            FittedParameter(
                path=p.path,
                bounds=list(p.bounds),
                integer=p.integer,
                before=res.initial.params[p.path],
                after=res.best.params[p.path],
                sensitivity=None if sens is None else round(sens, 6),
                identified=identified,
            )
        )
    return CalibrationSummary(
        scenario=res.scenario.name,
        method=res.method,
        converged=res.converged,
        message=res.message,
        replications_per_evaluation=res.spec.replications,
        objective=ObjectiveChange(
            before=_finite(round(res.initial.objective, 9)),
            after=_finite(round(res.best.objective, 9)),
        ),
        parameters=parameters,
        targets=[_target(res, i) for i in range(len(res.spec.targets))],
        rows=calibration_rows(res),
        within_tolerance=res.best.ok,
        warnings=list(res.warnings),
        identification=None if ident is None else _identification(ident),
        evaluations=[_evaluation(e) for e in res.evaluations],
        calibrated_file_notes=list(calibrated_file_notes),
    )


# --------------------------------------------------------------------------------------------
# scenario.calibrated.yaml: the user's file, comments kept, fitted values changed


class _Float(float):
    """A float written so that YAML 1.1 (PyYAML, what rollout-sim reads) reads it back as a
    float: 1.0e-05 rather than 1e-05, which it would read as text."""


def _float_text(v: float) -> str:
    text = repr(float(v))
    mantissa, e, exponent = text.partition("e")
    if e and "." not in mantissa:
        text = f"{mantissa}.0e{exponent}"
    return text


#: Indentations tried, in order (mapping, sequence, offset): the first whose plain round trip
#: gives the file back byte for byte is used.
_INDENTS = ((2, 4, 2), (2, 2, 0), (4, 6, 2), (4, 4, 0), (3, 5, 2), (4, 4, 2))


def _ruamel(mapping: int, sequence: int, offset: int) -> Any:
    from ruamel.yaml import YAML

    y = YAML()
    y.preserve_quotes = True
    y.width = 4096  # never fold a long line the user wrote
    y.indent(mapping=mapping, sequence=sequence, offset=offset)
    y.representer.add_representer(
        _Float, lambda rep, data: rep.represent_scalar("tag:yaml.org,2002:float", _float_text(data))
    )
    return y


def _dump(y: Any, doc: Any) -> str:
    buf = io.StringIO()
    y.dump(doc, buf)
    return buf.getvalue()


def _node_value(value: Any, old: Any) -> Any:
    """*value* as a ruamel scalar, keeping the old one's digit grouping (22_016_271)."""
    from ruamel.yaml.scalarint import ScalarInt

    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    if isinstance(value, int):
        underscore = getattr(old, "_underscore", None) if isinstance(old, ScalarInt) else None
        return ScalarInt(value, underscore=underscore) if underscore else value
    return _Float(value)


def _set(doc: Any, path: PathKey, value: Any, *, ruamel: bool) -> None:
    """Set *path* in a ruamel document (or plain data), creating missing mappings."""
    node = doc
    for part in path[:-1]:
        if isinstance(node, list):
            node = node[int(part)]
            continue
        if node.get(part) is None:
            if ruamel:
                from ruamel.yaml.comments import CommentedMap

                node[part] = CommentedMap()
            else:
                node[part] = {}
        node = node[part]
    last = path[-1]
    old = node[int(last)] if isinstance(node, list) else node.get(last)
    new = _node_value(value, old) if ruamel else value
    if isinstance(node, list):
        node[int(last)] = new
    else:
        node[last] = new


def roundtrip_edit(text: str, edits: Sequence[tuple[PathKey, Any]]) -> tuple[str, int]:
    """*text* (a YAML document) with the values at *edits*' paths set, everything else kept
    (comments, key order, quoting, layout); and how many lines other than the edited ones
    could not be given back as they were.

    When every path names a one-line scalar already in the file, only those scalars' text is
    replaced (found by ruamel.yaml's parser; a comment after one keeps its column): every other
    byte stays. Otherwise (a key to add) ruamel.yaml's round trip writes the document again,
    which keeps every comment and value but may re-wrap a flow mapping split over lines.
    """
    last = dict(edits)  # a path set twice (a --set of a fitted value): the last value wins
    expected = yaml.safe_load(text)
    for path, value in last.items():
        _set(expected, path, value, ruamel=False)
    spliced = _splice(text, last)
    if spliced is not None and yaml.safe_load(spliced) == expected:
        return spliced, 0
    chosen: tuple[int, Any, Any] | None = None
    for indent in _INDENTS:
        y = _ruamel(*indent)
        doc = y.load(text)
        again = _dump(y, doc)
        a, b = text.splitlines(), again.splitlines()
        off = sum(x != z for x, z in zip(a, b, strict=False)) + abs(len(a) - len(b))
        if again == text:
            off = 0
        if chosen is None or off < chosen[0]:
            chosen = (off, y, doc)
        if off == 0:
            break
    assert chosen is not None
    off, y, doc = chosen
    for path, value in last.items():
        _set(doc, path, value, ruamel=True)
    return _dump(y, doc), off


def _splice(text: str, edits: dict[PathKey, Any]) -> str | None:
    """*text* with the one-line scalars at *edits*' paths replaced; None if a path is not such
    a scalar in the file."""
    from ruamel.yaml import YAML
    from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

    root = YAML().compose(text)
    spans: list[tuple[int, int, Any]] = []
    for path, value in edits.items():
        node = root
        for part in path:
            if isinstance(node, MappingNode):
                found = [v for k, v in node.value if isinstance(k, ScalarNode) and k.value == part]
                if len(found) != 1:
                    return None
                node = found[0]
            elif (
                isinstance(node, SequenceNode) and isinstance(part, int) and part < len(node.value)
            ):
                node = node.value[part]
            else:
                return None
        if not isinstance(node, ScalarNode):
            return None
        a, b = node.start_mark.index, node.end_mark.index
        if "\n" in text[a:b]:
            return None
        spans.append((a, b, value))
    out = text
    for a, b, value in sorted(spans, key=lambda s: -s[0]):
        old = out[a:b]
        new = _scalar_text(value, old)
        rest = out[b:]
        pad = len(rest) - len(rest.lstrip(" "))
        if pad and rest[pad : pad + 1] == "#":  # keep the comment where it was
            rest = " " * max(1, pad + len(old) - len(new)) + rest[pad:]
        out = out[:a] + new + rest
    return out


def _scalar_text(value: Any, old: str) -> str:
    """*value* as YAML 1.1 text (what rollout-sim reads), grouped like the *old* text."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:_}" if "_" in old else str(value)
    if isinstance(value, float):
        return _float_text(value)
    dumped = yaml.safe_dump(value, default_flow_style=True, width=1 << 30, allow_unicode=True)
    if dumped.endswith("\n...\n"):
        dumped = dumped[: -len("\n...\n")]
    return dumped.strip()


def _number(v: float) -> str:
    return f"{v:,.0f}" if float(v).is_integer() and abs(v) >= 1e4 else f"{v:g}"


def _at(data: Any, path: PathKey) -> Any:
    node = data
    for part in path:
        node = node[part]
    return node


def calibrated_yaml(
    res: CalibrationResult, source: Path | None, out: Path
) -> tuple[str, list[str]]:
    """The text of ``scenario.calibrated.yaml`` and notes about it.

    From *source* (the scenario file) when there is one: only the fitted values change, plus
    the command line's ``--set`` values (so the file reproduces the calibration) and relative
    file paths (rewritten to point from *out*, where the file will live). Without a source, or
    if its round trip fails its check, the resolved scenario (every default filled in)."""
    params = "; ".join(
        f"{p.path} {_number(res.initial.params[p.path])} -> {_number(res.best.params[p.path])}"
        for p in res.spec.parameters
    )
    header = [
        f"# {res.scenario.name}, calibrated by rollout-sim {__version__} ({res.method}, "
        f"{len(res.evaluations)} evaluations x {res.spec.replications} replications; "
        "see calibration.json).",
        f"# Fitted: {params}.",
    ]
    notes: list[str] = []
    fallback = "\n".join(header) + "\n" + dump_scenario(res.calibrated)
    if source is None:
        return fallback, notes
    try:
        text = Path(source).read_text(encoding="utf-8")
        raw, _ = read_yaml(Path(source))
    except (OSError, UnicodeDecodeError, InputError) as exc:
        notes.append(f"could not read {source} again ({exc}): wrote the resolved scenario")
        return fallback, notes
    data = copy.deepcopy(raw)
    edits: list[tuple[PathKey, Any]] = []
    assignments = list(dict.fromkeys(res.scenario.overrides.values()))
    for assignment in assignments:
        path = apply_override(data, assignment)
        edits.append((path, copy.deepcopy(_at(data, path))))
    if assignments:
        header.append("# From the command line: " + "; ".join(f"--set {a}" for a in assignments))
    # Relative paths were relative to the scenario's folder; the calibrated file lives in *out*.
    moved: list[PathKey] = []
    geo = data.get("geography")
    if isinstance(geo, dict) and isinstance(geo.get("file"), dict):
        moved.append(("geography", "file", "path"))
    cal = data.get("calibration")
    if isinstance(cal, dict) and isinstance(cal.get("targets"), list):
        moved += [
            ("calibration", "targets", i, "file")
            for i, t in enumerate(cal["targets"])
            if isinstance(t, dict) and "file" in t
        ]
    resolved = res.scenario.model_dump(mode="json")
    rewritten = []
    for path in moved:
        written, absolute = _at(data, path), _at(resolved, path)
        if not isinstance(written, str) or os.path.isabs(os.path.expanduser(written)):
            continue
        folder = os.path.abspath(out)
        try:
            common = os.path.commonpath([str(absolute), folder])
        except ValueError:  # another drive (Windows): only an absolute path will do
            common = ""
        # Relative within a shared project folder; absolute when only the root is shared.
        root = os.path.dirname(common) == common
        new = str(absolute) if root else os.path.relpath(str(absolute), folder)
        edits.append((path, new))
        rewritten.append(".".join(map(str, path)))
    if rewritten:
        header.append(
            "# Relative file paths rewritten to point from this folder: " + ", ".join(rewritten)
        )
    for p in res.spec.parameters:
        value = res.best.params[p.path]
        for each in [p.path, *p.also]:
            path = apply_override(data, f"{each}=0")
            edits.append((path, int(value) if p.integer else value))
    for path, value in edits:
        _set(data, path, value, ruamel=False)
    try:
        body, off = roundtrip_edit(text, edits)
        ok = yaml.safe_load(body) == data
    except Exception as exc:  # ruamel.yaml reads YAML 1.2; a rare 1.1 file may trip it
        notes.append(f"could not keep the file's layout ({type(exc).__name__}: {exc})")
        return fallback, notes
    if not ok:
        notes.append("the round trip changed more than the fitted values: wrote the resolved one")
        return fallback, notes
    if off:
        notes.append(
            f"ruamel.yaml could not give {off} line(s) of the file back exactly (indentation); "
            "every comment and value is kept"
        )
    return "\n".join(header) + "\n" + body, notes


def write_calibration(
    res: CalibrationResult,
    out: Path,
    *,
    plots: bool = True,
    extra_manifest: Mapping[str, object] | None = None,
    source: Path | None = None,
) -> CalibrationSummary:
    """``scenario.calibrated.yaml`` (the *source* file with the fitted values), the resolved
    ``scenario.resolved.yaml``, ``calibration.json``, ``plots/calibration.png``."""
    text, notes = calibrated_yaml(res, source, out)
    summary = calibration_summary(res, notes)
    with results_dir(out) as tmp:
        atomic_write(tmp / "scenario.calibrated.yaml", text)
        atomic_write(tmp / "scenario.resolved.yaml", dump_scenario(res.calibrated))
        atomic_write(
            tmp / "calibration.json", json.dumps(summary.model_dump(mode="json"), indent=2) + "\n"
        )
        if plots:
            from ..plots import calibration_figure, save_figure  # matplotlib only for plots

            save_figure(calibration_figure(res), tmp / "plots" / "calibration.png")
        manifest = {
            "rollout_sim_version": __version__,
            "scenario": res.scenario.name,
            "scenario_hash": scenario_hash(res.scenario),
            "calibrated_hash": scenario_hash(res.calibrated),
            "seed": res.scenario.seed,
            "jobs": res.jobs,
            "versions": versions(),
            **(extra_manifest or {}),
        }
        write_manifest(tmp, manifest)
    return summary
