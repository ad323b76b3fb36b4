"""Steelworks closed loop: rule-based dispatch vs the economic MPCs (forecast, robust, perfect).

The scenario (:mod:`energyopt.closedloop.steelworks`): the demo steelworks'
truth plant (parameters perturbed against the controllers' nominal model)
under the recorded-history disturbance profiles, 1-min plant steps, sensor
noise.  The economic MPC runs at the project's settings (15 min, 24 h) with
perfect foresight and with the causal forecaster
(:func:`energyopt.closedloop.forecast.steelworks_forecast_source`: trained on
``[controller.forecast] training_s`` of demo history before the start, reading
the scenario's sensor record only before each decision: forecast error).
Causal controllers (:mod:`energyopt.closedloop.steelworks_robust`):

* ``mpc_forecast`` -- the nominal MPC on the mean forecast;
* ``mpc_backoff`` -- the same with the LDG holder's hard limits tightened per
  interval (both sides, the economic MPC's ``HorizonInputs.limit_low`` /
  ``limit_high``) by the quantile of the cumulative inflow forecast error
  (:mod:`energyopt.closedloop.backoff`);
* ``mpc_backoff_band`` -- the back-off MPC with the LDG band weighted as the
  BFG/COG bands (1e5 instead of 1e4 CNY per unit level and interval);
* ``mpc_conformal`` -- the nominal MPC with the LDG holder's hard limits backed
  off by split-conformal margins: the 0.999 quantile of the worst level
  deviation from the plan over the lead time, on the 1-min record, calibrated
  on 11 days of history before the start that the forecaster was not fitted
  on, checked on the 3 days after (:mod:`energyopt.closedloop.holder_margin`);
* ``mpc_scenario`` -- the multi-stage MPC on the forecast's interval scenarios.

Every controller runs on the same DCS layer: the project's header-pressure PI
loops and (unless ``--no-protection``) the holder-level protection
(:mod:`energyopt.closedloop.protection`: low-level cut-back of the boilers'
firing of the holder's gas, high-level flare), whose acting minutes are
reported per holder (``<holder>_cutback_min``) apart from the controller's.
For every controller the minutes below the LDG hard limit are split by when
they happen (:mod:`energyopt.closedloop.holder_diagnosis`).

Targets (issue 4): a causal MPC's cost at least 6 % below the rule-based
baseline and at least 85 % of the perfect-foresight saving, flaring at least
50 % lower, zero minutes outside holder hard limits.

Each controller's KPIs are written to ``<out>/<controller>_<days>d.json`` as
it finishes, so controllers can run in separate processes (``--controllers``)
and ``--table`` prints every stored result of that length side by side.

Run: ``python benchmarks/ctl_steelworks.py --days 2 [--controllers ...]``.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path
from typing import Any

CONTROLLERS = (
    "rule_based",
    "mpc_forecast",
    "mpc_backoff",
    "mpc_backoff_band",
    "mpc_conformal",
    "mpc_scenario",
    "mpc_perfect",
)
#: Controllers run by default (``bench_controllers`` and the command line): all
#: but ``mpc_scenario``, whose multi-stage NLP (3 scenarios, every interval at
#: 15 min) took 21.7 s per solve -- about 8 h for 14 days; run it by name.
DEFAULT_CONTROLLERS = tuple(name for name in CONTROLLERS if name != "mpc_scenario")
CAUSAL = ("mpc_forecast", "mpc_backoff", "mpc_backoff_band", "mpc_conformal", "mpc_scenario")
#: LDG band weight of ``mpc_backoff_band``: the BFG/COG bands' (priority 1). [CNY]
_LDG_BAND_WEIGHT = 1.0e5
_DEFAULT_OUT = Path("bench_out/ctl_steelworks")


def _cpu_s() -> float:
    """CPU time of this process and its children. [s]"""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def run_one(
    name: str,
    days: float,
    seed: int,
    *,
    protection: bool = True,
    series_path: Path | None = None,
) -> dict[str, float]:
    """Run one controller; its KPIs, hard-limit minutes per holder and CPU time.

    Parameters
    ----------
    name : str
        One of :data:`CONTROLLERS`.
    days : float
        Length of the run. [d]
    seed : int
        Seed of the profiles and the sensor noise.
    protection : bool
        Run the holder-level protection in the DCS layer.
    series_path : Path, optional
        Also write every fine-step series of the run here (``.npz``: one array
        per variable name, SI, plus ``time_s``, ``decision_time_s`` and
        ``status``), for diagnosis.

    Returns
    -------
    dict
        KPI name -> value.
    """
    from functools import partial

    from energyopt.closedloop.conformal_backoff import ConformalConfig
    from energyopt.closedloop.forecast import steelworks_forecast_source
    from energyopt.closedloop.holder_diagnosis import DecisionRecorder, diagnose_holder_crossings
    from energyopt.closedloop.protection import steelworks_protection
    from energyopt.closedloop.steelworks import (
        build_steelworks_scenario,
        run_steelworks,
        steelworks_kpis,
    )
    from energyopt.closedloop.steelworks_robust import (
        holder_limit_minutes,
        run_steelworks_robust,
        with_band_weight,
    )
    from energyopt.controlbuild import economic_settings

    scenario = build_steelworks_scenario(days=days, seed=seed)
    factory = partial(steelworks_forecast_source, seed=seed)
    guard = steelworks_protection(scenario.built, scenario.step_s) if protection else None
    recorders: list[DecisionRecorder] = []

    def wrap(policy: Any) -> Any:
        recorders.append(DecisionRecorder(policy))
        return recorders[-1]

    cpu0, wall0 = _cpu_s(), time.perf_counter()
    shown = [-1]

    def progress(done: float, total: float, message: str) -> None:
        tenth = int(10.0 * done / total)
        if tenth > shown[0]:
            shown[0] = tenth
            cpu = _cpu_s() - cpu0
            print(f"  {name}: {100 * done / total:.0f} % ({message}), {cpu:.0f} s CPU", flush=True)

    common: dict[str, Any] = {
        "protection": guard,
        "wrap": wrap,
        "forecast_factory": factory,
        "progress": progress,
    }
    if name in ("rule_based", "mpc_forecast", "mpc_perfect"):
        result = run_steelworks(scenario, name, days=days, **common)
    else:
        settings = economic_settings(scenario.project, scenario.built)
        controller = name
        if name == "mpc_backoff_band":
            settings = with_band_weight(settings, "ldg_holder.level_fraction", _LDG_BAND_WEIGHT)
            controller = "mpc_backoff"
        result = run_steelworks_robust(
            scenario,
            controller,
            days=days,
            settings=settings,
            conformal=ConformalConfig(seed=seed),
            report=lambda line: print(f"  {name}: {line}", flush=True),
            **common,
        )
    if series_path is not None:
        _save_series(result, series_path)
    kpis = steelworks_kpis(scenario, result)
    kpis.update(holder_limit_minutes(scenario, result))
    if guard is not None:
        kpis.update(guard.acted_minutes())
    rec = recorders[0]
    diagnosis = diagnose_holder_crossings(
        result,
        "ldg_holder",
        0.15,
        planned=rec.planned("ldg_holder.level_fraction") if rec.time_s else None,
        decision_interval_s=900.0,
        supply="converters.flow_m3_s",
    )
    print(f"  {name}: {diagnosis.summary()}", flush=True)
    kpis["ldg_below_within_interval_min"] = diagnosis.minutes_within_interval
    kpis["ldg_below_planned_at_limit_min"] = diagnosis.minutes_planned_at_limit
    kpis["run_cpu_s"] = _cpu_s() - cpu0
    kpis["run_wall_s"] = time.perf_counter() - wall0
    counts = result.status_counts()
    kpis["decisions_not_optimal"] = float(
        sum(v for k, v in counts.items() if k not in ("none", "optimal"))
    )
    print(f"  {name}: {kpis['run_wall_s']:.0f} s wall, statuses {counts}", flush=True)
    for line in _not_optimal_summary(rec.not_optimal):
        print(f"  {name}: {line}", flush=True)
    return kpis


def _not_optimal_summary(records: list[tuple[float, str, str]]) -> list[str]:
    """Count the non-optimal decisions by status and solver outcome; name the first of each.

    The outcome is the message's first word (ipopt's return status or the
    fallback's reason) plus whether the plan foresaw a hard limit it could
    not keep.
    """
    groups: dict[tuple[str, str], list[float]] = {}
    for t_s, status, message in records:
        outcome = message.split(" ", 1)[0] if message else "(no message)"
        if "hard limits not kept" in message:
            outcome += ", hard limits not kept"
        groups.setdefault((status, outcome), []).append(t_s)
    return [
        f"{len(times)} {status}: {outcome} (first at {times[0] / 3600.0:.2f} h)"
        for (status, outcome), times in sorted(groups.items(), key=lambda kv: -len(kv[1]))
    ]


def _save_series(result: Any, path: Path) -> None:
    """Write a closed-loop run's fine-step series to ``path`` (``.npz``, atomically)."""
    import numpy as np

    model = result.model
    columns = {"time_s": result.time_s}
    for kind in ("y", "x", "u", "d"):
        for var in model.variables(kind):
            columns.setdefault(var.name, result.series(var.name))
    columns["decision_time_s"] = result.decision_time_s
    columns["status"] = result.status.astype(np.int64)
    tmp = path.with_name(path.name + ".part")
    with tmp.open("wb") as handle:
        np.savez_compressed(handle, **columns)
    tmp.replace(path)


def table(kpis: dict[str, dict[str, float]]) -> dict[str, Any]:
    """Print the KPIs side by side and the target checks; return savings and checks.

    Parameters
    ----------
    kpis : dict
        Controller -> KPI name -> value.

    Returns
    -------
    dict
        ``<controller>_saving_pct``, ``<controller>_share_of_perfect_pct`` and
        ``checks`` (message -> bool).
    """
    names = [n for n in CONTROLLERS if n in kpis]
    keys = sorted({k for v in kpis.values() for k in v})
    print(f"{'KPI':30s}" + "".join(f"{n:>17s}" for n in names))
    for key in keys:
        row = "".join(f"{kpis[n].get(key, float('nan')):17.5g}" for n in names)
        print(f"{key:30s}{row}")
    out: dict[str, Any] = {}
    checks: dict[str, bool] = {}
    base = kpis.get("rule_based")
    if base is None:
        return {"checks": checks}
    perfect = kpis.get("mpc_perfect")
    for name in names[1:]:
        k = kpis[name]
        saving = 100.0 * (1.0 - k["total_cost_cny"] / base["total_cost_cny"])
        flare_cut = 100.0 * (1.0 - k["flared_total_nm3"] / max(base["flared_total_nm3"], 1e-9))
        out[f"{name}_saving_pct"] = saving
        line = f"{name}: cost {saving:.2f} % below rule-based, flaring {flare_cut:.1f} % lower"
        if perfect is not None and name != "mpc_perfect":
            share = (base["total_cost_cny"] - k["total_cost_cny"]) / (
                base["total_cost_cny"] - perfect["total_cost_cny"]
            )
            out[f"{name}_share_of_perfect_pct"] = 100.0 * share
            line += f", {100.0 * share:.1f} % of the perfect-foresight saving"
        print(line)
        if name in CAUSAL:
            checks[f"{name} cost {saving:.2f} % below rule-based (>= 6 %)"] = saving >= 6.0
            checks[f"{name} flaring {flare_cut:.1f} % lower (>= 50 %)"] = flare_cut >= 50.0
            if f"{name}_share_of_perfect_pct" in out:
                share_pct = out[f"{name}_share_of_perfect_pct"]
                checks[f"{name} reaches {share_pct:.1f} % (>= 85 %) of perfect foresight"] = (
                    share_pct >= 85.0
                )
            hard = k["holder_outside_hard_min"]
            checks[f"{name} holder minutes outside hard limits = {hard:g} (0)"] = hard == 0.0
    out["checks"] = checks
    return out


def _load(out_dir: Path, days: float) -> dict[str, dict[str, float]]:
    kpis = {}
    for name in CONTROLLERS:
        path = out_dir / f"{name}_{days:g}d.json"
        if path.exists():
            kpis[name] = json.loads(path.read_text(encoding="utf-8"))
    return kpis


def run_steelworks_closed_loop(
    days: float = 14.0, seed: int = 0, controllers: tuple[str, ...] = DEFAULT_CONTROLLERS
) -> dict[str, Any]:
    """Run the controllers in this process and compare them (``bench_controllers`` section).

    Parameters
    ----------
    days : float
        Length of the comparison. [d]
    seed : int
        Seed of the profiles and the sensor noise.
    controllers : tuple of str
        Which of :data:`CONTROLLERS` (``rule_based`` is the baseline).

    Returns
    -------
    dict
        ``kpis`` per controller, savings and ``checks`` (target -> bool).
    """
    kpis = {name: run_one(name, days, seed) for name in controllers}
    out = table(kpis)
    out["kpis"] = kpis
    out["days"] = days
    return out


def main(argv: list[str] | None = None) -> int:
    """Command-line entry (``--help``)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=float, default=14.0, help="length of the run [d]")
    parser.add_argument("--seed", type=int, default=0, help="seed of profiles and noise")
    parser.add_argument(
        "--controllers",
        nargs="+",
        choices=CONTROLLERS,
        default=list(DEFAULT_CONTROLLERS),
        help="controllers to run (default all but mpc_scenario, ~8 h at 14 days)",
    )
    parser.add_argument(
        "--out", type=Path, default=_DEFAULT_OUT, help="folder of the per-controller JSON"
    )
    parser.add_argument(
        "--table", action="store_true", help="only print the stored results of --days"
    )
    parser.add_argument(
        "--series",
        action="store_true",
        help="also write each run's fine-step series (<out>/<controller>_<days>d.npz)",
    )
    parser.add_argument(
        "--no-protection",
        action="store_true",
        help="run without the DCS holder-level protection (results in <out>/no_protection)",
    )
    args = parser.parse_args(argv)
    if args.no_protection:
        args.out = args.out / "no_protection"
    if not args.table:
        args.out.mkdir(parents=True, exist_ok=True)
        for name in args.controllers:
            kpis = run_one(
                name,
                args.days,
                args.seed,
                protection=not args.no_protection,
                series_path=args.out / f"{name}_{args.days:g}d.npz" if args.series else None,
            )
            path = args.out / f"{name}_{args.days:g}d.json"
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(kpis, indent=1), encoding="utf-8")
            tmp.replace(path)
    result = table(_load(args.out, args.days))
    for key, ok in result["checks"].items():
        print(f"{'PASS' if ok else 'FAIL'}  {key}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
