"""``energyopt report DIR``: the sub-command on its own parser."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from energyopt.commands import report
from energyopt.errors import DataError


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="energyopt")
    report.register(parser.add_subparsers())
    return parser.parse_args(["report", *argv])


def test_writes_report_to_out(replay_dir: Path, tmp_path: Path, capsys) -> None:
    for name in ("compare_baseline.h5", "compare_recorded.h5", "results.h5"):
        (replay_dir / name).unlink()  # no charts: a quick report
    target = tmp_path / "r.html"
    args = parse([str(replay_dir), "--lang", "zh", "--out", str(target), "--json"])
    assert args.func is report.run
    assert args.func(args) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == {"report": str(target), "lang": "zh"}
    assert "关键绩效指标" in target.read_text(encoding="utf-8")
    assert not (replay_dir / "report.html").exists()


def test_missing_folder(tmp_path: Path) -> None:
    args = parse([str(tmp_path / "missing"), "--out", str(tmp_path / "r.html")])
    with pytest.raises(DataError, match="no such folder"):
        report.run(args)


def test_language_choices(capsys) -> None:
    with pytest.raises(SystemExit):
        parse(["dir", "--lang", "fr"])
    assert "invalid choice" in capsys.readouterr().err
