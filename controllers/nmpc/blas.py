"""Thread count of the OpenBLAS that casadi's wheel bundles for its solvers.

casadi 3.8.2's wheel ships its own OpenBLAS (``libcasadi-tp-openblas``),
used by ipopt's MUMPS and casadi's LAPACK plugins; it starts one worker
thread per core, and a woken worker spins for a while after each threaded
call.  On the 2-core benchmark machine that spinning was counted in the
process CPU time of the NMPC's next fast step (which itself uses no
OpenBLAS: hpipm runs on BLASFEO, the condensing and the hold roll-out on
casadi's own QR) and, under load, competed with it for a core
(2026-11-21, ``benchmarks/ctl_nmpc.py --steps 40``, four runs: its worker
thread ran more than 0.5 ms during 2, 2, 14 and 39 of the 39 fast steps, in
the last about 8 ms during each, doubling their CPU time; with one thread,
no other thread ran during any).  The problems these solvers see
here are small (sparse LDL of a 1728-variable NLP): ipopt's median step on
the chemical flowsheet was 14.9 ms CPU with two threads and 15.4 ms with
one, the same within the machine's noise.

threadpoolctl (the usual tool) does not recognise this library by its file
name, so the count is set through OpenBLAS's own C entry point with ctypes;
the library is looked up among those already loaded (``RTLD_NOLOAD``): this
module never loads or reads a file.
"""

from __future__ import annotations

import ctypes
import os
import sys

from controllers.errors import NmpcError

__all__ = ["CASADI_OPENBLAS_NAMES", "casadi_blas_threads", "set_casadi_blas_threads"]

#: File names of casadi's bundled OpenBLAS on Linux, macOS and Windows.
CASADI_OPENBLAS_NAMES: tuple[str, ...] = (
    "libcasadi-tp-openblas.so.0",
    "libcasadi-tp-openblas.so",
    "libcasadi-tp-openblas.0.dylib",
    "libcasadi-tp-openblas.dylib",
    "libcasadi-tp-openblas.dll",
)


def _loaded_library() -> ctypes.CDLL | None:
    """The bundled OpenBLAS if this process has loaded it (``None`` otherwise)."""
    mode = ctypes.DEFAULT_MODE
    if sys.platform != "win32":
        # Only a library already in the process: never search or load one.
        mode |= getattr(os, "RTLD_NOLOAD", 0) | getattr(os, "RTLD_LAZY", 0)
    for name in CASADI_OPENBLAS_NAMES:
        try:
            return ctypes.CDLL(name, mode=mode)
        except OSError:
            continue
    return None


def casadi_blas_threads() -> int | None:
    """Threads of casadi's bundled OpenBLAS.

    Returns
    -------
    int or None
        The thread count, or ``None`` when the library is not loaded (casadi
        loads it with its first ipopt or LAPACK-based solver).
    """
    lib = _loaded_library()
    if lib is None:
        return None
    getter = lib.openblas_get_num_threads
    getter.restype = ctypes.c_int
    getter.argtypes = []
    return int(getter())


def set_casadi_blas_threads(n_threads: int) -> int | None:
    """Set the threads of casadi's bundled OpenBLAS (the whole process).

    Parameters
    ----------
    n_threads : int
        Threads, at least 1.

    Returns
    -------
    int or None
        The previous count, or ``None`` when the library is not loaded
        (nothing was changed).

    Raises
    ------
    NmpcError
        If ``n_threads`` is not an integer >= 1.
    """
    if isinstance(n_threads, bool) or not isinstance(n_threads, int) or n_threads < 1:
        raise NmpcError(f"n_threads must be an integer >= 1, got {n_threads!r}")
    previous = casadi_blas_threads()
    lib = _loaded_library()
    if previous is None or lib is None:
        return None
    setter = lib.openblas_set_num_threads
    setter.restype = None
    setter.argtypes = [ctypes.c_int]
    setter(n_threads)
    return previous
