"""Rule-based dispatch of a steelworks energy system, as plants run it today.

The rules an energy-centre operator (or the DCS sequence) applies every
control interval:

Gas networks (holder-level-driven boiler firing)
    For each by-product gas the boilers burn the *surplus* -- gas made minus
    what the process users draw, low-pass filtered -- plus a correction
    proportional to the holder level's distance from its target: more when
    the holder is high, less when it is low.  Firing changes are rate
    limited.  When the boilers cannot take it all (steam limit), the gas
    listed first in :attr:`DispatchSettings.gases` (BFG) is cut first.
Flaring
    A network with a flare opens it when its holder reaches the hard high
    limit and closes it once the level is back a few per cent below.
Gas shortage
    Below the holder's normal band, the listed gas users are shed in
    proportion to how far the level has fallen towards the hard low limit.
Make-up fuel
    If the gas available keeps the boilers below their minimum stable load,
    the make-up fuel (natural gas) on the make-up boiler fills the gap.
Steam
    Turbine inlet takes what the boilers make (turbine-follow mode, with a PI
    correction on the HP header pressure); turbine extraction meets the MP
    demand (PI on MP pressure), the HP->MP reducing station covers what the
    extraction cannot; the MP->LP station feeds the LP users (PI on LP
    pressure).  Boiler steam over the interval is predicted from its
    first-order lag so that the feed-forward is balanced.
Electricity
    The grid connection is the plant's slack: it imports what the works
    draws beyond the turbo-generators' output.

Everything is arrays in, arrays out (:class:`~controllers.baselines.base.Baseline`):
the dispatch reads the plant's output vector and writes its input vector.
The parameters it uses (holder volumes, boiler ratings, turbine limits,
station enthalpies) are those of the plant it is built from -- the nominal
project model -- not of the plant it acts on.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from controllers.baselines.base import BaselineError
from plant_models.plant.compose import Plant

__all__ = ["DispatchSettings", "GasNetworkRule", "SteelworksDispatch"]


@dataclass(frozen=True)
class GasNetworkRule:
    """Dispatch rule of one by-product gas network.

    Attributes
    ----------
    node : str
        Fuel-gas node.
    holder : str
        Gas-holder unit on the node.
    flare : str or None
        Flare unit on the node, if any.
    lhv_j_m3 : float
        Nominal heating value used to turn flows into firing power. [J/m3]
    level_target_fraction : float
        Holder level the firing correction steers to. [1]
    level_time_s : float
        Time in which the correction would remove a level deviation. [s]
    surplus_filter_s : float
        Time constant of the surplus filter. [s]
    rate_limit_m3_s2 : float
        Largest change of the network's total boiler firing per second. [m3/s2]
    flare_margin_fraction : float
        The flare opens this far below the hard high limit. [1]
    flare_time_s : float
        Time in which the flare would pull the level back. [s]
    curtail_users : tuple of str
        Gas consumers shed (up to their curtailable share) when the holder
        falls below its normal band, fully at the hard low limit.
    """

    node: str
    holder: str
    flare: str | None
    lhv_j_m3: float
    level_target_fraction: float = 0.5
    level_time_s: float = 5400.0
    surplus_filter_s: float = 1200.0
    rate_limit_m3_s2: float = math.inf
    flare_margin_fraction: float = 0.01
    flare_time_s: float = 600.0
    curtail_users: tuple[str, ...] = ()


@dataclass(frozen=True)
class DispatchSettings:
    """Which units play which part, and the dispatch's tuning.

    Attributes
    ----------
    gases : tuple of GasNetworkRule
        By-product gas networks, in the order their firing is cut when the
        boilers cannot take all the gas.
    boilers : tuple of str
        Boiler units.
    makeup_node : str
        Purchased make-up fuel node (natural gas).
    makeup_lhv_j_m3 : float
        Nominal heating value of the make-up fuel. [J/m3]
    turbines : tuple of str
        Extraction-condensing turbo-generators (inlet on HP, extraction to MP).
    hp_header, mp_header, lp_header : str
        Steam header units.
    prds_hp_mp, prds_mp_lp : str
        Pressure-reducing stations HP->MP and MP->LP.
    mp_users, lp_users : tuple of str
        Steam consumers on the MP and LP headers.
    mixer : str or None
        Gas mixing station feeding ``mixer_users``.
    mixer_users : tuple of str
        Gas consumers on the mixed-gas node.
    fuel_limits_m3_s : Mapping[str, float]
        ``"<boiler>.<node>"`` -> largest fuel flow. [m3/s]
    interval_s : float
        Control interval. [s]
    pressure_time_s : float
        Closed-loop time constant of the header pressure controllers. [s]
    pressure_integral_s : float
        Integral time of the header pressure controllers. [s]
    steam_margin_fraction : float
        Share of the turbines' inlet capacity kept free when capping firing. [1]
    """

    gases: tuple[GasNetworkRule, ...]
    boilers: tuple[str, ...]
    makeup_node: str
    makeup_lhv_j_m3: float
    turbines: tuple[str, ...]
    hp_header: str
    mp_header: str
    lp_header: str
    prds_hp_mp: str
    prds_mp_lp: str
    mp_users: tuple[str, ...]
    lp_users: tuple[str, ...]
    mixer: str | None = None
    mixer_users: tuple[str, ...] = ()
    fuel_limits_m3_s: Mapping[str, float] = field(default_factory=dict)
    interval_s: float = 60.0
    pressure_time_s: float = 120.0
    pressure_integral_s: float = 1800.0
    steam_margin_fraction: float = 0.03


@dataclass
class _Boiler:
    name: str
    fuel_u: dict[str, int]
    fuel_max: dict[str, float]
    steam_y: int
    efficiency_y: int
    power_max_w: float
    power_min_w: float
    enthalpy_rise_j_kg: float
    time_constant_s: float
    capacity_kg_s: float


class SteelworksDispatch:
    """Rule-based dispatch of a steelworks energy system (see the module docstring).

    Parameters
    ----------
    plant : Plant
        The nominal composed plant (names, orders and parameters).
    settings : DispatchSettings
        Unit roles and tuning.

    Raises
    ------
    BaselineError
        If a named unit or one of its variables is not in the plant.
    """

    def __init__(self, plant: Plant, settings: DispatchSettings) -> None:
        self._settings = settings
        self._model = plant.model
        self._params = {u.name: u.params for u in plant.units}
        self._conn = {u.name: u.connections for u in plant.units}
        m = self._model
        self._n_u = m.sizes["u"]
        self._y = {v.name: i for i, v in enumerate(m.outputs)}
        self._u = {v.name: i for i, v in enumerate(m.inputs)}
        s = settings
        self._boilers = [self._boiler(name) for name in s.boilers]
        for gas in s.gases:
            self._param(gas.holder, "volume_m3")
        self._tg = [
            (
                self._ui(f"{t}.flow_in_kg_s"),
                self._ui(f"{t}.flow_extraction_kg_s"),
                float(self._param(t, "min_inlet_flow_kg_s")),
                float(self._param(t, "max_inlet_flow_kg_s")),
                float(self._param(t, "max_extraction_flow_kg_s")),
                float(self._param(t, "min_condensing_flow_kg_s")),
            )
            for t in s.turbines
        ]
        self._water_ratio = {
            name: self._prds_water_ratio(name) for name in (s.prds_hp_mp, s.prds_mp_lp)
        }
        self._capacitance = {
            h: float(self._param(h, "volume_m3"))
            * float(self._param(h, "density_pressure_derivative_s2_m2"))
            for h in (s.hp_header, s.mp_header, s.lp_header)
        }
        self._setpoint = {
            h: float(self._param(h, "pressure_nominal_pa"))
            for h in (s.hp_header, s.mp_header, s.lp_header)
        }
        self.reset()

    # ------------------------------------------------------------ plumbing

    @property
    def interval_s(self) -> float:
        """Control interval. [s]."""
        return self._settings.interval_s

    def _param(self, unit: str, name: str) -> Any:
        if unit not in self._params:
            raise BaselineError(f"dispatch: unit {unit!r} is not in plant {self._model.name}")
        if not hasattr(self._params[unit], name):
            raise BaselineError(f"dispatch: unit {unit!r} has no parameter {name!r}")
        return getattr(self._params[unit], name)

    def _yi(self, name: str) -> int:
        if name not in self._y:
            raise BaselineError(f"dispatch: plant {self._model.name} has no output {name!r}")
        return self._y[name]

    def _ui(self, name: str) -> int:
        if name not in self._u:
            raise BaselineError(f"dispatch: plant {self._model.name} has no input {name!r}")
        return self._u[name]

    def _boiler(self, name: str) -> _Boiler:
        fuels = self._conn.get(name, {}).get("fuel", ())
        if not fuels:
            raise BaselineError(f"dispatch: boiler {name!r} is not in the plant or burns nothing")
        cap = float(self._param(name, "capacity_steam_kg_s"))
        dh = float(self._param(name, "enthalpy_rise_j_kg"))
        eta = float(self._param(name, "efficiency_nominal"))
        limits = self._settings.fuel_limits_m3_s
        return _Boiler(
            name=name,
            fuel_u={node: self._ui(f"{name}.fuel_{i}_m3_s") for i, node in enumerate(fuels)},
            fuel_max={node: float(limits.get(f"{name}.{node}", math.inf)) for node in fuels},
            steam_y=self._yi(f"{name}.steam_kg_s"),
            efficiency_y=self._yi(f"{name}.efficiency"),
            power_max_w=cap * dh / eta,
            power_min_w=float(self._param(name, "min_load_fraction")) * cap * dh / eta,
            enthalpy_rise_j_kg=dh,
            time_constant_s=float(self._param(name, "time_constant_s")),
            capacity_kg_s=cap,
        )

    def _prds_water_ratio(self, name: str) -> float:
        h_in = float(self._param(name, "enthalpy_in_j_kg"))
        h_out = float(self._param(name, "enthalpy_out_j_kg"))
        h_w = float(self._param(name, "enthalpy_water_j_kg"))
        return (h_in - h_out) / (h_out - h_w)

    def reset(self, u0: npt.ArrayLike | None = None) -> None:
        """Forget filters and integrals; ``u0`` is the input vector in force now. [SI]."""
        self._u_prev = (
            np.zeros(self._n_u) if u0 is None else np.array(u0, dtype=np.float64, copy=True)
        )
        if self._u_prev.shape != (self._n_u,):
            raise BaselineError(f"dispatch: u0 must have shape ({self._n_u},)")
        self._surplus: dict[str, float | None] = {g.node: None for g in self._settings.gases}
        self._firing = {
            g.node: sum(self._u_prev[b.fuel_u[g.node]] for b in self._boilers if g.node in b.fuel_u)
            for g in self._settings.gases
        }
        self._flaring = {g.node: False for g in self._settings.gases}
        self._integral = dict.fromkeys(self._capacitance, 0.0)

    # ------------------------------------------------------------ the rules

    def step(self, t_s: float, y_meas: npt.ArrayLike) -> np.ndarray:
        """Return the input vector for the interval starting at ``t_s``.

        Parameters
        ----------
        t_s : float
            Interval start. [s]
        y_meas : array_like, shape (ny,)
            Measured plant outputs. [SI]

        Returns
        -------
        numpy.ndarray, shape (nu,)
            Inputs to hold over the interval. [SI]
        """
        y = np.asarray(y_meas, dtype=np.float64)
        if y.shape != (len(self._y),):
            raise BaselineError(
                f"dispatch: y_meas must have shape ({len(self._y)},), got {y.shape}"
            )
        u = self._u_prev.copy()
        firing, unburnt = self._gas_firing(y)
        allocation = self._allocate(firing)
        for b, flows in zip(self._boilers, allocation, strict=True):
            for node, q in flows.items():
                u[b.fuel_u[node]] = q
        for gas in self._settings.gases:
            self._firing[gas.node] = sum(flows.get(gas.node, 0.0) for flows in allocation)
            if gas.flare is not None:
                u[self._ui(f"{gas.flare}.flow_command_m3_s")] = self._flare(gas, y, unburnt)
            if gas.curtail_users:
                level = y[self._yi(f"{gas.holder}.level_fraction")]
                low = float(self._param(gas.holder, "level_normal_low_fraction"))
                hard = float(self._param(gas.holder, "level_hard_low_fraction"))
                shed = min(max((low - level) / (low - hard), 0.0), 1.0)
                for user in gas.curtail_users:
                    u[self._ui(f"{user}.curtail_fraction")] = shed
        self._steam(y, allocation, u)
        s = self._settings
        if s.mixer is not None:
            u[self._ui(f"{s.mixer}.flow_mixed_m3_s")] = sum(
                y[self._yi(f"{c}.flow_m3_s")] for c in s.mixer_users
            )
        self._u_prev = u
        return u.copy()

    def _gas_firing(self, y: np.ndarray) -> tuple[dict[str, float], dict[str, float]]:
        """Boiler firing per gas network [m3/s] and the surplus left unburnt [m3/s]."""
        s = self._settings
        dt = s.interval_s
        firing: dict[str, float] = {}
        for gas in s.gases:
            node = gas.node
            flare_flow = y[self._yi(f"{gas.flare}.flow_m3_s")] if gas.flare is not None else 0.0
            boiler_draw = sum(
                self._u_prev[b.fuel_u[node]] for b in self._boilers if node in b.fuel_u
            )
            others = y[self._yi(f"{node}.demand")] - boiler_draw - flare_flow
            surplus = y[self._yi(f"{node}.supply")] - others
            previous = self._surplus[node]
            filtered = (
                surplus
                if previous is None
                else previous + (surplus - previous) * dt / (gas.surplus_filter_s + dt)
            )
            self._surplus[node] = filtered
            volume = float(self._param(gas.holder, "volume_m3"))
            level = y[self._yi(f"{gas.holder}.level_fraction")]
            target = filtered + volume * (level - gas.level_target_fraction) / gas.level_time_s
            step = gas.rate_limit_m3_s2 * dt
            last = self._firing[node]
            firing[node] = max(0.0, min(max(target, last - step), last + step))
        # Steam limit: the turbines (less a margin) must be able to take the steam.
        tg_max = sum(t[3] for t in self._tg) * (1.0 - s.steam_margin_fraction)
        eta_dh = [b.power_max_w / b.capacity_kg_s for b in self._boilers]
        power_cap = min(tg_max * float(np.mean(eta_dh)), sum(b.power_max_w for b in self._boilers))
        power = sum(firing[g.node] * g.lhv_j_m3 for g in s.gases)
        for gas in s.gases:  # cut in list order
            excess = power - power_cap
            if excess <= 0.0:
                break
            cut = min(firing[gas.node], excess / gas.lhv_j_m3)
            firing[gas.node] -= cut
            power -= cut * gas.lhv_j_m3
        unburnt = {g.node: (self._surplus[g.node] or 0.0) - firing[g.node] for g in s.gases}
        return firing, unburnt

    def _allocate(self, firing: dict[str, float]) -> list[dict[str, float]]:
        """Split each network's firing over the boilers; add make-up fuel below minimum load."""
        lhv = {g.node: g.lhv_j_m3 for g in self._settings.gases}
        power_total = sum(firing[n] * lhv[n] for n in firing)
        weights = np.array([b.power_max_w for b in self._boilers])
        target = power_total * weights / weights.sum()
        room = target.copy()
        flows: list[dict[str, float]] = [{} for _ in self._boilers]
        # Gases few boilers can burn are placed first.
        order = sorted(firing, key=lambda n: sum(n in b.fuel_u for b in self._boilers))
        for node in order:
            left = firing[node]
            for strict in (True, False):
                burners = [i for i, b in enumerate(self._boilers) if node in b.fuel_u]
                for i in burners:
                    if left <= 0.0:
                        break
                    b = self._boilers[i]
                    cap_room = room[i] if strict else b.power_max_w - (target[i] - room[i])
                    share = (
                        left
                        if not strict
                        else left
                        * max(room[i], 0.0)
                        / max(sum(max(room[j], 0.0) for j in burners), 1e-9)
                    )
                    q = min(
                        share,
                        b.fuel_max[node] - flows[i].get(node, 0.0),
                        max(cap_room, 0.0) / lhv[node],
                    )
                    q = max(q, 0.0)
                    flows[i][node] = flows[i].get(node, 0.0) + q
                    room[i] -= q * lhv[node]
                    left -= q
        # Make-up fuel: each boiler that burns it is held at its minimum load.
        makeup = self._settings.makeup_node
        for i, b in enumerate(self._boilers):
            if makeup not in b.fuel_u:
                continue
            fired = sum(q * lhv[n] for n, q in flows[i].items())
            need = max(b.power_min_w - fired, 0.0)
            lhv_makeup = self._settings.makeup_lhv_j_m3
            flows[i][makeup] = min(need / lhv_makeup, b.fuel_max[makeup])
        return flows

    def _flare(self, gas: GasNetworkRule, y: np.ndarray, unburnt: dict[str, float]) -> float:
        level = y[self._yi(f"{gas.holder}.level_fraction")]
        hard = float(self._param(gas.holder, "level_hard_high_fraction"))
        margin = gas.flare_margin_fraction
        if level >= hard - margin:
            self._flaring[gas.node] = True
        elif level < hard - 3.0 * margin:
            self._flaring[gas.node] = False
        if not self._flaring[gas.node]:
            return 0.0
        volume = float(self._param(gas.holder, "volume_m3"))
        command = unburnt[gas.node] + volume * (level - (hard - 2.0 * margin)) / gas.flare_time_s
        capacity = float(self._param(gas.flare or "", "capacity_m3_s"))
        return min(max(command, 0.0), capacity)

    def _pressure_correction(self, header: str, y: np.ndarray) -> float:
        """PI correction: extra supply needed by a header [kg/s] (positive when pressure is low)."""
        s = self._settings
        error = self._setpoint[header] - y[self._yi(f"{header}.pressure_pa")]
        gain = self._capacitance[header] / s.pressure_time_s
        self._integral[header] += gain * error * s.interval_s / s.pressure_integral_s
        limit = 20.0  # anti-windup: the integral never asks for more than 20 kg/s
        self._integral[header] = min(max(self._integral[header], -limit), limit)
        return gain * error + self._integral[header]

    def _steam(self, y: np.ndarray, allocation: list[dict[str, float]], u: np.ndarray) -> None:
        s = self._settings
        dt = s.interval_s
        lhv = {g.node: g.lhv_j_m3 for g in s.gases}
        lhv[s.makeup_node] = s.makeup_lhv_j_m3
        made = 0.0
        for b, flows in zip(self._boilers, allocation, strict=True):
            eta = min(max(y[b.efficiency_y], 0.5), 1.0)
            steady = eta * sum(q * lhv[n] for n, q in flows.items()) / b.enthalpy_rise_j_kg
            now = y[b.steam_y]
            tau = b.time_constant_s
            made += steady + (now - steady) * tau / dt * (1.0 - math.exp(-dt / tau))
        w_hm = self._water_ratio[s.prds_hp_mp]
        w_ml = self._water_ratio[s.prds_mp_lp]
        lp_need = sum(y[self._yi(f"{c}.flow_steam_kg_s")] for c in s.lp_users)
        prds_ml = max((lp_need + self._pressure_correction(s.lp_header, y)) / (1.0 + w_ml), 0.0)
        mp_need = sum(y[self._yi(f"{c}.flow_steam_kg_s")] for c in s.mp_users) + prds_ml
        mp_need += self._pressure_correction(s.mp_header, y)
        hp_extra = -self._pressure_correction(s.hp_header, y)
        prds_hm = 0.0
        inlet = extraction = np.zeros(len(self._tg))
        for _ in range(3):
            total = made - prds_hm + hp_extra
            inlet = np.array([min(max(total / len(self._tg), t[2]), t[3]) for t in self._tg])
            ext_max = np.array(
                [max(min(t[4], q - t[5]), 0.0) for t, q in zip(self._tg, inlet, strict=True)]
            )
            short = mp_need - ext_max.sum()
            prds_hm = max(short, 0.0) / (1.0 + w_hm)
            extraction = ext_max * min(max(mp_need, 0.0) / max(ext_max.sum(), 1e-9), 1.0)
        for t, q_in, q_ext in zip(self._tg, inlet, extraction, strict=True):
            u[t[0]] = q_in
            u[t[1]] = q_ext
        u[self._ui(f"{s.prds_hp_mp}.flow_in_command_kg_s")] = prds_hm
        u[self._ui(f"{s.prds_mp_lp}.flow_in_command_kg_s")] = prds_ml
