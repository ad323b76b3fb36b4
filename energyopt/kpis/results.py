"""KPI result values and the side-by-side report of several runs.

:class:`KpiResult` is one KPI of one run (what ``kpis.json`` stores);
:class:`KpiReport` holds several named runs (recorded, baseline, MPC) and
their differences from a reference run, with improvement judged by each
KPI's :class:`~energyopt.kpis.registry.Direction`.

NaN (a KPI that could not be computed) is written to JSON as ``null``.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from energyopt.errors import DataError
from energyopt.kpis.registry import KPIS, Direction, KpiInfo, kpi_info

__all__ = ["KpiDifference", "KpiReport", "KpiResult"]


def _json_number(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _from_json_number(where: str, value: object) -> float:
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DataError(f"{where} must be a number or null, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class KpiResult:
    """One KPI value of one run.

    Attributes
    ----------
    key : str
        KPI key (:data:`~energyopt.kpis.registry.KPIS`).
    value : float
        The value in the registry unit; NaN if it could not be computed.
    n_samples : int
        Steps of the period the KPI was computed over.
    n_missing : int
        Steps left out because an input was missing.
    detail : mapping of str to float
        Breakdown (per carrier, holder or variable), in the KPI's unit unless
        the KPI's description says otherwise.
    note : str
        Why a value is NaN, or another caveat for the reader.
    """

    key: str
    value: float
    n_samples: int = 0
    n_missing: int = 0
    detail: Mapping[str, float] = field(default_factory=dict)
    note: str = ""

    def __post_init__(self) -> None:
        kpi_info(self.key)
        if self.n_samples < 0 or self.n_missing < 0:
            raise DataError(f"{self.key}: sample counts must be non-negative")
        object.__setattr__(self, "value", float(self.value))
        object.__setattr__(
            self, "detail", MappingProxyType({k: float(v) for k, v in self.detail.items()})
        )

    @property
    def info(self) -> KpiInfo:
        """Registry metadata of this KPI."""
        return KPIS[self.key]

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (for ``kpis.json``); NaN becomes None.

        Returns
        -------
        dict
            ``key``, ``name_en``, ``name_zh``, ``unit``, ``direction``,
            ``value``, ``n_samples``, ``n_missing``, ``detail``, ``note``.
        """
        info = self.info
        return {
            "key": self.key,
            "name_en": info.name_en,
            "name_zh": info.name_zh,
            "unit": info.unit,
            "direction": str(info.direction),
            "value": _json_number(self.value),
            "n_samples": self.n_samples,
            "n_missing": self.n_missing,
            "detail": {k: _json_number(v) for k, v in self.detail.items()},
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> KpiResult:
        """Rebuild a result from :meth:`to_dict` output (names and unit come from the registry).

        Parameters
        ----------
        data : mapping
            A dict as written by :meth:`to_dict`.

        Returns
        -------
        KpiResult
            The result.

        Raises
        ------
        DataError
            If the key is unknown or a field has the wrong type.
        """
        key = data.get("key")
        if not isinstance(key, str):
            raise DataError(f"KPI result needs a string 'key', got {key!r}")
        detail = data.get("detail") or {}
        if not isinstance(detail, Mapping):
            raise DataError(f"{key}: 'detail' must be a mapping")
        counts = [data.get(name, 0) for name in ("n_samples", "n_missing")]
        if not all(isinstance(c, int) and not isinstance(c, bool) for c in counts):
            raise DataError(f"{key}: n_samples and n_missing must be integers")
        return cls(
            key=key,
            value=_from_json_number(f"{key}: 'value'", data.get("value")),
            n_samples=counts[0],
            n_missing=counts[1],
            detail={
                str(k): _from_json_number(f"{key}: detail {k!r}", v) for k, v in detail.items()
            },
            note=str(data.get("note", "")),
        )


@dataclass(frozen=True)
class KpiDifference:
    """Difference of one KPI between a run and the reference run.

    Attributes
    ----------
    absolute : float
        ``value(run) - value(reference)``; NaN if either is NaN. [KPI unit]
    relative_pct : float
        ``absolute / abs(value(reference)) * 100``; NaN if the reference is 0
        or NaN. [%]
    improved : bool or None
        True if the run is better in the KPI's direction, False if worse,
        None if equal or unknown.
    """

    absolute: float
    relative_pct: float
    improved: bool | None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict; NaN becomes None.

        Returns
        -------
        dict
            ``absolute``, ``relative_pct``, ``improved``.
        """
        return {
            "absolute": _json_number(self.absolute),
            "relative_pct": _json_number(self.relative_pct),
            "improved": self.improved,
        }


def _difference(info: KpiInfo, value: float, reference: float) -> KpiDifference:
    absolute = value - reference
    relative = 100.0 * absolute / abs(reference) if reference != 0.0 else math.nan
    if not math.isfinite(absolute) or absolute == 0.0:
        improved = None
    else:
        improved = (absolute < 0.0) == (info.direction is Direction.LOWER_IS_BETTER)
    return KpiDifference(absolute, relative if math.isfinite(relative) else math.nan, improved)


def _display_width(text: str) -> int:
    """Return the terminal width of ``text`` (CJK characters take two columns)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int, *, right: bool = False) -> str:
    fill = " " * max(width - _display_width(text), 0)
    return fill + text if right else text + fill


@dataclass(frozen=True)
class KpiReport:
    """KPIs of several named runs side by side, compared with a reference run.

    Build it with :meth:`from_results`.

    Attributes
    ----------
    runs : mapping of str to mapping of str to KpiResult
        Run name -> KPI key -> result, in display order.
    reference : str
        Name of the run the others are compared with (for example ``"recorded"``).
    """

    runs: Mapping[str, Mapping[str, KpiResult]]
    reference: str

    def __post_init__(self) -> None:
        if not self.runs:
            raise DataError("KPI report: give at least one run")
        if self.reference not in self.runs:
            raise DataError(
                f"KPI report: reference run {self.reference!r} is not among the runs "
                f"{', '.join(map(repr, self.runs))}"
            )
        for run, results in self.runs.items():
            for key, result in results.items():
                if result.key != key:
                    raise DataError(f"KPI report: run {run!r} files {result.key!r} under {key!r}")

    @classmethod
    def from_results(
        cls,
        runs: Mapping[str, Iterable[KpiResult]],
        reference: str | None = None,
    ) -> KpiReport:
        """Build a report from each run's results.

        Parameters
        ----------
        runs : mapping of str to iterable of KpiResult
            Run name -> its results (a list, or a mapping key -> result).
        reference : str, optional
            Reference run; default the first run.

        Returns
        -------
        KpiReport
            The report.

        Raises
        ------
        DataError
            If there is no run, the reference is unknown or a run has a KPI twice.
        """
        table: dict[str, dict[str, KpiResult]] = {}
        for run, results in runs.items():
            items = results.values() if isinstance(results, Mapping) else results
            table[run] = {}
            for result in items:
                if result.key in table[run]:
                    raise DataError(f"KPI report: run {run!r} has {result.key!r} twice")
                table[run][result.key] = result
        first = next(iter(table), "")
        return cls(runs=table, reference=first if reference is None else reference)

    @property
    def run_names(self) -> tuple[str, ...]:
        """Run names in display order."""
        return tuple(self.runs)

    @property
    def keys(self) -> tuple[str, ...]:
        """KPI keys present in any run, in registry order."""
        present = {key for results in self.runs.values() for key in results}
        return tuple(key for key in KPIS if key in present)

    def value(self, run: str, key: str) -> float:
        """Return the value of KPI ``key`` in ``run`` (NaN if the run lacks it).

        Parameters
        ----------
        run : str
            Run name.
        key : str
            KPI key.

        Returns
        -------
        float
            The value. [KPI unit]

        Raises
        ------
        DataError
            If the run or the KPI key is unknown.
        """
        kpi_info(key)
        if run not in self.runs:
            raise DataError(f"KPI report: no run {run!r}")
        result = self.runs[run].get(key)
        return math.nan if result is None else result.value

    def difference(self, run: str, key: str) -> KpiDifference:
        """Return how ``run`` differs from the reference run in KPI ``key``.

        Parameters
        ----------
        run : str
            Run name.
        key : str
            KPI key.

        Returns
        -------
        KpiDifference
            Absolute and relative difference, and whether it is an improvement.

        Raises
        ------
        DataError
            If the run or the KPI key is unknown.
        """
        return _difference(kpi_info(key), self.value(run, key), self.value(self.reference, key))

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict of all runs and differences.

        Returns
        -------
        dict
            ``reference``, ``runs`` (run -> key -> :meth:`KpiResult.to_dict`)
            and ``differences`` (run -> key -> :meth:`KpiDifference.to_dict`,
            for every run but the reference).
        """
        return {
            "reference": self.reference,
            "runs": {
                run: {key: result.to_dict() for key, result in results.items()}
                for run, results in self.runs.items()
            },
            "differences": {
                run: {key: self.difference(run, key).to_dict() for key in self.keys}
                for run in self.runs
                if run != self.reference
            },
        }

    def to_text(self, language: str = "en", *, digits: int = 4) -> str:
        """Return the report as a plain-text table (one KPI per row, one column per run).

        Each non-reference run column shows its value followed by the relative
        difference from the reference, for example ``1.234e+05 (-3.1 %)``.

        Parameters
        ----------
        language : str, optional
            ``"en"`` or ``"zh"`` for the KPI names.
        digits : int, optional
            Significant digits of the values.

        Returns
        -------
        str
            The table, lines separated by newlines.
        """
        header = ["KPI" if not language.startswith("zh") else "指标", "unit"]
        header += list(self.runs)
        rows = [header]
        for key in self.keys:
            info = KPIS[key]
            row = [info.name(language), info.unit]
            for run in self.runs:
                cell = f"{self.value(run, key):.{digits}g}"
                if run != self.reference:
                    relative = self.difference(run, key).relative_pct
                    if math.isfinite(relative):
                        cell += f" ({relative:+.1f} %)"
                row.append(cell)
            rows.append(row)
        widths = [max(_display_width(r[i]) for r in rows) for i in range(len(header))]
        lines = [
            "  ".join(
                _pad(cell, w, right=i >= 2)
                for i, (cell, w) in enumerate(zip(r, widths, strict=True))
            )
            for r in rows
        ]
        return "\n".join(line.rstrip() for line in lines)
