"""The CLI contract: useful help, user errors as one message with exit 2, --debug traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

from energyopt.cli import COMMAND_MODULES, EXIT_USER_ERROR, build_parser, main


def test_help_lists_every_command(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for module in COMMAND_MODULES:
        name = module.rsplit(".", 1)[1].replace("_", "-")
        assert name in out, f"{name} missing from --help"


@pytest.mark.parametrize("module", COMMAND_MODULES)
def test_each_command_has_help(module, capsys):
    name = module.rsplit(".", 1)[1].replace("_", "-")
    with pytest.raises(SystemExit) as exc:
        main([name, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert f"usage: energyopt {name}" in out
    # A useful help text has a description, not only the usage line.
    assert len(out.splitlines()) > 4


def test_no_command_prints_help_and_fails(capsys):
    assert main([]) == EXIT_USER_ERROR
    assert "commands" in capsys.readouterr().out


def test_user_error_is_one_message_without_traceback(tmp_path, capsys):
    missing = tmp_path / "nothing.h5"
    assert main(["inspect", str(missing)]) == EXIT_USER_ERROR
    err = capsys.readouterr().err
    assert err.startswith("energyopt: error: ")
    assert "nothing.h5" in err
    assert "Traceback" not in err


def test_debug_shows_traceback(tmp_path, capsys):
    missing = tmp_path / "nothing.h5"
    assert main(["--debug", "inspect", str(missing)]) == EXIT_USER_ERROR
    err = capsys.readouterr().err
    assert "Traceback" in err
    assert "nothing.h5" in err


def test_console_script_exit_status(tmp_path):
    """The installed entry point exits 2 on a user error (checked in a real process)."""
    result = subprocess.run(
        [sys.executable, "-m", "energyopt", "inspect", str(tmp_path / "missing.h5")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == EXIT_USER_ERROR
    assert "Traceback" not in result.stderr


def test_parser_builds_without_heavy_imports():
    """`energyopt --help` must stay fast: building the parser imports no casadi/numba."""
    code = (
        "import sys; from energyopt.cli import build_parser; build_parser(); "
        "print(','.join(m for m in ('casadi','numba','do_mpc','PySide6') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
    assert build_parser().prog == "energyopt"
