"""Fixtures of the project-file tests: a small valid project as a dict and as a file."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import tomli_w

_MINIMAL: dict[str, Any] = {
    "project": {
        "format_version": 1,
        "name": "Test plant",
        "timezone": "Europe/Berlin",
        "currency": "EUR",
    },
    "media": {
        "bfg": {"kind": "fuel_gas", "lhv_j_m3": "3.2 MJ/Nm3", "co2_kg_m3": 0.87},
        "hp_steam": {"kind": "steam", "pressure_pa": "9.8 MPa"},
    },
    "units": {
        "boiler_1": {
            "type": "boiler",
            "connections": {"fuel": ["bfg"], "steam_out": "hp_steam"},
            "params": {"capacity_steam_kg_s": "220 t/h", "efficiency_nominal": 0.9},
        },
    },
    "bindings": {
        "boiler_1_steam": {
            "variable": "boiler_1.flow_steam",
            "tag": "PP.B1.STEAM.FLOW",
            "unit": "t/h",
            "kind": "flow",
            "role": "manipulated",
            "range": [0, 250],
            "limits": [66, 220],
            "rate_limit_per_min": 5,
        },
        "hp_pressure": {
            "variable": "hp_steam.pressure",
            "tag": "STM.HP.PRESS",
            "unit": "MPa",
            "kind": "pressure",
            "role": "controlled",
            "range": [0, 12],
            "normal": [9.6, 10.0],
            "hard": [9.3, 10.3],
            "priority": 1,
        },
    },
    "tariffs": {
        "electricity": {
            "periods": {"nt": 0.13, "ht": 0.19},
            "schedules": {
                "weekdays": {
                    "days": ["mon", "tue", "wed", "thu", "fri"],
                    "blocks": {"nt": [[22, 6]], "ht": [[6, 22]]},
                },
                "weekends": {"days": ["sat", "sun"], "blocks": {"nt": [[0, 24]]}},
            },
        },
        "prices": {"bfg": {"price_per_gj": 2.0}},
    },
}


@pytest.fixture
def doc() -> dict[str, Any]:
    """A fresh copy of a small valid project document (edit it to break it)."""
    return copy.deepcopy(_MINIMAL)


@pytest.fixture
def write_project(tmp_path: Path) -> Callable[[dict[str, Any]], Path]:
    """Write a document as ``plant.toml`` in a temporary folder and return the path."""

    def write(data: dict[str, Any], name: str = "plant.toml") -> Path:
        path = tmp_path / name
        path.write_text(tomli_w.dumps(data), encoding="utf-8")
        return path

    return write
