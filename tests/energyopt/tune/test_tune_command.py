"""`energyopt tune` through its own parser (the lead registers the module in the CLI)."""

from __future__ import annotations

import argparse
import json

import pytest
from tune_helpers import PICKY, write_case

from energyopt.commands import tune as tune_command
from energyopt.errors import OutputError
from energyopt.project import load_project
from energyopt.tune import load_tune_project

#: Only move weights the picky evaluate function refuses: every trial fails.
FAILING_SECTION = """
[tune]
budget = 2
windows = 1
history_s = "1 d"
defaults = false
[tune.params."controller.economic.move_weight"]
low = 200000
high = 1000000
scale = "log"
"""


def _parse(argv):
    parser = argparse.ArgumentParser(prog="energyopt")
    tune_command.register(parser.add_subparsers())
    return parser.parse_args(argv)


@pytest.mark.slow
def test_json_output_when_every_trial_fails(tmp_path, capsys):
    project, data = write_case(tmp_path, FAILING_SECTION)
    args = _parse(
        ["tune", str(project), "--data", str(data), "--workers", "1", "--evaluate", PICKY, "--json"]
    )
    assert args.func(args) == 0
    evidence = json.loads(capsys.readouterr().out)
    assert evidence["format"] == "energyopt-tune"
    assert [t["status"] for t in evidence["trials"]] == ["failed", "failed"]
    assert "infeasible at this move weight" in evidence["trials"][0]["error"]
    # No trial beats the current settings: the tuned project is the input's settings.
    assert evidence["best"]["trial"] is None
    assert evidence["best"]["changes"] == {}
    original, _ = load_tune_project(project)
    assert load_project(tmp_path / "plant.tuned.toml") == original
    assert (tmp_path / "plant.tune" / "trials.journal").is_file()
    # The table form, from the stored trials (nothing recomputed).
    args = _parse(["tune", str(project), "--data", str(data), "--evaluate", PICKY])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "Tune: 2 trials (0 computed now)" in out
    assert "no trial beats the current settings" in out
    assert f"wrote {tmp_path / 'plant.tuned.toml'}" in out


def test_output_over_the_input_is_refused(tmp_path):
    project, data = write_case(tmp_path, FAILING_SECTION)
    args = _parse(["tune", str(project), "--data", str(data), "--output", str(project)])
    with pytest.raises(OutputError, match="it is an input of the tune"):
        args.func(args)


@pytest.mark.parametrize(
    "extra",
    [["--workers", "2", "--scheduler", "tcp://x:1"], ["--budget", "0"], ["--window-days", "-1"]],
)
def test_bad_arguments(tmp_path, extra, capsys):
    with pytest.raises(SystemExit):
        _parse(["tune", "p.toml", "--data", "d.h5", *extra])
    assert "error" in capsys.readouterr().err
