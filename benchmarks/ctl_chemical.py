"""Chemical plant closed loop: PID-only against the offset-free NMPC, KPIs side by side.

Scenario and controllers: :mod:`energyopt.closedloop.chemical` and
:mod:`energyopt.closedloop.chemical_control` (truth flowsheet with parameter
mismatch, tank-batch feed strength, mode switches, sensor noise; both
controllers at 60 s through the same harness).  Issue 4's targets: NMPC
stability rate >= 99 % and >= 5 points above PID-only, with lower specific
energy use.

Run ``python -m benchmarks.ctl_chemical [days]`` (default 14).
"""

from __future__ import annotations

import sys
import time
from typing import Any

__all__ = ["main", "run_chemical_closed_loop"]


def run_chemical_closed_loop(days: float = 14.0, seed: int = 0) -> dict[str, Any]:
    """Run both controllers and return their KPIs and the target checks.

    Parameters
    ----------
    days : float
        Simulated length. [d]
    seed : int
        Seed of the disturbances, modes and sensor noise.

    Returns
    -------
    dict
        ``"kpis"``: controller -> KPI key -> :class:`~energyopt.kpis.KpiResult`;
        ``"targets"``: target text -> bool; ``"wall_s"``: controller -> wall
        time of its run [s]; ``"days"``; ``"status"``: controller -> solve
        status counts.
    """
    from energyopt.closedloop.chemical import build_chemical_scenario
    from energyopt.closedloop.chemical_control import chemical_nmpc_policy, chemical_pid_policy
    from energyopt.closedloop.harness import run_closed_loop

    scenario = build_chemical_scenario(days=days, seed=seed)
    spec = scenario.kpi_spec()
    kpis: dict[str, Any] = {}
    wall: dict[str, float] = {}
    status: dict[str, dict[str, int]] = {}
    for name, make in (("PID-only", chemical_pid_policy), ("NMPC", chemical_nmpc_policy)):
        policy = make(scenario)
        start = time.perf_counter()
        result = run_closed_loop(
            scenario.plant,
            policy,
            scenario.u0,
            noise=scenario.noise(seed + 1),
            plant_mode=scenario.plant_mode,
            mode_names=scenario.mode_names,
        )
        wall[name] = time.perf_counter() - start
        kpis[name] = result.kpis(spec)
        status[name] = result.status_counts()
    pid, mpc = kpis["PID-only"], kpis["NMPC"]
    targets = {
        "NMPC stability rate >= 99 %": mpc["stability_rate"].value >= 99.0,
        "NMPC stability >= PID-only + 5 points": (
            mpc["stability_rate"].value >= pid["stability_rate"].value + 5.0
        ),
        "NMPC specific energy < PID-only": (
            mpc["energy_intensity"].value < pid["energy_intensity"].value
        ),
    }
    return {"kpis": kpis, "targets": targets, "wall_s": wall, "days": days, "status": status}


def _rows(kpis: dict[str, Any]) -> list[tuple[str, str, str]]:
    pid, mpc = kpis["PID-only"], kpis["NMPC"]
    rows: list[tuple[str, str, str]] = []

    def add(label: str, key: str, fmt: str, detail: str | None = None) -> None:
        a, b = pid.get(key), mpc.get(key)
        if detail is None:
            va = format(a.value, fmt) if a is not None else "-"
            vb = format(b.value, fmt) if b is not None else "-"
        else:
            va = format(a.detail[detail], fmt) if a is not None and detail in a.detail else "-"
            vb = format(b.detail[detail], fmt) if b is not None and detail in b.detail else "-"
        rows.append((label, va, vb))

    add("stability rate overall [%]", "stability_rate", ".2f")
    for cv in pid["stability_rate"].detail:
        add(f"  stability {cv} [%]", "stability_rate", ".2f", cv)
    add("specific energy [kgce/t]", "energy_intensity", ".3f")
    add("energy use [kgce]", "comprehensive_energy", ".1f")
    for part in pid["comprehensive_energy"].detail:
        add(f"  {part} [kgce]", "comprehensive_energy", ".1f", part)
    add("purchased electricity [MWh]", "purchased_electricity", ".3f")
    add("electricity cost [EUR]", "energy_cost", ".1f")
    add("constraint-violation integral [-]", "constraint_violation", ".4f")
    add("MV utilisation [%]", "mv_utilisation", ".1f")
    add("compute time median [ms]", "solve_time_median", ".3f")
    rows[-1] = (rows[-1][0], *(f"{float(v) * 1e3:.3f}" if v != "-" else v for v in rows[-1][1:]))
    add("compute time p95 [ms]", "solve_time_p95", ".3f")
    rows[-1] = (rows[-1][0], *(f"{float(v) * 1e3:.3f}" if v != "-" else v for v in rows[-1][1:]))
    add("compute time ratio [-]", "compute_time_ratio", ".2e")
    return rows


def main(argv: list[str] | None = None) -> int:
    """Print the side-by-side KPI table and the target checks; 0 if every target passes."""
    args = sys.argv[1:] if argv is None else argv
    days = float(args[0]) if args else 14.0
    out = run_chemical_closed_loop(days=days)
    print(f"Chemical plant closed loop, {out['days']:g} days at 60 s (seed 0)")
    print(f"{'KPI':40s} {'PID-only':>14s} {'NMPC':>14s}")
    for label, a, b in _rows(out["kpis"]):
        print(f"{label:40s} {a:>14s} {b:>14s}")
    for name, seconds in out["wall_s"].items():
        per_day = seconds / out["days"]
        print(f"wall time {name}: {seconds:.1f} s ({per_day:.1f} s per simulated day); "
              f"statuses {out['status'][name]}")  # fmt: skip
    for text, ok in out["targets"].items():
        print(f"{'PASS' if ok else 'FAIL'}  {text}")
    return 0 if all(out["targets"].values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
