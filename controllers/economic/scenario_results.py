"""Results of the multi-stage economic MPC and the per-scenario simulation behind them.

:class:`ScenarioSimulator` simulates a plan in one scenario with the layout's
interval function and evaluates the nominal objective on it (the same
expressions as the NLP); it also builds the cold-start guess and shifts the
previous solution for a warm start.  :class:`ScenarioPlan` is what a solve
returns: every scenario's plan and predicted CVs, and the advisor's
:class:`~controllers.advisor.contract.ControlSolution`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from controllers.advisor.contract import ControlSolution
from controllers.economic.formulation import ProblemLayout
from controllers.economic.outputs import OutputBounds, excess
from controllers.economic.results import PlanEvaluation, output_slacks
from controllers.economic.scenario_formulation import (
    BLOCKS_PER_SCENARIO,
    ScenarioFormulation,
    shift_blocks,
    split_blocks,
)
from controllers.economic.scenario_horizon import ScenarioHorizon

__all__ = ["ScenarioPlan", "ScenarioSimulator"]


@dataclass(frozen=True, eq=False)
class ScenarioPlan:
    """A multi-stage solution: the plan of every scenario and the reported one.

    Attributes
    ----------
    solution : ControlSolution
        What the advisor gets: status, the plan and predicted CVs of scenario
        ``reported``, the expected objective and hold objective, the active
        constraints of all scenarios.
    labels : tuple of str
        Scenario names.
    weights : numpy.ndarray
        Scenario probabilities, shape ``(S,)``. [1]
    mv_plans : numpy.ndarray
        MV plan of each scenario, shape ``(S, N, n_mv)`` (``(S, 0, n_mv)``
        when the solve is not usable); the first ``robust_horizon`` rows are
        the same in all. [SI]
    cv_predicted : numpy.ndarray
        Predicted CVs of each scenario, shape ``(S, N + 1, n_cv)``; row 0 is now. [SI]
    objectives : numpy.ndarray
        Objective of each scenario's plan in its scenario (costs, band
        penalties, move suppression, hard-limit penalty), shape ``(S,)``. [currency]
    costs : numpy.ndarray
        Energy and penalty purchases of each scenario, shape ``(S,)``. [currency]
    reported : int
        Index of the scenario in ``solution`` (the most probable, first on ties).
    violated : tuple of (str, str)
        ``(scenario label, variable)`` of every hard limit not kept.
    """

    solution: ControlSolution
    labels: tuple[str, ...]
    weights: np.ndarray
    mv_plans: np.ndarray
    cv_predicted: np.ndarray
    objectives: np.ndarray
    costs: np.ndarray
    reported: int
    violated: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, eq=False)
class ScenarioSimulator:
    """Simulation and evaluation of plans, scenario by scenario.

    Attributes
    ----------
    layout : ProblemLayout
        The plant layout of the NLP.
    nlp : ScenarioFormulation
        The built multi-stage NLP (its ``rollout`` and ``evaluate_fn``).
    parameters : numpy.ndarray
        Plant parameter vector ``p``. [SI]
    """

    layout: ProblemLayout
    nlp: ScenarioFormulation
    parameters: np.ndarray

    def u_full(self, u_base: np.ndarray, plan: np.ndarray) -> np.ndarray:
        """Full plant inputs per interval, ``(k, n_u)``: ``u_base`` with the MVs of ``plan``."""
        u = np.tile(u_base, (plan.shape[0], 1))
        u[:, list(self.layout.mv_index)] = plan
        return u

    def values_now(
        self, x: np.ndarray, mv: np.ndarray, u_base: np.ndarray, d0: np.ndarray
    ) -> np.ndarray:
        """Selected variables now, at state ``x`` with the MVs in force ``mv`` [SI]."""
        u = self.u_full(u_base, mv[None])[0]
        return np.asarray(self.layout.selector(x, u, d0, self.parameters), dtype=float).ravel()

    def simulate(
        self, x: np.ndarray, u_full: np.ndarray, d: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Simulate full inputs ``(N, n_u)`` under disturbances ``(N, n_d)``.

        Returns
        -------
        ends : numpy.ndarray
            States at the interval ends, ``(n_x, N)``. [SI]
        nodes : numpy.ndarray
            States at every collocation node, ``(n_x, N * n_nodes)``. [SI]
        values : numpy.ndarray
            Selected variables at the interval ends, ``(n_v, N)``. [SI]
        """
        N = self.layout.settings.horizon
        P = np.tile(self.parameters, (N, 1)).T
        out = self.nlp.rollout(x, u_full.T, d.T, P)
        if self.layout.collocation is None:
            ends = nodes = np.asarray(out, dtype=float)
        else:
            ends, nodes = np.asarray(out[0], dtype=float), np.asarray(out[1], dtype=float)
        values = np.asarray(self.layout.selector.map(N)(ends, u_full.T, d.T, P), dtype=float)
        return ends, nodes, values.reshape(len(self.layout.var_names), N)

    def pvec(
        self, x: np.ndarray, mv: np.ndarray, u_base: np.ndarray, d: np.ndarray, price: np.ndarray
    ) -> np.ndarray:
        """Parameters of the single-scenario evaluation (as the nominal NLP's).

        Parameters
        ----------
        x : numpy.ndarray
            Initial state, shape ``(n_x,)``. [SI]
        mv : numpy.ndarray
            MVs in force, shape ``(n_mv,)``. [SI]
        u_base : numpy.ndarray
            Plant inputs held (non-MV entries), shape ``(n_u,)``. [SI]
        d : numpy.ndarray
            Disturbances of one scenario, shape ``(n_d, N)``. [SI]
        price : numpy.ndarray
            Electricity price per interval, shape ``(N,)``. [currency/J]

        Returns
        -------
        numpy.ndarray
            The parameter vector.
        """
        return np.concatenate([x, mv, u_base, d.ravel(), price, self.parameters])

    def objective_at(
        self, plan_scaled: np.ndarray, own: list[np.ndarray], p_single: np.ndarray
    ) -> tuple[float, float]:
        """Objective and cost of one scenario at an NLP solution, its slacks clipped at zero.

        ipopt relaxes the slacks' zero bounds by ~1e-8 (``bound_relax_factor``);
        times the hard-limit weight that would shift the objective.

        Parameters
        ----------
        plan_scaled : numpy.ndarray
            The scenario's scaled MVs, ``(N, n_mv)``. [1]
        own : list of numpy.ndarray
            The scenario's blocks of ``z`` (:func:`split_blocks`). [1]
        p_single : numpy.ndarray
            :meth:`pvec` of the scenario.

        Returns
        -------
        tuple of float
            Objective and cost. [currency]
        """
        lay = self.layout
        X_s = own[1].reshape(lay.settings.horizon * lay.n_nodes, lay.sizes["x"]).T
        slacks = [np.maximum(b, 0.0).T for b in own[2:]]
        obj, cost, _, _ = self.nlp.evaluate_fn(plan_scaled.T, X_s, *slacks, p_single)
        return float(obj), float(cost)

    def evaluate(
        self,
        x: np.ndarray,
        mv: np.ndarray,
        plan: np.ndarray,
        d: np.ndarray,
        price: np.ndarray,
        u_base: np.ndarray,
        outputs: OutputBounds,
    ) -> PlanEvaluation:
        """Simulate one scenario's plan and evaluate its objective as the nominal MPC does.

        Band slacks are the simulated excursions; hard limits and balances
        are checked, not enforced.

        Parameters
        ----------
        x : numpy.ndarray
            Initial state, ``(n_x,)``. [SI]
        mv : numpy.ndarray
            MVs in force before the horizon, ``(n_mv,)``. [SI]
        plan : numpy.ndarray
            MV plan, ``(N, n_mv)``. [SI]
        d : numpy.ndarray
            The scenario's disturbances, ``(N, n_d)``. [SI]
        price : numpy.ndarray
            Electricity price, ``(N,)``. [currency/J]
        u_base : numpy.ndarray
            Non-MV inputs, ``(n_u,)``. [SI]
        outputs : OutputBounds
            Bands and hard limits in force. [SI]

        Returns
        -------
        PlanEvaluation
        """
        lay, s = self.layout, self.layout.settings
        ends, nodes, V = self.simulate(x, self.u_full(u_base, plan), d)
        S, H = output_slacks(V, lay, outputs)
        obj, cost, _, _ = self.nlp.evaluate_fn(
            ((plan - lay.mv_low) / lay.mv_span).T,
            nodes / lay.x_scale[:, None],
            S,
            H,
            self.pvec(x, mv, u_base, d, price),
        )
        violation = 0.0
        for j, i in enumerate(lay.limit_index):
            over = excess(V[i], outputs.limit_low[j], outputs.limit_high[j])
            violation = max(violation, float(np.max(over, initial=0.0)) / lay.var_scale[i])
        for name in s.balances:
            i = lay.vi(name)
            violation = max(violation, float(np.max(np.abs(V[i]))) / lay.var_scale[i])
        return PlanEvaluation(float(obj), float(cost), violation, np.vstack([x, ends.T]), V.T)

    def initial_guess(
        self,
        x: np.ndarray,
        u_base: np.ndarray,
        scenarios: ScenarioHorizon,
        plan: np.ndarray,
        outputs: OutputBounds,
    ) -> np.ndarray:
        """Cold start ``z``: one plan ``(N, n_mv)`` simulated in every scenario.

        The band and hard-limit slacks start at the plan's excursions beyond
        ``outputs`` (a feasible start); a simulation that fails holds the state.
        """
        lay, s, R = self.layout, self.layout.settings, self.nlp.robust_horizon
        N, n_b, n_h = s.horizon, len(s.soft_bands), len(s.hard_limits)
        u_scaled = (plan - lay.mv_low) / lay.mv_span
        parts = [u_scaled[:R].ravel()]
        for d in scenarios.d:
            _, nodes, V = self.simulate(x, self.u_full(u_base, plan), d)
            if np.isfinite(nodes).all() and np.isfinite(V).all():
                S, H = output_slacks(V, lay, outputs)
            else:
                nodes = np.tile(x[:, None], (1, N * lay.n_nodes))
                S, H = np.zeros((n_b, N)), np.zeros((n_h, N))
            parts += [
                u_scaled[R:].ravel(),
                (nodes.T / lay.x_scale).ravel(),
                S.T.ravel(),
                H.T.ravel(),
            ]
        return np.concatenate(parts)

    def shifted_start(
        self, last_z: np.ndarray, last_lam: tuple[np.ndarray, np.ndarray], weights: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The previous primal and dual solution shifted one interval ahead.

        Every block moves one interval ahead (its last interval repeated);
        the last shared MV interval, which was each scenario's first own one,
        starts at their probability-weighted mean.
        """
        nlp, R = self.nlp, self.nlp.robust_horizon
        z = shift_blocks(last_z, nlp.z_blocks)
        if self.layout.settings.horizon > R:
            old = split_blocks(last_z, nlp.z_blocks)
            own_first = np.array(
                [old[1 + BLOCKS_PER_SCENARIO * j][0] for j in range(nlp.n_scenarios)]
            )
            n_mv = own_first.shape[1]
            z[(R - 1) * n_mv : R * n_mv] = weights @ own_first
        lam_x = shift_blocks(last_lam[0], nlp.z_blocks)
        lam_g = shift_blocks(last_lam[1], nlp.g_blocks)
        return z, lam_x, lam_g
