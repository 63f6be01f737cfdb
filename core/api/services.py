"""What every request of the API shares: the application (core/application.py: the knowledge base,
the model, the support log), the keys and the admission counts (`Services`), a question let in until its answer ends (`Admitted`), and the
last turns of each API conversation (`Conversations`)."""

from __future__ import annotations

import math
import sys
import threading
import time
from collections import OrderedDict, deque

from starlette.datastructures import Headers

from core.api.keys import ApiKey, InFlight, KeyStore, RateLimiter, client_address, digest, trusted_networks
from core.application import Application
from core.kb.store import KnowledgeBase
from core.llm.slots import PUBLIC, SlotQueue

KEY_SEEN_S = 10.0  # how long FastRefusal trusts a key it looked up (the full checks look again)


def busy_message(retry_after: int) -> str:
    return f"Many questions are being answered right now; try again in {retry_after} s"


def visitor_busy(per_visitor: int) -> str:
    return f"{per_visitor} of your questions are being answered; ask again when one is done"


class Conversations:
    """The last turns of each API conversation (for follow-up questions), bounded, in memory."""

    def __init__(self, size: int = 10_000, turns: int = 6):
        self.size, self.turns = size, turns
        self._items: OrderedDict[str, deque] = OrderedDict()
        self._lock = threading.Lock()

    def history(self, key: str) -> list[dict]:
        with self._lock:
            return list(self._items.get(key, ()))

    def add(self, key: str, question: str, reply: str) -> None:
        with self._lock:
            turns = self._items.setdefault(key, deque(maxlen=self.turns))
            turns.extend([{"role": "user", "content": question}, {"role": "assistant", "content": reply}])
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


class Services:
    """What the API works with, shared by every request: the application (the same knowledge base,
    engine and support log as the app's pages in this process), the keys and the admission counts."""

    def __init__(self, application: Application):
        self.app = application
        self.settings = settings = application.settings
        self.log = application.support_log  # opening it marks what a dead process left answering abandoned
        self.keys = KeyStore(settings.db_path)
        self.limiter = RateLimiter()
        self.in_flight = InFlight()  # questions admitted, until their answer ends
        self.arriving = InFlight()  # questions with a valid key, from FastRefusal until their response ends
        self.trusted = trusted_networks(settings.api_trusted_proxies)
        self.answer_s = 10.0  # how long a question takes, recent average: the Retry-After of a refusal
        self.conversations = Conversations()
        self._seen_keys: dict[str, tuple[ApiKey, float]] = {}  # key digest -> (key, until): FastRefusal's
        self._lock = threading.Lock()

    @property
    def kb(self) -> KnowledgeBase:
        return self.app.knowledge_base()

    def public_slots(self) -> tuple[int, int]:
        """(slots customers' answers may take, how many of theirs wait now), from the loaded engine's
        queue; nothing is loaded for this."""
        queue = getattr(self.app.loaded_engine, "queue", None)
        if queue is None:
            return self.settings.parallel, 0
        if isinstance(queue, SlotQueue):
            return queue.slots, queue.waiting(PUBLIC)
        return queue.slots, queue.waiting() if hasattr(queue, "waiting") else 0  # one line for everyone

    def seen_key(self, secret: str, key: ApiKey) -> None:
        with self._lock:
            if len(self._seen_keys) > 10_000:
                self._seen_keys.clear()
            self._seen_keys[digest(secret)] = (key, time.monotonic() + KEY_SEEN_S)

    def asker(self, headers: Headers, client) -> tuple[tuple[int, str], int] | None:
        """(visitor, how many questions they may have in progress) for a request with an active key:
        the visitor is (key id, client address); a website key (public) allows each visitor
        APP_API_VISITOR_ASKS, a server key no limit of its own. None for a wrong key or none (the full
        checks answer 401). A key not checked within KEY_SEEN_S is looked up (one indexed read) and
        remembered."""
        auth = headers.get("authorization", "")
        secret = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
        if not secret:
            return None
        with self._lock:
            seen = self._seen_keys.get(digest(secret))
        key: ApiKey | None
        if seen is not None and seen[1] > time.monotonic():
            key = seen[0]
        elif (key := self.keys.find(secret)) is not None:
            self.seen_key(secret, key)
        if key is None:
            return None
        peer = client[0] if client else None
        visitor = (key.id, client_address(peer, headers.get("x-forwarded-for"), self.trusted))
        return visitor, self.settings.api_visitor_asks if key.origins else sys.maxsize

    def let_in(self, headers: Headers, client) -> tuple[tuple[int, str, dict] | None, tuple[int, str] | None]:
        """(refusal, visitor). A refusal (status, message, headers) when a question would be refused
        before any work (429: this website visitor has their limit of questions in progress or
        arriving; 503: as many questions as may be in progress or wait are, or customers' answers
        wait). Otherwise the visitor now counted in `arriving` (call `arriving.leave` once the
        response ends), or None for a request without a valid key; the full checks follow."""
        s = self.settings
        retry = {"Retry-After": str(self.retry_after())}
        found = self.asker(headers, client)
        slots, waiting = self.public_slots()
        most = slots + s.api_max_waiting
        why = self.arriving.enter(found[0], found[1], most) if found is not None else ""
        if why == "visitor":
            return (429, visitor_busy(s.api_visitor_asks), retry), None
        if why or self.in_flight.total >= most or waiting >= s.api_max_waiting:
            if found is not None and not why:
                self.arriving.leave(found[0])
            return (503, busy_message(self.retry_after()), retry), None
        return None, found[0] if found is not None else None

    def took(self, seconds: float) -> None:
        with self._lock:
            self.answer_s = 0.8 * self.answer_s + 0.2 * seconds

    def retry_after(self) -> int:
        return int(min(120, max(1, math.ceil(self.answer_s))))

    @property
    def loaded(self):
        """The engine if one is loaded already, else None; nothing is loaded for this."""
        return self.app.loaded_engine

    @property
    def llm(self):
        """The engine, loaded afresh when the active adapter changes (the Model page)."""
        return self.app.engine()


class Admitted:
    """A question let in (counted in `InFlight`) until `leave()`, called once whatever happens:
    the answer ends, the stream is cut, or the response is dropped before it started."""

    def __init__(self, services: Services, visitor):
        self.services, self.visitor = services, visitor
        self.started = time.monotonic()
        self._left = False

    def leave(self, answered: bool = True) -> None:
        if not self._left:
            self._left = True
            self.services.in_flight.leave(self.visitor)
            if answered:
                self.services.took(time.monotonic() - self.started)
