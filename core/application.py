"""The application: one per process, which every door goes through.

`Application.shared(settings)` owns the settings, the model engine (loaded on first use, loaded
afresh when the active adapter changes), the knowledge base, the stores and the background
warm-up. The pages get it through ui.py's cache, the HTTP API through `Services`, the CLI and the
benchmarks make one; nothing else constructs an engine or the company's knowledge base, so
`serve.py` (app and API in one process) holds one model with one queue whatever the engine.
"""

from __future__ import annotations

import threading
from dataclasses import replace

from core.config import Settings
from core.kb.store import KnowledgeBase, load_sample
from core.llm import Engine, load_llm
from core.llm.adapters import adapter_key
from core.storage.company import Company, CompanyStore
from core.storage.conversations import ConversationStore
from core.support.log import SupportLog
from core.support.warm import read_source_ahead, start_warm_up
from core.writer.store import WriterStore

ENGINES_KEPT = 2  # the active adapter's engine and one other (the Model page compares with the base)


class Application:
    """Built by `shared` (one per settings in this process) or directly (tests, one-off commands).
    `llm`/`kb` given are used as they are and never reloaded (tests with stand-ins)."""

    _instances: dict[Settings, Application] = {}
    _instances_lock = threading.Lock()

    def __init__(self, settings: Settings, *, llm: Engine | None = None, kb: KnowledgeBase | None = None):
        self.settings = settings
        self._fixed_llm = llm
        self._kb = kb
        self._engines: dict[tuple, Engine] = {}  # (adapter setting, adapter_key) -> engine, oldest first
        self._configured: Engine | None = None  # the configured adapter's engine, last loaded
        self._stores: dict[str, object] = {}
        # One lock per resource: loading the model (seconds to minutes) must not hold up a page that
        # only reads a store, nor the knowledge base's first import a chat reply.
        self._engine_lock = threading.Lock()
        self._kb_lock = threading.Lock()
        self._store_lock = threading.Lock()
        self._warm_up: threading.Thread | None = None

    @classmethod
    def shared(cls, settings: Settings) -> Application:
        """This process's application for these settings: the app's pages and the API in one process
        get the same engine and knowledge base."""
        with cls._instances_lock:
            if settings not in cls._instances:
                cls._instances[settings] = cls(settings)
            return cls._instances[settings]

    # -- the model --------------------------------------------------------------------------------
    def engine(self, adapter: str | None = None, warm: bool = True, log=None) -> Engine:
        """The engine, loaded on first use and warmed up (its server started, two tokens run) unless
        warm=False. adapter overrides APP_ADAPTER ("none": the base model, to compare with). A newly
        chosen or retrained adapter (its key changes) loads the engine afresh without a restart.
        log: the loading's progress (a command's stderr). Raises ModelUnavailable with what to do."""
        if self._fixed_llm is not None:
            return self._fixed_llm
        settings = self.settings if adapter is None else replace(self.settings, adapter=adapter)
        key = adapter_key(settings)
        if key is None and settings.adapter.strip().lower() == "auto":
            settings = replace(settings, adapter="none")  # nothing to apply: the base model's engine
        cache_key = (settings.adapter, key)
        with self._engine_lock:
            if cache_key not in self._engines:
                llm = load_llm(settings, log=log or (lambda *_: None))
                if warm:
                    llm.warm_up()
                self._engines[cache_key] = llm
                if adapter is None:
                    self._configured = llm
                while len(self._engines) > ENGINES_KEPT:  # dropped, not closed: a reply may still stream
                    self._engines.pop(next(iter(self._engines)))
            return self._engines[cache_key]

    @property
    def loaded_engine(self) -> Engine | None:
        """The engine of the configured adapter if it is loaded already; nothing is loaded for this,
        and no lock is taken: the API's admission asks on the event loop, while a load may hold the
        lock for seconds."""
        return self._fixed_llm if self._fixed_llm is not None else self._configured

    # -- the knowledge base -----------------------------------------------------------------------
    def knowledge_base(self, name: str | None = None) -> KnowledgeBase:
        """The company's knowledge base (APP_KB_NAME, or `name`), opened once; a first run with
        APP_SAMPLE_KB=on loads the sample company so that the demo answers."""
        if self._kb is not None and name in (None, self._kb.name):
            return self._kb
        with self._kb_lock:
            if name not in (None, self.settings.kb_name):
                return open_knowledge_base(self.settings, name)  # another one, for a command: not kept
            if self._kb is None:
                kb = open_knowledge_base(self.settings)
                if self.settings.sample_kb == "on":
                    load_sample(kb)
                self._kb = kb
            return self._kb

    # -- the stores (one SQLite database; each store opens its own connections) --------------------
    def _store(self, name: str, make):
        if (store := self._stores.get(name)) is not None:
            return store
        with self._store_lock:
            if name not in self._stores:
                self._stores[name] = make(self.settings.db_path)
            return self._stores[name]

    @property
    def conversations(self) -> ConversationStore:
        return self._store("conversations", ConversationStore)

    @property
    def support_log(self) -> SupportLog:
        """Opening it marks what a dead process left answering as abandoned."""
        return self._store("support_log", SupportLog)

    @property
    def writer_store(self) -> WriterStore:
        return self._store("writer", WriterStore)

    @property
    def company_store(self) -> CompanyStore:
        return self._store("company", lambda db: CompanyStore(db, self.settings.company_name))

    @property
    def company(self) -> Company:
        """Who the app speaks for, as an admin last saved it (read each time: one small row)."""
        return self.company_store.get()

    # -- background work --------------------------------------------------------------------------
    def start_warm_up(self) -> threading.Thread:
        """Once per application: the knowledge base's models and the engine loaded in the background,
        then the knowledge base read ahead for as long as the process runs (core/support/warm.py)."""
        with self._store_lock:
            if self._warm_up is None:
                self._warm_up = start_warm_up(self.settings, open_kb=self.knowledge_base, open_llm=self.engine)
            return self._warm_up

    def read_ahead(self, source: str) -> threading.Thread | None:
        """After an import: the new source's passages read ahead in the engine's gaps."""
        return read_source_ahead(self.settings, self.knowledge_base(), source, open_llm=self.engine)


def open_knowledge_base(settings: Settings, name: str | None = None) -> KnowledgeBase:
    """A knowledge base of this installation as it is (APP_KB_NAME, or `name`): what a command works
    on; the sample company is loaded only by `kb init` or the application's first start."""
    return KnowledgeBase(settings.kb_dir, name or settings.kb_name)
