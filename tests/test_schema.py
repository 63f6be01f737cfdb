"""One schema, ordered migrations: a database made by the release before them is upgraded in place
without losing a row; a new one gets every step once."""

import shutil
import sqlite3
from pathlib import Path

from core.api.keys import KeyStore
from core.storage.audit import recent
from core.storage.auth import UserStore
from core.storage.company import CompanyStore
from core.storage.conversations import ConversationStore
from core.storage.scenarios import ScenarioStore
from core.storage.schema import MIGRATIONS, applied, migrate
from core.support.log import SupportLog
from core.writer.store import WriterStore

RELEASE_DB = Path(__file__).parent / "fixtures" / "release-388a777.db"  # made by fixtures/make_release_db.py
NAMES = [name for name, _ in MIGRATIONS]


def rows(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(db)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {t: conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables if t != "sqlite_sequence"}
    finally:
        conn.close()


def test_steps_are_named_once_and_in_order():
    assert len(set(NAMES)) == len(NAMES) and NAMES == sorted(NAMES)


def test_the_release_database_is_upgraded_without_losing_a_row(tmp_path):
    db = tmp_path / "app.db"
    shutil.copy(RELEASE_DB, db)
    before = rows(db)
    assert before["support_questions"] == 1 and before["users"] == 1 and "schema_migrations" not in before
    assert migrate(db) == NAMES
    after = rows(db)
    assert {t: n for t, n in after.items() if t in before} == before
    assert after["schema_migrations"] == len(NAMES) and after["company"] == 0
    # every store reads what the release wrote
    assert ConversationStore(db).list()[0].title == "Release chat"
    assert [m.content for m in ConversationStore(db).get(ConversationStore(db).list()[0].id).messages] == [
        "Hello from the release",
        "Hi! 你好",
    ]
    log = SupportLog(db)
    assert log.questions()[0]["channel"] == "widget" and log.tickets()[0]["contact"] == "ann@example.com"
    assert KeyStore(db).list()[0].origins == ["https://shop.example.com"]
    assert ScenarioStore(db).names() == ["Release plan"]
    assert UserStore(db, rounds=4).get("admin").role == "admin"
    assert recent(db)[0]["action"] == "release.fixture"
    assert "Calm" in WriterStore(db).voices()
    assert CompanyStore(db, "Jade Leaf Tea Co.").get().name == "Jade Leaf Tea Co."
    assert migrate(db) == [] and applied(db) == NAMES


def test_a_new_database_gets_every_step_once(tmp_path):
    db = tmp_path / "new.db"
    assert migrate(db) == NAMES
    assert migrate(db) == []  # this process knows it is done
    # another process (or a restored file) looks again and finds nothing to do
    again = tmp_path / "copy.db"
    shutil.copy(db, again)
    assert migrate(again) == [] and applied(again) == NAMES


def test_a_restored_older_file_is_migrated_again(tmp_path):
    db = tmp_path / "app.db"
    migrate(db)
    db.unlink()
    shutil.copy(RELEASE_DB, db)  # a restore puts an older database in its place: a new file
    assert migrate(db) == NAMES
