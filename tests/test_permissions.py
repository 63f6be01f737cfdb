"""The data folder is the app's alone: its database, logs and backups are 0600 files in 0700 folders,
whatever the umask, and an older install's open ones are tightened at start."""

import os
import stat

import pytest

from core.storage.backup import backup, restore
from core.storage.conversations import ConversationStore
from core.storage.db import connect
from core.storage.private import secure_data_dir


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def open_umask():
    old = os.umask(0o022)  # what a shell usually has: files 0644, folders 0755
    yield
    os.umask(old)


def test_the_database_and_its_folder_are_private(tmp_path, open_umask):
    data = tmp_path / "data"
    db = data / "app.db"
    with connect(db) as conn:
        conn.execute("CREATE TABLE t (x)")
        conn.execute("INSERT INTO t VALUES (1)")
        with connect(db) as reader:  # a second connection while one is open: the WAL and its index exist
            reader.execute("SELECT * FROM t").fetchall()
            assert mode(data) == 0o700
            for path in data.iterdir():
                assert mode(path) == 0o600, path.name


def test_start_tightens_what_an_older_install_left_open(tmp_path, open_umask):
    data = tmp_path / "data"
    (data / "logs").mkdir(parents=True)
    for path in (data / "app.db", data / "app.db-wal", data / "logs" / "llama-server.log"):
        path.write_bytes(b"")
    os.chmod(data, 0o755)
    assert mode(data / "app.db") == 0o644
    secure_data_dir(data)
    assert mode(data) == 0o700 and mode(data / "logs") == 0o700
    assert {mode(p) for p in (data / "app.db", data / "app.db-wal", data / "logs" / "llama-server.log")} == {0o600}


def test_backups_and_restored_data_are_private(settings, tmp_path, open_umask):
    ConversationStore(settings.db_path).create("hello")
    out = tmp_path / "backups" / "b.tar.gz"
    backup(settings, out)
    assert mode(out) == 0o600 and mode(out.parent) == 0o700
    os.chmod(settings.data_dir, 0o755)
    restore(settings, out, force=True)
    assert mode(settings.data_dir) == 0o700 and mode(settings.db_path) == 0o600
    for folder, dirs, files in os.walk(settings.data_dir):
        for name in dirs + files:
            assert mode(os.path.join(folder, name)) & 0o077 == 0, name
