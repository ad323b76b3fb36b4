"""Mean flows streamed from a result file equal the flow network's means over the arrays."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose
from report_case import Truth, write_run

import energyopt.report.flows as flows_module
from energyopt.errors import DataError
from energyopt.flows import FlowTrajectory, build_flow_network
from energyopt.report.flows import mean_flows


def test_chunked_means_equal_direct_means(
    replay_template: Path, truth: Truth, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(flows_module, "_CHUNK_ROWS", 97)  # many uneven chunks
    calls: list[float] = []
    views, excluded = mean_flows(
        truth.built, replay_template / "results.h5", progress=lambda d, t, m: calls.append(d)
    )
    assert calls[-1] == truth.time_ms.size
    network = build_flow_network(truth.built)
    v = truth.vectors
    direct = network.evaluate(FlowTrajectory(truth.time_ms, v["x"], v["u"], v["d"], v["y"]))
    assert [view.info.name for view in views] == [info.name for info in network.views]
    assert excluded == network.excluded
    for view in views:
        from energyopt.data.units import conversion_affine

        scale = conversion_affine(view.info.unit_si, view.info.unit_display)[0]
        mean = direct[view.info.name].mean(axis=1)
        # Sums in chunks against one sum: float64 round-off only.
        assert_allclose(
            [link.value_display for link in view.links], np.abs(mean) * scale, rtol=1e-9,
            atol=1e-9 * np.abs(mean * scale).max(),
        )  # fmt: skip
        assert [link.reversed for link in view.links] == list(mean < 0.0)


def test_missing_model_variable(tmp_path: Path, truth: Truth) -> None:
    path = tmp_path / "results.h5"
    write_run(path, truth.built, truth.time_ms, truth.vectors, run="mpc",
              project_path=tmp_path / "p.toml", data_path=tmp_path / "d.h5")  # fmt: skip
    import h5py

    with h5py.File(path, "a") as h5:
        del h5["tags/model.grid.power_purchased_w"]
    with pytest.raises(DataError, match=r"model variables .* missing: model\.grid\.power_purch"):
        mean_flows(truth.built, path)
