"""Every text of the HTML report, in English and Chinese, in one table.

KPI names are not here: they come from the KPI registry
(:attr:`energyopt.kpis.KpiInfo.name`), the one place they are defined.
"""

from __future__ import annotations

import math

from energyopt.errors import OutputError

__all__ = ["LANGUAGES", "check_language", "fmt_value", "medium_label", "run_label", "tr"]

#: Languages a report can be written in.
LANGUAGES: tuple[str, ...] = ("en", "zh")

# key -> (English, Chinese).  Placeholders use str.format names.
_STRINGS: dict[str, tuple[str, str]] = {
    "title": ("Replay report", "回放分析报告"),
    "plant": ("Plant", "装置"),
    "period": ("Period", "时段"),
    "timezone": ("Time zone", "时区"),
    "controller": ("Controller", "控制器"),
    "generated": ("Generated", "生成时间"),
    "source_project": ("Project file", "项目文件"),
    "source_data": ("Historian data", "历史数据"),
    "contents": ("Contents", "目录"),
    "data_source": ("Data source", "数据来源"),
    "note": ("Note", "说明"),
    "unknown": ("unknown", "未知"),
    "to": ("to", "至"),
    # runs
    "run.recorded": ("Recorded", "实际运行"),
    "run.baseline": ("Baseline", "基准策略"),
    "run.mpc": ("MPC", "MPC"),  # the term Chinese plants use too
    # KPI section
    "sec.kpis": ("Key performance indicators", "关键绩效指标"),
    "kpi.name": ("KPI", "指标"),
    "kpi.unit": ("Unit", "单位"),
    "kpi.diff": ("Δ vs {ref}", "相对{ref}差值"),
    "kpi.diff_pct": ("Δ %", "差值 %"),
    "kpi.legend": (
        (
            "Differences are against the reference run ({ref}); green is better and red worse "
            "in each KPI's own direction."
        ),
        "差值相对参考运行（{ref}）计算；绿色表示按该指标方向更优，红色表示更差。",
    ),
    "kpi.missing": (
        "No KPI file (kpis.json) in this folder: the KPI table is left out.",
        "此目录中没有指标文件（kpis.json），省略指标表。",
    ),
    # flows
    "sec.flows": ("Energy flows", "能流图"),
    "flows.intro": (
        (
            "Mean flows over the period; band widths are proportional to the flow within "
            "each diagram. Hover a band for its value."
        ),
        "时段内平均流量；同一图中带宽与流量成正比。鼠标悬停可查看数值。",
    ),
    "flows.site": ("Site energy", "全厂能量"),
    "flows.missing": (
        "No results.h5 in this folder: the energy-flow diagrams are left out.",
        "此目录中没有 results.h5，省略能流图。",
    ),
    "flows.unavailable": (
        "The energy-flow diagrams could not be drawn: {reason}",
        "无法绘制能流图：{reason}",
    ),
    "flows.excluded": ("Left out of the site view: {items}", "未计入全厂能量图：{items}"),
    "flows.empty": ("No flow in this view over the period.", "该视图在此时段内无流量。"),
    # trends
    "sec.trends": ("Key variables", "关键变量趋势"),
    "trends.intro": (
        (
            "Shaded: normal band; dashed: hard limits (controller limits for manipulated "
            "variables). Values in each tag's engineering unit."
        ),
        "阴影：正常区间；虚线：硬限值（操纵变量为控制器限值）。数值为位号工程单位。",
    ),
    "trends.none": (
        "No bound tag with a normal band or limits was found in the result files.",
        "结果文件中没有带正常区间或限值的位号。",
    ),
    "sec.holders": ("Gas-holder levels", "煤气柜柜位"),
    "holders.none": (
        "The project has no gas holder with a bound level tag in the result files.",
        "项目中没有在结果文件中绑定柜位位号的煤气柜。",
    ),
    "sec.cost": ("Cost over time", "累计成本"),
    "cost.intro": (
        (
            "Cumulative energy cost: purchased electricity at the recorded price plus the "
            "purchased media priced in [tariffs.prices]."
        ),
        "累计能源成本：外购电量按记录电价计，加上 [tariffs.prices] 中计价的外购介质。",
    ),
    "cost.axis": ("Cumulative cost [{unit}]", "累计成本 [{unit}]"),
    "cost.unavailable": (
        "The cost over time could not be computed: {reason}",
        "无法计算累计成本：{reason}",
    ),
    "time.axis": ("Time ({tz})", "时间（{tz}）"),
    "runs.missing": (
        (
            "No result file (results.h5, compare_baseline.h5, compare_recorded.h5) in this "
            "folder: trends, holder levels and cost are left out."
        ),
        (
            "此目录中没有结果文件（results.h5、compare_baseline.h5、compare_recorded.h5），"
            "省略趋势、柜位与成本。"
        ),
    ),
    "project.missing": (
        "The source project could not be read ({reason}); sections that need it are left out.",
        "无法读取源项目（{reason}），省略依赖它的部分。",
    ),
    # recommendations
    "sec.recs": ("Top recommendations", "主要操作建议"),
    "recs.none": (
        "No shadow-mode run (shadow.json) in this folder: no recommendations were computed.",
        "此目录中没有影子模式结果（shadow.json）：未计算操作建议。",
    ),
    "recs.empty": ("The shadow run made no recommendation.", "影子运行没有给出建议。"),
    "recs.time": ("Time", "时间"),
    "recs.saving": ("Saving [{unit}]", "节约 [{unit}]"),
    "recs.basis": ("Saving shown", "所示节约"),
    "recs.basis_note": ("Saving shown: {basis}.", "所示节约：{basis}。"),
    "recs.basis.predicted_saving": (
        "predicted saving of acting now instead of one interval later (predicted_saving)",
        "立即执行而非推迟一个控制周期的预测节约（predicted_saving）",
    ),
    "recs.basis.interval_saving": (
        "saving of acting now over the first interval (interval_saving)",
        "立即调整在首个控制周期内的节约（interval_saving）",
    ),
    "recs.basis.expected_saving": (
        "expected saving over the horizon (expected_saving)",
        "预测期内预期节约（expected_saving）",
    ),
    "recs.basis.none": (
        "none known (holding the current setpoints is infeasible on the model)",
        "未知（在模型上保持当前设定值不可行）",
    ),
    "recs.moves": ("Moves", "调整"),
    "recs.reason": ("Reason", "原因"),
    "recs.constraints": ("Active constraints", "起作用约束"),
    "recs.status": ("Status", "状态"),
    "recs.missed_total": (
        "Missed savings over the period: {value} {unit}",
        "时段内错失节约：{value} {unit}",
    ),
    "recs.cause": ("Cause", "原因类别"),
    "recs.missed": ("Missed [{unit}]", "错失 [{unit}]"),
    # model fit
    "sec.fit": ("Model-fit quality", "模型拟合质量"),
    "fit.none": (
        "No fit report ({path}) beside the source project: model-fit quality is left out.",
        "源项目旁没有拟合报告（{path}），省略模型拟合质量。",
    ),
    "fit.unit": ("Unit", "单元"),
    "fit.kind": ("Kind", "类型"),
    "fit.output": ("Output", "输出"),
    "fit.train": ("Training", "训练"),
    "fit.validate": ("Hold-out", "验证"),
    "fit.samples": ("Samples train / hold-out", "样本数 训练/验证"),
    "fit.parameter": ("Parameter", "参数"),
    "fit.value": ("Value", "数值"),
    "fit.std_error": ("Std. error", "标准误差"),
    "fit.bias": ("Bias", "偏差"),
    "fit.skipped": ("Units not fitted: {items}", "未拟合的单元：{items}"),
    "fit.measured": ("measured", "实测"),
    "fit.predicted": ("predicted", "预测"),
    "fit.plots_limited": (
        "Measured-vs-predicted plots shown for the first {n} outputs.",
        "仅显示前 {n} 个输出的实测与预测对比图。",
    ),
    # medium kinds of the energy-flow views
    "medium.electricity": ("electricity", "电力"),
    "medium.steam": ("steam", "蒸汽"),
    "medium.fuel_gas": ("fuel gas", "燃气"),
    "medium.water": ("water", "水"),
    "medium.cooling_water": ("cooling water", "冷却水"),
    "medium.compressed_air": ("compressed air", "压缩空气"),
    "footer": (
        "Self-contained report written by energyopt {version}; it needs no network access.",
        "本报告由 energyopt {version} 生成，独立成文件，无需网络。",
    ),
}


def check_language(lang: str) -> str:
    """Return ``lang`` if the report speaks it.

    Parameters
    ----------
    lang : str
        ``"en"`` or ``"zh"``.

    Raises
    ------
    OutputError
        If the language is not one of :data:`LANGUAGES`.
    """
    if lang not in LANGUAGES:
        raise OutputError(f"report language must be one of {', '.join(LANGUAGES)}, got {lang!r}")
    return lang


def tr(key: str, lang: str, **values: object) -> str:
    """Return the text ``key`` in ``lang`` with ``values`` filled in.

    Parameters
    ----------
    key : str
        A key of the string table.
    lang : str
        ``"en"`` or ``"zh"``.
    **values
        Values of the text's placeholders.

    Returns
    -------
    str
        The text (not HTML-escaped).
    """
    english, chinese = _STRINGS[key]
    text = chinese if lang == "zh" else english
    return text.format(**values) if values else text


def medium_label(kind: str, lang: str) -> str:
    """Return the display name of a medium kind (``fuel_gas`` -> ``fuel gas`` / ``燃气``).

    Parameters
    ----------
    kind : str
        Medium kind of a media node.
    lang : str
        ``"en"`` or ``"zh"``.
    """
    key = f"medium.{kind}"
    return tr(key, lang) if key in _STRINGS else kind


def run_label(run: str, lang: str) -> str:
    """Return the display name of a run (``recorded``, ``baseline``, ``mpc``, or as given).

    Parameters
    ----------
    run : str
        Run name as in ``kpis.json``.
    lang : str
        ``"en"`` or ``"zh"``.
    """
    key = f"run.{run}"
    return tr(key, lang) if key in _STRINGS else run


def fmt_value(value: float | None, *, signed: bool = False) -> str:
    """Format a number for a table or label: thousands separators, about 4 significant digits.

    Parameters
    ----------
    value : float or None
        The number; ``None`` or NaN gives ``"–"``.
    signed : bool
        Always show the sign (for differences).

    Returns
    -------
    str
        For example ``1,234,568``, ``123.4``, ``12.35``, ``0.0123``.
    """
    if value is None or not math.isfinite(value):
        return "–"
    sign = "+" if signed else ""
    size = abs(value)
    if size >= 1000.0:
        return f"{value:{sign},.0f}"
    if size >= 100.0:
        return f"{value:{sign}.1f}"
    if size >= 1.0:
        return f"{value:{sign}.2f}"
    if size == 0.0:
        return "0"
    return f"{value:{sign}.3g}"
