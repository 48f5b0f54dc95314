"""Running many model calls a bounded number at a time, with results handled in the calling thread.

Compare experiments (`pipeline.experiments`) and their judge (`pipeline.judging`) share this loop: the
calls run in a thread pool; each result is handed back to the caller's thread as soon as it is ready (so
progress callbacks, e.g. a Streamlit progress bar, run where they must); an interrupt cancels every call
not started yet and lets the ones in flight finish, so what they did is still recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TypeVar

T = TypeVar("T")


def run_bounded(
    calls: Iterable[Callable[[], T]], *, concurrency: int, on_result: Callable[[T], None], name: str
) -> None:
    """Run every call, at most `concurrency` at once, and pass each result to `on_result` in this thread.

    Raises:
        Whatever a call, `on_result` or the caller's thread raises (KeyboardInterrupt included), after
        cancelling the calls not started yet and waiting for the ones in flight.
    """
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix=name) as pool:
        futures: set[Future[T]] = {pool.submit(call) for call in calls}
        try:
            while futures:
                finished, futures = wait(futures, return_when=FIRST_COMPLETED)
                for future in finished:
                    on_result(future.result())
        except BaseException:
            for future in futures:
                future.cancel()  # queued calls never start; the ones in flight finish and are recorded
            raise
