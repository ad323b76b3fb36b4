"""Atomic output files and protection of input files.

Every file energyopt writes (historian files, JSON, HTML and TOML results)
goes through :func:`atomic_output`: the content is written to a temporary
file in the destination folder, flushed to disk and renamed onto the
destination only when writing succeeded.  On any exception, including
:class:`KeyboardInterrupt`, the temporary file is removed and the destination
is left exactly as it was.

Files opened as inputs (historian files opened by
:class:`~energyopt.data.reader.HistorianReader`) are registered with
:func:`register_input` while they are open; :func:`atomic_output` refuses to
replace any of them, even with ``overwrite=True``, so a workflow can never
write into the user's data.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path

from energyopt.errors import OutputError

__all__ = [
    "OutputError",
    "atomic_output",
    "check_destination",
    "check_not_input",
    "open_inputs",
    "register_input",
    "unregister_input",
]

_lock = threading.Lock()
#: Resolved path -> number of times it is currently registered.
_inputs: dict[Path, int] = {}


def register_input(path: str | os.PathLike[str]) -> None:
    """Record that a file is open as an input (call :func:`unregister_input` when closed).

    Registrations are counted, so a file opened twice stays protected until
    both are closed.

    Parameters
    ----------
    path : str or path-like
        The input file.
    """
    key = Path(path).resolve()
    with _lock:
        _inputs[key] = _inputs.get(key, 0) + 1


def unregister_input(path: str | os.PathLike[str]) -> None:
    """Undo one :func:`register_input` of ``path`` (unknown paths are ignored).

    Parameters
    ----------
    path : str or path-like
        The input file.
    """
    key = Path(path).resolve()
    with _lock:
        count = _inputs.get(key, 0) - 1
        if count > 0:
            _inputs[key] = count
        else:
            _inputs.pop(key, None)


def open_inputs() -> list[Path]:
    """Return the files currently registered as open inputs."""
    with _lock:
        return sorted(_inputs)


def check_not_input(path: str | os.PathLike[str]) -> None:
    """Raise :class:`OutputError` if ``path`` is a file currently open as an input.

    Two paths name the same file when :meth:`pathlib.Path.samefile` says so
    (symbolic and hard links included).

    Parameters
    ----------
    path : str or path-like
        Candidate output path.

    Raises
    ------
    OutputError
        If ``path`` is an open input file.
    """
    target = Path(path)
    if not target.exists():
        return
    for known in open_inputs():
        with contextlib.suppress(OSError):  # an input deleted meanwhile is not a match
            if target.samefile(known):
                raise OutputError(
                    f"refusing to write '{target}': it is open as an input file"
                    + (f" ('{known}')" if known != target.resolve() else "")
                )


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike[str], *, overwrite: bool = False) -> Iterator[Path]:
    """Write a file atomically: yield a temporary path, rename it onto ``path`` on success.

    The temporary file is created empty (mode following the umask) in the
    destination's folder, so the final rename never crosses file systems.
    The caller writes to it (opening it for writing, truncating it).  When
    the ``with`` block ends without an exception, the file is flushed to
    disk and renamed onto ``path``; otherwise it is deleted and ``path`` is
    untouched.

    Parameters
    ----------
    path : str or path-like
        Destination file.
    overwrite : bool
        Replace an existing ``path``.  Without it an existing file is never
        replaced, even if it appears while the content is being written.

    Yields
    ------
    pathlib.Path
        The temporary file to write to.

    Raises
    ------
    OutputError
        If ``path`` exists and ``overwrite`` is false, is a directory, is a
        file open as an input, or its folder does not exist or is not writable.

    Examples
    --------
    >>> with atomic_output("result.json", overwrite=True) as tmp:  # doctest: +SKIP
    ...     tmp.write_text("{}")
    """
    target = Path(path)
    check_destination(target, overwrite=overwrite)
    tmp = _create_temp(target)
    try:
        yield tmp
        _fsync(tmp)
        check_destination(target, overwrite=overwrite)
        _commit(tmp, target, overwrite=overwrite)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def check_destination(path: str | os.PathLike[str], *, overwrite: bool = False) -> None:
    """Raise :class:`OutputError` now if :func:`atomic_output` would refuse ``path``.

    Workflows call it before long computations, so that a bad output path
    fails at once rather than after the work.

    Parameters
    ----------
    path : str or path-like
        Destination file.
    overwrite : bool
        Whether an existing file may be replaced.

    Raises
    ------
    OutputError
        If the folder does not exist, ``path`` is a folder or an open input
        file, or it exists and ``overwrite`` is false.
    """
    target = Path(path)
    folder = target.parent
    if not folder.is_dir():
        raise OutputError(f"cannot write '{target}': folder '{folder}' does not exist")
    if target.is_dir():
        raise OutputError(f"cannot write '{target}': it is a folder")
    check_not_input(target)
    if target.exists() and not overwrite:
        raise OutputError(
            f"refusing to overwrite existing file '{target}' (use --force / overwrite=True)"
        )


def _create_temp(target: Path) -> Path:
    flags = os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
        try:
            # 0o666 lets the umask decide the final permissions, as for any new file.
            fd = os.open(tmp, flags, 0o666)
        except FileExistsError:
            continue
        except OSError as exc:
            raise OutputError(f"cannot write '{target}': {exc.strerror or exc}") from None
        os.close(fd)
        return tmp
    raise OutputError(f"cannot create a temporary file next to '{target}'")  # pragma: no cover


def _fsync(tmp: Path) -> None:
    """Flush the written content to the storage device before the rename."""
    fd = os.open(tmp, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _commit(tmp: Path, target: Path, *, overwrite: bool) -> None:
    try:
        if overwrite or not _link_no_clobber(tmp, target):
            tmp.replace(target)
    except OSError as exc:
        raise OutputError(f"cannot write '{target}': {exc.strerror or exc}") from None
    _fsync_folder(target.parent)


def _link_no_clobber(tmp: Path, target: Path) -> bool:
    """Publish ``tmp`` as ``target`` unless it exists; ``False`` if links are unsupported."""
    try:
        # A hard link fails if the target appeared meanwhile: no silent clobbering.
        os.link(tmp, target)
    except FileExistsError:
        raise OutputError(
            f"refusing to overwrite existing file '{target}' (it appeared while writing)"
        ) from None
    except OSError:
        # File systems without hard links (FAT, some network shares): the
        # caller falls back to a rename right after the existence check.
        return False
    tmp.unlink()
    return True


def _fsync_folder(folder: Path) -> None:
    """Persist the rename itself (POSIX only; Windows cannot open folders)."""
    if os.name != "posix":  # pragma: no cover - exercised on Windows only
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
