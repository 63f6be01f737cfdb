"""One fine-tune (or evaluation) at a time, in a background thread, for the Model page.

The page starts a job and returns; every browser tab can then follow its progress and stop it,
and navigating away does not interrupt it. `train.training_lock` also keeps the CLI from
training at the same time.
"""

from __future__ import annotations

import threading
import time
import traceback
from dataclasses import dataclass, field

from core.finetune.adapters import validate_name

_LOCK = threading.Lock()
_CURRENT: Job | None = None


@dataclass
class Job:
    kind: str  # train | eval
    name: str  # the adapter's name
    state: str = "running"  # running | done | stopped | failed
    phase: str = "load"
    step: int = 0
    total: int = 0
    losses: list[float] = field(default_factory=list)
    result: dict | None = None
    error: str | None = None
    started: float = field(default_factory=time.time)
    finished: float | None = None
    stop_event: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self.state == "running"

    @property
    def fraction(self) -> float:
        return min(1.0, self.step / self.total) if self.total else 0.0

    @property
    def elapsed(self) -> float:
        return (self.finished or time.time()) - self.started

    def stop(self) -> None:
        self.stop_event.set()

    def wait(self, timeout: float | None = None) -> bool:
        if self.thread is not None:
            self.thread.join(timeout)
        return not self.running

    # progress callbacks ---------------------------------------------------------------------
    def on_train(self, p) -> None:
        self.phase, self.step, self.total = p.phase, p.step, p.total
        if p.phase == "train" and p.loss is not None:
            self.losses.append(p.loss)

    def on_eval(self, phase: str, step: int, total: int) -> None:
        self.phase, self.step, self.total = phase, step, total


def current() -> Job | None:
    return _CURRENT


def _start(job: Job, work) -> Job:
    global _CURRENT
    with _LOCK:
        if _CURRENT is not None and _CURRENT.running:
            raise ValueError(f"A {_CURRENT.kind} job for {_CURRENT.name!r} is running; wait for it or stop it first")
        _CURRENT = job

    def run():
        try:
            job.result = work(job)
            job.state = "stopped" if job.result and job.result.get("stopped") else "done"
        except KeyboardInterrupt:
            job.state = "stopped"
        except Exception as exc:  # shown on the page
            job.error = str(exc) or exc.__class__.__name__
            job.state = "failed"
            traceback.print_exc()
        finally:
            job.finished = time.time()

    job.thread = threading.Thread(target=run, name=f"finetune-{job.kind}", daemon=True)
    job.thread.start()
    return job


def start_training(settings, name: str, data, config) -> Job:
    """Train adapter `name` into $APP_DATA_DIR/adapters/<name> in the background."""
    from core.finetune.train import train  # torch: loaded only when a fine-tune or evaluation runs

    out_dir = validate_name(settings, name)

    def work(job):
        result = train(
            settings,
            data,
            out_dir,
            config,
            progress=job.on_train,
            stop=job.stop_event,
            log=lambda *_: None,
            name=name,
            command="Model page",
        )
        return result.as_json() | {"stopped": result.stopped}

    return _start(Job("train", name), work)


def start_evaluation(settings, name: str, adapter_dir, limit: int | None = None) -> Job:
    from core.finetune.evaluate import evaluate_adapter  # torch: loaded only when an evaluation runs

    def work(job):
        return evaluate_adapter(
            settings, adapter_dir, limit=limit, progress=job.on_eval, stop=job.stop_event, log=lambda *_: None
        )

    return _start(Job("eval", name), work)
