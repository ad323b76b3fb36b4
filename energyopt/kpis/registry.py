"""The KPI catalogue: stable keys, bilingual names, units and the better direction.

Reports, ``kpis.json`` and the GUI take names and units from here and nowhere
else.  Keys are stable identifiers (they appear in saved result files); add new
KPIs at the end and never rename one.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from energyopt.errors import DataError

__all__ = ["KPIS", "Direction", "KpiInfo", "kpi_info"]


class Direction(StrEnum):
    """Which way a KPI improves."""

    LOWER_IS_BETTER = "lower_is_better"
    HIGHER_IS_BETTER = "higher_is_better"


@dataclass(frozen=True)
class KpiInfo:
    """Metadata of one KPI.

    Attributes
    ----------
    key : str
        Stable identifier, for example ``"energy_cost"``.
    name_en : str
        Display name in English.
    name_zh : str
        Display name in Chinese (the plant's own term).
    unit : str
        Unit of the value as reported; ``"currency"`` stands for the
        project's currency.
    direction : Direction
        Whether lower or higher values are better.
    description : str
        One-sentence definition, in English.
    """

    key: str
    name_en: str
    name_zh: str
    unit: str
    direction: Direction
    description: str

    def name(self, language: str = "en") -> str:
        """Return the display name in ``language`` (``"en"`` or ``"zh"``).

        Parameters
        ----------
        language : str, optional
            ``"en"`` or ``"zh"``; a code such as ``"zh_CN"`` selects Chinese.

        Returns
        -------
        str
            The display name; English for any other language.
        """
        return self.name_zh if language.lower().startswith("zh") else self.name_en


_LOWER, _HIGHER = Direction.LOWER_IS_BETTER, Direction.HIGHER_IS_BETTER

_ENTRIES: tuple[KpiInfo, ...] = (
    KpiInfo(
        "energy_cost", "Energy cost", "能源成本", "currency", _LOWER,
        "Electricity at its time-of-use price plus purchased fuels, minus export revenue.",
    ),
    KpiInfo(
        "purchased_electricity", "Purchased electricity", "外购电量", "MWh", _LOWER,
        "Electricity bought from the grid.",
    ),
    KpiInfo(
        "self_generation_share", "Self-generation share", "自发电比例", "%", _HIGHER,
        "Share of the site's electricity use covered by its own generation.",
    ),
    KpiInfo(
        "comprehensive_energy", "Comprehensive energy consumption", "综合能耗", "kgce", _LOWER,
        "Energy crossing the plant boundary in standard coal equivalent (GB/T 2589).",
    ),
    KpiInfo(
        "energy_intensity", "Comprehensive energy consumption per tonne of product",
        "单位产品综合能耗", "kgce/t", _LOWER,
        "Comprehensive energy consumption divided by the product made "
        "(吨钢综合能耗 for crude steel).",
    ),
    KpiInfo(
        "flared_gas", "Flared gas", "放散量", "Nm3", _LOWER,
        "By-product gas burnt at the flare stacks.",
    ),
    KpiInfo(
        "flaring_rate", "Flaring rate", "放散率", "%", _LOWER,
        "Flared gas as a share of the gas made.",
    ),
    KpiInfo(
        "holder_time_outside_band", "Gas-holder time outside normal band",
        "煤气柜超出正常区间时间", "min", _LOWER,
        "Time the gas-holder levels spend outside their normal bands, summed over holders.",
    ),
    KpiInfo(
        "holder_time_outside_hard", "Gas-holder time outside hard limits",
        "煤气柜超出极限时间", "min", _LOWER,
        "Time the gas-holder levels spend outside their hard limits, summed over holders.",
    ),
    KpiInfo(
        "stability_rate", "Stability rate", "稳定率", "%", _HIGHER,
        "Share of samples in which every key controlled variable is inside its band.",
    ),
    KpiInfo(
        "constraint_violation", "Constraint-violation integral (normalised)",
        "约束越限积分（归一化）", "h", _LOWER,
        "Time integral of the distance outside the hard limits, each variable divided "
        "by its scale, summed over variables.",
    ),
    KpiInfo(
        "mv_utilisation", "MV utilisation", "操纵变量利用率", "%", _HIGHER,
        "Share of time the manipulated variables are not at a limit, averaged over MVs.",
    ),
    KpiInfo(
        "manual_interventions", "Manual interventions per hour", "人工干预频次", "1/h", _LOWER,
        "Operator setpoint changes per hour.",
    ),
    KpiInfo(
        "solve_time_median", "Median solve time", "求解时间中位数", "s", _LOWER,
        "Median wall-clock time of a controller step.",
    ),
    KpiInfo(
        "solve_time_p95", "95th-percentile solve time", "求解时间95分位数", "s", _LOWER,
        "95th percentile of the wall-clock time of a controller step.",
    ),
    KpiInfo(
        "compute_time_ratio", "Compute-time ratio", "计算时间比", "1", _LOWER,
        "Mean controller step time divided by the control interval (BOPTEST time_rat).",
    ),
    KpiInfo(
        "holder_protection_time", "DCS holder protection time", "煤气柜联锁保护动作时间",
        "min", _LOWER,
        "Time the DCS holder protection overrode the controller's inputs (low-level cut-back "
        "and shedding, high-level flare), summed over holders and sides; detail "
        "<holder>.cutback and <holder>.high_override.",
    ),
)  # fmt: skip

#: Every KPI by key, in report order (read-only).
KPIS: MappingProxyType[str, KpiInfo] = MappingProxyType({info.key: info for info in _ENTRIES})


def kpi_info(key: str) -> KpiInfo:
    """Return the metadata of the KPI ``key``.

    Parameters
    ----------
    key : str
        A key of :data:`KPIS`.

    Returns
    -------
    KpiInfo
        Its metadata.

    Raises
    ------
    DataError
        If the key is unknown (the message suggests the closest key).
    """
    try:
        return KPIS[key]
    except KeyError:
        close = difflib.get_close_matches(key, list(KPIS), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise DataError(f"unknown KPI {key!r}{hint}") from None
