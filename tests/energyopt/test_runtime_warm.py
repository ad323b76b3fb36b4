"""First-start work of the runtime: numba cache warm-up and the advisor's demo recommendation."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from energyopt.errors import CancelledError, DataError, ProjectError
from energyopt.progress import CancelToken
from energyopt.runtime import WARM_PLANTS, demo_recommendation, warm_numba_cache


def test_warm_rejects_a_plant_without_a_truth_simulator():
    with pytest.raises(ProjectError, match=r"cannot warm the kernels of 'datadriven'"):
        warm_numba_cache(plants=("steelworks", "datadriven"))


def test_warm_and_recommendation_stop_when_cancelled(tmp_path):
    token = CancelToken()
    token.cancel()
    with pytest.raises(CancelledError, match="cancelled"):
        warm_numba_cache(cancel=token)
    with pytest.raises(CancelledError, match="cancelled"):
        demo_recommendation(cancel=token, folder=tmp_path)
    assert not (tmp_path / "history.h5").exists()  # stopped before writing anything


@pytest.mark.slow
def test_warm_compiles_the_plant_kernels_into_the_cache():
    # The test session's cache (tests/conftest.py): compiled once per checkout,
    # as an installed app compiles once per user.
    from plant_models.core.codegen import kernel_cache_dir

    calls = []
    elapsed = warm_numba_cache(lambda *a: calls.append(a), plants=("steelworks",))
    assert list(elapsed) == ["steelworks"]
    assert elapsed["steelworks"] > 0.0
    assert calls[0][:2] == (0, 1)
    assert calls[-1] == (1, 1, "model kernels ready")
    # The steelworks model's generated kernels are in the cache folder and an
    # integrator of that module has compiled (or cache-loaded) machine code.
    from energyopt.demos import demo_project_file
    from energyopt.plantbuild import build_plant
    from energyopt.project import load_project
    from plant_models.core.codegen import compile_model

    kernels = compile_model(build_plant(load_project(demo_project_file("steelworks"))).model)
    assert kernels.path.parent == kernel_cache_dir()
    integrators = [getattr(kernels.module, name) for name in ("run_rk4", "run_implicit")]
    assert any(dispatcher.signatures for dispatcher in integrators)
    assert set(WARM_PLANTS) == {"steelworks", "chemical"}


@pytest.mark.slow
def test_demo_recommendation_is_the_advisors_first_on_a_demo_history(tmp_path):
    """About 30 s CPU: a 3.1-day demo history, the advisor session, one ipopt solve."""
    from energyopt.advise import AdvisorSession
    from energyopt.controlbuild.economic import economic_settings
    from energyopt.demos import demo_project_file
    from energyopt.plantbuild import build_plant
    from energyopt.project import load_project

    steps = []
    result = demo_recommendation(
        lambda done, total, message: steps.append((done, total)), folder=tmp_path
    )
    assert steps == [(k, 3) for k in range(4)]
    assert (result.status, result.fallback) == ("optimal", "controller plan")
    assert result.history_path == tmp_path / "history.h5"
    assert result.timezone == "Asia/Shanghai"
    # Independently: the project's economic settings give the MVs and their limits ...
    built = build_plant(load_project(demo_project_file("steelworks")))
    settings = economic_settings(built.project, built)
    assert result.mv_names == tuple(mv.name for mv in settings.mvs)
    low = np.array([mv.low for mv in settings.mvs])
    high = np.array([mv.high for mv in settings.mvs])
    # ipopt's interior point stays inside the bounds up to its bound relaxation
    # (bound_relax_factor 1e-8 relative): 1e-6 of the range is a loose margin.
    margin = 1e-6 * (high - low)
    assert np.all(np.isfinite(result.setpoints))
    assert np.all(result.setpoints >= low - margin)
    assert np.all(result.setpoints <= high + margin)
    # ... and the file's first interval with three days of history before it.
    with AdvisorSession.open(demo_project_file("steelworks"), result.history_path) as session:
        first_ms, _ = session.reader.time_span_ms
        assert result.time_ms == int(session.decision_times()[0])
    assert 0 <= result.time_ms - (first_ms + 3 * 86_400_000) < 900_000
    # The same sums in another order: equal to rounding.
    assert_allclose(result.recommendation_s, result.recommend_s + result.open_s, rtol=1e-12)
    assert_allclose(result.total_s, result.recommendation_s + result.history_s, rtol=1e-12)
    assert min(result.history_s, result.open_s, result.recommend_s) > 0.0


def test_demo_recommendation_needs_three_days_of_history(tmp_path):
    with pytest.raises(DataError, match=r"0\.5 days of history are too few"):
        demo_recommendation(folder=tmp_path, days=0.5)
    assert not (tmp_path / "history.h5").exists()
