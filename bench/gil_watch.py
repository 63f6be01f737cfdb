"""How long did one step hold the interpreter? A watchdog thread for "no step over 100 ms".

    .venv/bin/python bench/gil_watch.py --url http://127.0.0.1:8000/api/v1/health --seconds 60

In the same process (the regex fuzzer, a test, a bench that calls core directly):

    from gil_watch import GilWatch          # bench/ on sys.path, or load it by file path
    with GilWatch() as watch:
        run_the_request()
    print(watch.max_ms)                     # the longest the watcher was kept from running

The watcher sleeps 5 ms in a loop and records how late each wake-up is. A C call that keeps the
GIL (Python's `re`, a long sort, json on a huge string) stops every other thread, the watcher
included, so its worst lateness is the longest single hold of the interpreter (plus up to the
5 ms switch interval, `sys.getswitchinterval()`, when the other threads run Python code). It
needs no privileges and works under pytest.

From outside (a server in another process, as bench/hostile_api.py runs it): `HealthProbe` (or this
file with --url) asks a cheap endpoint (`/api/v1/health`) every 20 ms and records the slowest
answer while the hostile requests run in other threads or processes. A server whose event loop or
worker is held by one request answers health late by about that hold.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
import urllib.request


class _Sampler:
    """What both watchers share: a daemon thread running `_run` until `_stop` is set."""

    name = "sampler"

    def __init__(self):
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _run(self) -> None:
        raise NotImplementedError

    def _start_thread(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def _stop_thread(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


class GilWatch(_Sampler):
    """Context manager: a daemon thread that wakes every `interval` s and records its lateness."""

    name = "gil-watch"

    def __init__(self, interval: float = 0.005):
        super().__init__()
        self.interval = interval
        self.max_ms = 0.0
        self.wakeups = 0

    def _run(self) -> None:
        while not self._stop.is_set():
            before = time.perf_counter()
            time.sleep(self.interval)
            late = (time.perf_counter() - before - self.interval) * 1000
            self.wakeups += 1
            if late > self.max_ms:
                self.max_ms = late

    def reset(self) -> None:
        self.max_ms = 0.0

    def start(self) -> GilWatch:
        self._start_thread()
        time.sleep(2 * self.interval)  # let it take its first sample before the work starts
        return self

    def stop(self) -> float:
        self._stop_thread()
        return self.max_ms

    def __enter__(self) -> GilWatch:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class HealthProbe(_Sampler):
    """From outside the server: GET `url` every `interval` s in a thread; `max_ms` is the slowest
    answer (a failed request counts with its time to fail), `count` how many were made."""

    name = "health-probe"

    def __init__(self, url: str, interval: float = 0.02, timeout: float = 30.0):
        super().__init__()
        self.url, self.interval, self.timeout = url, interval, timeout
        self.max_ms = 0.0
        self.count = 0
        self.errors = 0

    def _run(self) -> None:
        while not self._stop.is_set():
            before = time.perf_counter()
            try:
                with urllib.request.urlopen(self.url, timeout=self.timeout) as response:
                    response.read()
            except OSError:
                self.errors += 1
            self.max_ms = max(self.max_ms, (time.perf_counter() - before) * 1000)
            self.count += 1
            self._stop.wait(self.interval)

    def __enter__(self) -> HealthProbe:
        self._start_thread()
        return self

    def __exit__(self, *exc) -> None:
        self._stop_thread()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="probe this URL from outside (else watch this process, idle)")
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    if args.url:
        with HealthProbe(args.url) as probe:
            time.sleep(args.seconds)
        print(
            json.dumps(
                {"url": args.url, "requests": probe.count, "errors": probe.errors, "max_ms": round(probe.max_ms, 1)}
            )
        )
    else:
        with GilWatch() as watch:
            time.sleep(args.seconds)
        print(json.dumps({"max_gil_hold_ms": round(watch.max_ms, 1), "wakeups": watch.wakeups}))


if __name__ == "__main__":
    main()
