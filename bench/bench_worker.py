"""Is the analytics worker a bottleneck? A query while an export runs, and a download through a file or the pipe.

    python bench/bench_worker.py [--rows 200000] [--days 365] [--repeat 5] [--db PATH]

One `AnalyticsWorker` (as the dashboard shares one between all its sessions), warmed up first. Printed,
each with its baseline measured in the same run:
- `kpis` (30 days) while another session downloads every record, against `kpis` on an idle worker
  (median and worst of the calls made during the export);
- the download of every record: the worker writes a temporary CSV file and returns its path, which the
  caller reads and removes (`records_file`), against the CSV bytes pickled through the worker's pipe
  (`records_csv`, what the dashboard did before);
- a request arriving right after a reply that wrote the on-disk snapshot, against one on an idle worker.
The load average (`/proc/loadavg`, 1 minute) is printed at the start and the end: compare runs only at a
similar load. The history is generated once with `prompt-improver demo-data` under /tmp and reused.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_analytics import CACHE, ensure_history  # noqa: E402 - beside this script; after the path is set

def timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def download_bytes(worker, rows: int) -> int:
    """The old path: the whole CSV pickled through the pipe."""
    return len(worker.records_csv(max_rows=rows, newest_first=True))


def download_file(worker, rows: int) -> int:
    """The new path: the worker writes a temporary file; the caller reads it (as a download does) and removes it."""
    exported = worker.records_file(max_rows=rows, newest_first=True)
    try:
        return len(exported.path.read_bytes())
    finally:
        exported.path.unlink(missing_ok=True)


def peak_mb(pid: int | None) -> float:
    """The peak resident memory (VmHWM) of a process so far, in MB (Linux)."""
    if pid is None:
        return 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--db", type=Path, help="an existing history to use instead of the cache")
    args = parser.parse_args()
    db = args.db or CACHE / f"worker_{args.rows}.db"
    ensure_history(db, args.rows, args.days)

    from store.analytics.worker import AnalyticsWorker

    load_start = os.getloadavg()[0]
    with AnalyticsWorker(db) as worker:
        worker.start()
        end = worker.kpis()["end"]
        from datetime import date

        last = date.fromisoformat(end)
        start = last - timedelta(days=29)
        kpis = lambda: worker.kpis(start, last)  # noqa: E731
        kpis()
        idle = [timed(kpis) for _ in range(args.repeat * 3)]

        new_path = hasattr(worker, "records_file")
        download = download_file if new_path else download_bytes
        # A query from another session while a download of every record runs.
        during: list[float] = []
        done = threading.Event()
        exported: dict[str, float] = {}

        def export() -> None:
            exported["s"] = timed(lambda: exported.setdefault("bytes", download(worker, args.rows)))
            done.set()

        thread = threading.Thread(target=export)
        thread.start()
        time.sleep(0.2)  # let the export start first
        while not done.is_set():
            during.append(timed(kpis))
            time.sleep(0.05)
        thread.join()

        # The file first: the peak memory of the process that serves downloads only ever grows.
        exporter = lambda: getattr(worker, "export_pid", None) or worker.pid  # noqa: E731
        peak = {"start": peak_mb(exporter())}
        by_file = [timed(lambda: download_file(worker, args.rows)) for _ in range(args.repeat)] if new_path else []
        peak["file"] = peak_mb(exporter())
        by_bytes = [timed(lambda: download_bytes(worker, args.rows)) for _ in range(args.repeat)]
        peak["bytes"] = peak_mb(exporter())

    # A request right behind the first reply of a fresh worker without a snapshot (the snapshot is due then).
    after_snapshot = []
    for _ in range(max(1, args.repeat // 2)):
        db.with_name(db.name + ".analytics.duckdb").unlink(missing_ok=True)
        with AnalyticsWorker(db) as fresh:
            fresh.kpis(start, last)
            after_snapshot.append(timed(lambda: fresh.kpis(start, last)))  # noqa: B023 - called at once

    print(f"\nAnalytics worker over {args.rows:,} records ({'records_file' if new_path else 'records_csv'} "
          f"build), {os.cpu_count()} cores, load average {load_start:.2f} at start\n")
    base = statistics.median(idle)
    print(f"{'kpis 30 d, idle worker (baseline)':58} {base * 1000:9.1f} ms")
    print(f"{'kpis 30 d during a download of every record (median)':58} {statistics.median(during) * 1000:9.1f} ms"
          f"  {statistics.median(during) / base:7.1f}x idle")
    print(f"{'kpis 30 d during a download of every record (worst)':58} {max(during) * 1000:9.1f} ms"
          f"  {max(during) / base:7.1f}x idle  ({len(during)} calls, download {exported['s']:.2f} s)")
    old = statistics.median(by_bytes)
    print(f"{'download, CSV bytes through the pipe (baseline)':58} {old * 1000:9.1f} ms"
          f"  ({exported['bytes'] / 1e6:.0f} MB)")
    if by_file:
        new = statistics.median(by_file)
        print(f"{'download, temporary file read by the caller':58} {new * 1000:9.1f} ms  {new / old:7.2f}x baseline")
        print(f"{'peak memory of the exporting process: after file downloads':58} {peak['file']:9.0f} MB"
              f"  (from {peak['start']:.0f} MB)")
    print(f"{'peak memory of the exporting process: after byte downloads':58} {peak['bytes']:9.0f} MB")
    after = statistics.median(after_snapshot)
    print(f"{'kpis 30 d right after a reply that made the snapshot due':58} {after * 1000:9.1f} ms"
          f"  {after / base:7.1f}x idle")
    print(f"\nload average {os.getloadavg()[0]:.2f} at end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
