"""Tests of energyopt.fileio: atomic output and protection of open inputs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from energyopt.errors import OutputError
from energyopt.fileio import (
    atomic_output,
    check_not_input,
    open_inputs,
    register_input,
    unregister_input,
)


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_atomic_output_writes_on_success(tmp_path: Path):
    target = tmp_path / "out.json"
    with atomic_output(target) as tmp:
        assert tmp.parent == tmp_path
        assert tmp.exists()  # created empty, to be written by the caller
        assert not target.exists()  # nothing visible before success
        tmp.write_text("{}")
    assert target.read_text() == "{}"
    assert _leftovers(tmp_path) == []


def test_atomic_output_permissions_follow_umask(tmp_path: Path):
    old = os.umask(0o022)
    try:
        with atomic_output(tmp_path / "a.txt") as tmp:
            tmp.write_text("x")
    finally:
        os.umask(old)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o644


def _write_then_fail(target: Path, exc_type: type[BaseException], *, overwrite: bool) -> None:
    with atomic_output(target, overwrite=overwrite) as tmp:
        tmp.write_text("partial")
        raise exc_type("boom")


@pytest.mark.parametrize("exc_type", [RuntimeError, KeyboardInterrupt])
def test_atomic_output_exception_leaves_destination_untouched(tmp_path: Path, exc_type):
    target = tmp_path / "out.txt"
    target.write_text("original")
    with pytest.raises(exc_type):
        _write_then_fail(target, exc_type, overwrite=True)
    assert target.read_text() == "original"
    assert _leftovers(tmp_path) == []


def test_atomic_output_exception_creates_nothing(tmp_path: Path):
    with pytest.raises(ValueError, match="boom"):
        _write_then_fail(tmp_path / "new.txt", ValueError, overwrite=False)
    assert list(tmp_path.iterdir()) == []


def test_refuses_existing_file_without_overwrite(tmp_path: Path):
    target = tmp_path / "out.txt"
    target.write_text("original")
    with (
        pytest.raises(OutputError, match="refusing to overwrite existing file"),
        atomic_output(target),
    ):
        pass  # pragma: no cover - never entered
    assert target.read_text() == "original"


def test_overwrite_replaces(tmp_path: Path):
    target = tmp_path / "out.txt"
    target.write_text("original")
    with atomic_output(target, overwrite=True) as tmp:
        tmp.write_text("new")
    assert target.read_text() == "new"


def _write_while_another_appears(target: Path) -> None:
    with atomic_output(target) as tmp:
        tmp.write_text("mine")
        target.write_text("someone else's")


def test_file_appearing_while_writing_is_not_clobbered(tmp_path: Path):
    target = tmp_path / "out.txt"
    with pytest.raises(OutputError, match="refusing to overwrite"):
        _write_while_another_appears(target)
    assert target.read_text() == "someone else's"
    assert _leftovers(tmp_path) == []


def test_missing_folder_and_folder_target(tmp_path: Path):
    with (
        pytest.raises(OutputError, match="does not exist"),
        atomic_output(tmp_path / "nope" / "out.txt"),
    ):
        pass  # pragma: no cover
    with (
        pytest.raises(OutputError, match="it is a folder"),
        atomic_output(tmp_path, overwrite=True),
    ):
        pass  # pragma: no cover


def test_open_input_is_never_overwritten(tmp_path: Path):
    source = tmp_path / "history.h5"
    source.write_text("data")
    hard_link = tmp_path / "alias.h5"
    os.link(source, hard_link)
    symlink = tmp_path / "link.h5"
    symlink.symlink_to(source)
    register_input(source)
    try:
        assert source.resolve() in open_inputs()
        for path in (source, hard_link, symlink):
            with (
                pytest.raises(OutputError, match="open as an input file"),
                atomic_output(path, overwrite=True),
            ):
                pass  # pragma: no cover
        # Registration is counted: still protected after one of two releases.
        register_input(source)
        unregister_input(source)
        with pytest.raises(OutputError, match="open as an input"):
            check_not_input(source)
    finally:
        unregister_input(source)
    check_not_input(source)  # released: no error
    assert source.read_text() == "data"
