"""Validation of the estimation specifications and settings: each bad value names itself."""

from __future__ import annotations

import math

import pytest

from controllers.errors import ControllerError, EstimationError
from controllers.estimation import (
    DisturbanceState,
    EkfSettings,
    Measurement,
    MheSettings,
    ParameterState,
    augment,
)
from plant_models.units import cstr_vdv

MODEL = cstr_vdv.model()
P = MODEL.pack_parameters(cstr_vdv.CstrVdvParams())


@pytest.mark.parametrize(
    ("build", "fragment"),
    [
        (lambda: Measurement("t_reactor_k", 0.0), "std must be a positive"),
        (lambda: Measurement("t_reactor_k", math.nan), "std must be a positive"),
        (lambda: Measurement("t_reactor_k", 1.0, kind="z"), "kind must be 'y' or 'x'"),
        (lambda: DisturbanceState("w", "state", "x", 1.0, 1.0), "kind 'state' is not one of"),
        (lambda: DisturbanceState("1w", "input", "x", 1.0, 1.0), "not an identifier"),
        (lambda: DisturbanceState("w", "input", "x", -1.0, 1.0), "std_per_step must be"),
        (lambda: DisturbanceState("w", "input", "x", 1.0, 1.0, initial=5.0, high=1.0), "outside"),
        (lambda: ParameterState("k10_1_s", 1.0, 0.0), "initial_std must be"),
        (lambda: EkfSettings(covariance_rel_floor=0.0), "covariance_rel_floor"),
        (lambda: MheSettings(horizon=0), "horizon must be a positive integer"),
        (lambda: MheSettings(max_iter=True), "max_iter must be a positive integer"),
        (lambda: MheSettings(max_cpu_time_s=-1.0), "max_cpu_time_s must be positive"),
    ],
)
def test_bad_specifications_raise(build, fragment):
    with pytest.raises(EstimationError, match=fragment):
        build()


def _augment(**kwargs):
    args = {
        "measurements": [Measurement("t_reactor_k", 0.2)],
        "state_std_per_step": [1.0] * 4,
        "initial_state_std": [1.0] * 4,
    }
    args.update(kwargs)
    return augment(MODEL, P, 18.0, **args)


def test_bad_augmentations_raise():
    with pytest.raises(EstimationError, match="at least one measurement"):
        _augment(measurements=[])
    with pytest.raises(EstimationError, match="duplicate measurements: t_reactor_k"):
        _augment(measurements=[Measurement("t_reactor_k", 0.2)] * 2)
    with pytest.raises(EstimationError, match="state_std_per_step must be 4 positive"):
        _augment(state_std_per_step=[1.0, 1.0, 0.0, 1.0])
    with pytest.raises(EstimationError, match="p must be a finite vector of length 17"):
        augment(
            MODEL,
            P[:3],
            18.0,
            measurements=[Measurement("t_reactor_k", 0.2)],
            state_std_per_step=[1.0] * 4,
            initial_state_std=[1.0] * 4,
        )
    with pytest.raises(EstimationError, match="substeps must be a positive integer"):
        _augment(substeps=0)
    with pytest.raises(EstimationError, match="same target"):
        _augment(
            disturbance_states=[
                DisturbanceState("a", "input", "q_jacket_w", 1.0, 1.0),
                DisturbanceState("b", "input", "q_jacket_w", 1.0, 1.0),
            ]
        )
    with pytest.raises(EstimationError, match=r"nominal .* outside bounds"):
        _augment(parameter_states=[ParameterState("k10_1_s", 1.0, 1.0, high=1.0)])


def test_estimation_error_is_a_controller_value_error():
    assert issubclass(EstimationError, ControllerError)
    assert issubclass(EstimationError, ValueError)
