"""Benchmark of the historian data layer against plain numpy and raw h5py.

One year of one-minute data for 100 tags (525,600 x 100 = 52.6 M values) is
written, read back whole, read by a one-week window and resampled to
15 minutes.  Each phase runs in a fresh subprocess so that its peak resident
memory (``ru_maxrss``; tracemalloc cannot see h5py's C buffers) is its own.

Baselines printed beside each figure:

- the time numpy needs for one in-memory pass over the same array
  (``np.add.reduceat`` over the 15-minute bins), and
- the raw h5py read of the same datasets (``dataset[...]``).

Targets (PASS/FAIL):

- full read + resample within 3x of (in-memory pass + raw HDF5 read);
- one-week window read under 50 ms, from an open file and including open and
  close (the time axis is checked lazily; the layout check of every tag is
  remembered per unchanged file, so the first open of a file, printed apart,
  pays it once);
- peak memory increase under 2x the size of the arrays returned, for the
  whole read and the resampled read.

Usage: ``python benchmarks/bench_data.py [--quick] [--repeats N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

try:
    import energyopt  # noqa: F401
except ImportError:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

T0_MS = 1_704_038_400_000  # 2024-01-01T00:00:00+08:00
STEP_MS = 60_000
WEEK_MS = 7 * 86_400_000
BIN_MS = 900_000


def rss_bytes() -> int:
    """Current resident set size of this process."""
    try:
        with Path("/proc/self/statm").open() as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:  # not Linux
        import psutil

        return int(psutil.Process().memory_info().rss)


def peak_rss_bytes() -> int:
    """High-water resident set size of this process."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def make_data(n_rows: int, n_tags: int) -> tuple[np.ndarray, dict[str, np.ndarray], dict]:
    rng = np.random.default_rng(2024)
    time_ms = T0_MS + STEP_MS * np.arange(n_rows, dtype=np.int64)
    values, units = {}, {}
    for j in range(n_tags):
        name = f"TAG{j:03d}"
        kind = j % 4
        if kind == 0:  # noisy flow: random walk plus sensor noise
            column = 200.0 + np.cumsum(rng.normal(0.0, 0.2, n_rows)) + rng.normal(0.0, 2.0, n_rows)
            units[name] = "t/h"
        elif kind == 1:  # temperature quantised to 0.1 degC
            column = np.round(120.0 + np.cumsum(rng.normal(0.0, 0.05, n_rows)), 1)
            units[name] = "degC"
        elif kind == 2:  # setpoint: steps every few hours
            column = np.repeat(rng.uniform(0.0, 100.0, n_rows // 240 + 1), 240)[:n_rows]
            units[name] = "%"
        else:  # power with gaps
            column = 30.0 + rng.normal(0.0, 0.5, n_rows)
            column[rng.random(n_rows) < 0.001] = np.nan
            units[name] = "MW"
        values[name] = column
    kinds = {
        name: ("flow", "temperature", "setpoint", "power")[j % 4] for j, name in enumerate(values)
    }
    return time_ms, values, {"units": units, "kinds": kinds}


# ---------------------------------------------------------------- phases (subprocess)


def phase_write(path: Path, n_rows: int, n_tags: int, repeats: int) -> dict:
    from energyopt.data import write_historian

    time_ms, values, meta = make_data(n_rows, n_tags)
    times = []
    for k in range(repeats):
        target = path if k == repeats - 1 else path.with_name(f"w{k}.h5")
        start = time.perf_counter()
        write_historian(target, time_ms, values, meta["units"], kinds=meta["kinds"], overwrite=True)
        times.append(time.perf_counter() - start)
        if target != path:
            target.unlink()
    return {"seconds": times, "file_mb": path.stat().st_size / 1e6}


def warm_up(path: Path) -> None:
    """Import everything and build pint's registry, so the baseline RSS includes them."""
    from energyopt.data import HistorianReader

    with HistorianReader(path) as reader:
        first, _ = reader.time_span_ms
        reader.read(None, first, first + BIN_MS)
        reader.read_resampled(None, first, first + BIN_MS, BIN_MS, si=True)


def phase_read(path: Path, repeats: int) -> dict:
    from energyopt.data import HistorianReader

    times, returned = [], 0
    warm_up(path)
    baseline = rss_bytes()
    for _ in range(repeats):
        start = time.perf_counter()
        with HistorianReader(path) as reader:
            series = reader.read()
        times.append(time.perf_counter() - start)
        returned = series.time_ms.nbytes + sum(v.nbytes for v in series.values.values())
        returned += sum(q.nbytes for q in series.quality.values())
        del series
    return {"seconds": times, "returned": returned, "peak": peak_rss_bytes() - baseline}


def phase_window(path: Path, repeats: int) -> dict:
    import h5py

    from energyopt.data import HistorianReader
    from energyopt.data.units import unit_registry

    unit_registry()  # built once per process (about 0.5 s), not a cost of opening
    # The time span without the reader, so that its first open is a cold one.
    with h5py.File(path, "r") as h5file:
        first, last = int(h5file["time"][0]), int(h5file["time"][-1])
    middle = first + (last - first) // 2
    total, read_only = [], []
    for k in range(repeats + 1):
        start_ms = middle + (k % 5) * 86_400_000  # different weeks: no warm chunk cache
        t0 = time.perf_counter()
        with HistorianReader(path) as reader:
            t1 = time.perf_counter()
            series = reader.read(None, start_ms, start_ms + WEEK_MS)
            t2 = time.perf_counter()
        total.append(time.perf_counter() - t0)
        read_only.append(t2 - t1)
    # The first open checks the layout of every tag; later opens of the
    # unchanged file reuse that check (see energyopt.data.reader).
    return {
        "seconds": total[1:],
        "read_seconds": read_only[1:],
        "first_seconds": total[0],
        "rows": len(series),
    }


def phase_resample(path: Path, repeats: int) -> dict:
    from energyopt.data import HistorianReader

    times, returned = [], 0
    warm_up(path)
    baseline = rss_bytes()
    for _ in range(repeats):
        start = time.perf_counter()
        with HistorianReader(path) as reader:
            series = reader.read_resampled(None, None, None, BIN_MS)
        times.append(time.perf_counter() - start)
        returned = series.time_ms.nbytes + sum(v.nbytes for v in series.values.values())
        returned += sum(q.nbytes for q in series.quality.values())
        del series
    return {"seconds": times, "returned": returned, "peak": peak_rss_bytes() - baseline}


def phase_raw(path: Path, repeats: int) -> dict:
    import h5py

    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        with h5py.File(path, "r") as h5file:
            arrays = [h5file["time"][...]] + [ds[...] for ds in h5file["tags"].values()]
        times.append(time.perf_counter() - start)
        del arrays
    return {"seconds": times}


def phase_numpy(path: Path, repeats: int) -> dict:
    import h5py

    with h5py.File(path, "r") as h5file:
        time_ms = h5file["time"][...]
        matrix = np.column_stack([ds[...] for ds in h5file["tags"].values()])
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        edges = np.arange(time_ms[0] - time_ms[0] % BIN_MS, time_ms[-1] + 1, BIN_MS)
        starts = np.searchsorted(time_ms, edges)
        np.add.reduceat(matrix, starts[starts < time_ms.size], axis=0)
        times.append(time.perf_counter() - start)
    return {"seconds": times}


PHASES = {
    "read": phase_read,
    "window": phase_window,
    "resample": phase_resample,
    "raw": phase_raw,
    "numpy": phase_numpy,
}


def run_phase(args: list[str]) -> dict:
    process = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, check=False
    )
    if process.returncode:
        raise SystemExit(f"phase {args} failed:\n{process.stderr}")
    return json.loads(process.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one month of 20 tags")
    parser.add_argument("--repeats", type=int, default=3, help="repeats per phase (median)")
    parser.add_argument("--phase", choices=["write", *PHASES], help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--rows", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--tags", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.phase == "write":
        print(json.dumps(phase_write(args.file, args.rows, args.tags, args.repeats)))
        return
    if args.phase:
        print(json.dumps(PHASES[args.phase](args.file, args.repeats)))
        return

    n_rows, n_tags = (43_200, 20) if args.quick else (525_600, 100)
    repeats = max(1, args.repeats)
    print(f"historian data benchmark: {n_rows:,} rows x {n_tags} tags, median of {repeats}")
    with tempfile.TemporaryDirectory(dir=Path.cwd()) as folder:
        path = Path(folder) / "bench.h5"
        common = ["--file", str(path), "--repeats", str(repeats)]
        write = run_phase(
            ["--phase", "write", "--rows", str(n_rows), "--tags", str(n_tags), *common]
        )
        results = {name: run_phase(["--phase", name, *common]) for name in PHASES}
    report(n_rows, n_tags, write, results)


def report(n_rows: int, n_tags: int, write: dict, r: dict) -> None:
    med = {name: statistics.median(result["seconds"]) for name, result in r.items()}
    raw_mb = n_rows * n_tags * 8 / 1e6
    print(
        f"write            {statistics.median(write['seconds']):8.3f} s   "
        f"({raw_mb:.0f} MB of float64 -> {write['file_mb']:.0f} MB file, gzip-1 + shuffle)"
    )
    print(f"baseline numpy   {med['numpy']:8.3f} s   (np.add.reduceat 15-min bins, in memory)")
    print(f"baseline h5py    {med['raw']:8.3f} s   (raw dataset[...] of /time and every tag)")
    print(
        f"read whole       {med['read']:8.3f} s   "
        f"peak +{r['read']['peak'] / 1e6:.0f} MB for {r['read']['returned'] / 1e6:.0f} MB returned"
    )
    window_read = statistics.median(r["window"]["read_seconds"])
    print(
        f"read one week    {window_read * 1e3:8.1f} ms  ({r['window']['rows']} rows x {n_tags} "
        f"tags from an open file; open + read + close {med['window'] * 1e3:.1f} ms, "
        f"{r['window']['first_seconds'] * 1e3:.1f} ms on the first open of the file)"
    )
    print(
        f"resample 15 min  {med['resample']:8.3f} s   peak +{r['resample']['peak'] / 1e6:.0f} MB "
        f"for {r['resample']['returned'] / 1e6:.1f} MB returned"
    )
    limit = 3.0 * (med["numpy"] + med["raw"])
    read_mb, read_returned_mb = r["read"]["peak"] / 1e6, r["read"]["returned"] / 1e6
    res_mb, res_returned_mb = r["resample"]["peak"] / 1e6, r["resample"]["returned"] / 1e6
    checks = [
        (
            f"read + resample {med['resample']:.3f} s <= 3 x (numpy + h5py) = {limit:.3f} s",
            med["resample"] <= limit,
        ),
        (f"one-week window {window_read * 1e3:.1f} ms < 50 ms", window_read < 0.050),
        (
            f"one-week window with open + close {med['window'] * 1e3:.1f} ms < 50 ms",
            med["window"] < 0.050,
        ),
        (
            f"whole read peak {read_mb:.0f} MB < 2 x {read_returned_mb:.0f} MB",
            read_mb < 2 * read_returned_mb,
        ),
        (
            f"resample peak {res_mb:.1f} MB < 2 x {res_returned_mb:.1f} MB",
            res_mb < 2 * res_returned_mb,
        ),
    ]
    for text, ok in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {text}")


if __name__ == "__main__":
    main()
