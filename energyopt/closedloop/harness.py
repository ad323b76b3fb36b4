"""The closed-loop simulator: a truth plant under a policy, recorded on a fine grid.

Each control interval (``policy.interval_s``, a whole multiple ``m`` of the
plant's fine step):

1. the sensors read the true outputs with the inputs in force, plus noise
   (:class:`~energyopt.closedloop.plant.MeasurementNoise`);
2. the policy decides the input vector (a baseline's step, or an estimator
   plus an MPC/advisor whose first move is projected onto the MV limits);
3. :func:`plant_models.core.simulate.simulate` integrates the truth plant
   over the ``m`` fine steps with the inputs held and the disturbance rows of
   those steps (the setpoints are held between decisions; the PID layer in the
   model acts continuously).

Everything is recorded into arrays allocated before the run (memory does not
grow with the run), with the wall-clock time and the solve status of every
decision.  A progress callback and a :class:`~energyopt.progress.CancelToken`
are checked once per decision.  A diverging plant raises
:class:`~energyopt.errors.ModelError` naming the time.

Stepping with ``simulate`` per interval costs well under a millisecond on the
reference plants; a closed loop compiled into one numba kernel would have to
re-express every controller in the equations-once convention and could not
call casadi solvers, so the loop stays in Python.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from energyopt.closedloop.plant import MeasurementNoise, TruthPlant
from energyopt.closedloop.policies import STATUS_CODES, Policy
from energyopt.closedloop.result import ClosedLoopResult
from energyopt.errors import ModelError
from energyopt.progress import CancelToken, ProgressCallback, null_progress

__all__ = ["run_closed_loop"]

#: Relative tolerance on ``interval_s / step_s`` being a whole number.
_RATIO_TOL = 1e-9


def run_closed_loop(
    plant: TruthPlant,
    policy: Policy,
    u0: npt.ArrayLike,
    *,
    noise: MeasurementNoise | None = None,
    n_steps: int | None = None,
    plant_mode: Callable[[float], str | None] | None = None,
    mode_names: Sequence[str] = (),
    progress: ProgressCallback = null_progress,
    cancel: CancelToken | None = None,
) -> ClosedLoopResult:
    """Simulate ``plant`` under ``policy`` and record the run.

    Parameters
    ----------
    plant : TruthPlant
        Truth model, parameters, initial state, disturbances and integrator.
    policy : Policy
        The controller (:class:`~energyopt.closedloop.policies.BaselinePolicy`
        or :class:`~energyopt.closedloop.policies.ControllerPolicy`).
    u0 : array_like, shape (nu,)
        Input vector in force before the first decision. [SI]
    noise : MeasurementNoise, optional
        Sensor noise on the output vector; none if omitted.
    n_steps : int, optional
        Fine steps to simulate (a whole number of control intervals);
        default as many whole intervals as the disturbance series covers.
    plant_mode : callable, optional
        ``plant_mode(t_s)`` -> operating mode name (or None) given to the
        policy at each decision (the production plan the operator follows).
    mode_names : sequence of str
        Known mode names, for the recorded mode index.
    progress : ProgressCallback
        Called as ``progress(done_s, total_s, message)`` in simulated seconds.
    cancel : CancelToken, optional
        Checked once per decision.

    Returns
    -------
    ClosedLoopResult

    Raises
    ------
    ModelError
        If the control interval is not a whole multiple of the fine step,
        ``n_steps`` exceeds the disturbance series, ``u0`` has the wrong
        length, a decision returns a non-finite input vector, or the plant
        diverges (the message gives the simulated time).
    CancelledError
        If ``cancel`` is set during the run.
    """
    from plant_models.core.equations import to_numba
    from plant_models.core.errors import SimulationError
    from plant_models.core.simulate import simulate

    model = plant.model
    sizes = model.sizes
    step_s = plant.step_s
    ratio = policy.interval_s / step_s
    per = round(ratio)
    if per < 1 or abs(per - ratio) > _RATIO_TOL * ratio:
        raise ModelError(
            f"closed loop: control interval {policy.interval_s:g} s is not a whole multiple "
            f"of the plant step {step_s:g} s"
        )
    available = plant.n_steps - plant.n_steps % per
    n = available if n_steps is None else int(n_steps)
    if n < per or n % per or n > plant.n_steps:
        raise ModelError(
            f"closed loop: n_steps must be a positive multiple of {per} and at most "
            f"{plant.n_steps} (the disturbance rows), got {n}"
        )
    u = np.array(u0, dtype=np.float64).reshape(-1)
    if u.shape != (sizes["u"],) or not np.all(np.isfinite(u)):
        raise ModelError(f"closed loop: u0 must be {sizes['u']} finite values, got {u.shape}")
    n_dec = n // per
    g = to_numba(model).g
    measure = noise.bind(sizes["y"]) if noise is not None else None
    modes = tuple(mode_names)

    time_s = np.arange(n, dtype=np.float64) * step_s
    states = np.empty((n + 1, sizes["x"]))
    inputs = np.empty((n, sizes["u"]))
    outputs = np.empty((n, sizes["y"]))
    decision_time = np.arange(n_dec, dtype=np.float64) * policy.interval_s
    compute = np.empty(n_dec)
    status = np.zeros(n_dec, dtype=np.int8)
    mode_index = np.full(n_dec, -1, dtype=np.int16)
    x = plant.x0.copy()
    policy.reset(u.copy(), x.copy())
    report_every = max(n_dec // 200, 1)
    for j in range(n_dec):
        if cancel is not None:
            cancel.raise_if_cancelled()
        k = j * per
        t = float(time_s[k])
        d_rows = plant.disturbances[k : k + per]
        y_true = np.asarray(g(x, u, d_rows[0], plant.parameters), dtype=np.float64)
        y_meas = measure(y_true) if measure is not None else y_true.copy()
        mode = plant_mode(t) if plant_mode is not None else None
        if mode is not None and mode in modes:
            mode_index[j] = modes.index(mode)
        decision = policy.decide(t, y_meas, d_rows[0].copy(), mode)
        u = np.asarray(decision.u, dtype=np.float64).reshape(-1)
        if u.shape != (sizes["u"],) or not np.all(np.isfinite(u)):
            raise ModelError(
                f"closed loop: the controller returned an unusable input at t = {t:g} s"
            )
        compute[j] = decision.compute_time_s
        status[j] = STATUS_CODES.index(decision.status) if decision.status in STATUS_CODES else 0
        try:
            run = simulate(
                model,
                x,
                np.repeat(u[None, :], per, axis=0),
                d_rows,
                plant.parameters,
                step_s,
                substeps=plant.substeps,
                method=plant.method,
                t0_s=t,
                newton_tol=plant.newton_tol,
                newton_max_iter=plant.newton_max_iter,
            )
        except SimulationError as exc:
            raise ModelError(
                f"closed-loop plant simulation diverged at t = {t:g} s: {exc}"
            ) from None
        if not (np.all(np.isfinite(run.states)) and np.all(np.isfinite(run.outputs))):
            raise ModelError(
                f"closed-loop plant simulation diverged at t = {t:g} s: non-finite state"
            )
        states[k : k + per] = run.states[:-1]
        inputs[k : k + per] = u
        outputs[k : k + per] = run.outputs
        x = run.states[-1]
        if j % report_every == 0 or j == n_dec - 1:
            progress(float((j + 1) * per * step_s), float(n * step_s), f"t = {t / 3600.0:.1f} h")
    states[n] = x
    return ClosedLoopResult(
        model=model,
        time_s=time_s,
        states=states,
        inputs=inputs,
        disturbances=plant.disturbances[:n],
        outputs=outputs,
        decision_time_s=decision_time,
        compute_time_s=compute,
        status=status,
        mode_index=mode_index,
        mode_names=modes,
        step_s=step_s,
        interval_s=policy.interval_s,
    )
