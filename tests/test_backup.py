"""Backup and restore (`python -m core backup` / `restore`, core/backup.py), and restarts.

The app's side of each check runs in fresh processes (the drivers of tests/test_faults.py): that
is what a restarted app sees. Backup and restore themselves run here, through the CLI.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest

from tests.test_faults import child_env, run

# -- helpers --------------------------------------------------------------------------------------


def cli(monkeypatch, capsys, data_dir: Path, *argv) -> tuple[int, dict]:
    from core.cli.main import main

    monkeypatch.setenv("APP_DATA_DIR", str(data_dir))
    capsys.readouterr()
    code = main([*argv, "--json"])
    return code, json.loads(capsys.readouterr().out)


def tree(root: Path) -> dict:
    """Every file under `root` and its sha256 (to prove a refused restore changed nothing)."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def small_data_dir(root: Path) -> Path:
    """A data folder made here, without the embedding stack: a database, an adapter, a kb file."""
    from core.storage.conversations import ConversationStore
    from core.support.log import SupportLog
    from tests.test_faults import fake_adapter

    store = ConversationStore(root / "app.db")
    store.create("Hello", first_message="Hi there")
    SupportLog(root / "app.db").open_ticket("Ada", "ada@example.com", "Where is my tea?")
    fake_adapter(root / "adapters" / "tuned", 7)
    (root / "kb").mkdir()
    (root / "kb" / "default.version").write_text("0" * 32)
    (root / "models").mkdir()
    (root / "models" / "checkpoint.bin").write_bytes(b"big model" * 100)
    return root


def write_tar(path: Path, members: list[tuple[tarfile.TarInfo, bytes | None]]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def manifest_for(files: dict[str, bytes], **extra) -> bytes:
    return json.dumps(
        {
            "format": "ai-business-studio-backup",
            "format_version": 1,
            "created": "2025-01-01T00:00:00Z",
            "members": [
                {"path": p, "size": len(d), "sha256": hashlib.sha256(d).hexdigest(), "kind": "file"}
                for p, d in files.items()
            ],
        }
        | extra
    ).encode()


def member(name: str, kind=tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.mode = kind, link, 0o644
    return info


# -- round trip and restart ------------------------------------------------------------------------
def test_restart_keeps_everything_and_backup_round_trip(tmp_path, monkeypatch, capsys):
    src, dst = tmp_path / "src", tmp_path / "dst"
    written = run("populate", child_env(src, APP_ADAPTER="auto")).result
    assert written["kb"]["count"] == 28 and written["kb"]["search"] and written["active"] == "tuned"
    assert len(written["conversations"]) == 2 and written["tickets"] and len(written["users"]) == 2
    # A restart (a new process opening every store) shows exactly what was written.
    assert run("view", child_env(src, APP_ADAPTER="auto")).result == written
    (src / "models").mkdir()
    (src / "models" / "checkpoint.safetensors").write_bytes(b"\0" * 1000)

    code, made = cli(monkeypatch, capsys, src, "backup", "--out", str(tmp_path / "b.tar.gz"))
    assert code == 0 and made["members"] >= 6 and made["counts"]["conversations"] == 2
    assert any(s["path"] == "models/" and "re-created" in s["reason"] for s in made["skipped"])
    with tarfile.open(tmp_path / "b.tar.gz") as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile("manifest.json"))
    assert names[0] == "manifest.json" and not any(n.startswith("data/models") or n.endswith(".lock") for n in names)
    assert {
        "data/app.db",
        "data/adapters/active",
        "data/adapters/tuned/adapter_model.safetensors",
        "data/kb/chroma/chroma.sqlite3",
    } <= set(names)
    assert manifest["created"] and manifest["versions"]["sqlite"] and manifest["versions"]["chromadb"]
    assert all(len(m["sha256"]) == 64 and m["size"] >= 0 for m in manifest["members"])
    assert {m["path"]: m["kind"] for m in manifest["members"]}["kb/chroma/chroma.sqlite3"] == "sqlite"

    code, checked = cli(monkeypatch, capsys, tmp_path / "elsewhere", "restore", str(tmp_path / "b.tar.gz"), "--check")
    assert code == 0 and checked["ok"] and not (tmp_path / "elsewhere").exists()
    code, restored = cli(monkeypatch, capsys, dst, "restore", str(tmp_path / "b.tar.gz"))
    assert code == 0 and restored["members"] == made["members"] and restored["replaced"] == []
    assert run("view", child_env(dst, APP_ADAPTER="auto")).result == written
    assert not (dst / "models").exists() and not list(dst.glob(".restore-*"))
    from core.storage.audit import recent

    assert recent(dst / "app.db", 1)[0]["action"] == "restore"


def test_backup_is_consistent_while_the_app_writes(tmp_path, monkeypatch):
    """A backup taken in the middle of a knowledge-base import waits for it (the import's write
    lock) and so holds the new version whole; one taken while conversations are being written
    holds a consistent database (SQLite's backup API)."""
    from core.config import load_settings
    from core.storage.backup import backup, restore

    seed_env = child_env(tmp_path / "live")
    v1 = run("kb_ingest", seed_env, 1, 2).result
    taken = []

    def during_import(msg):
        if msg[0] == "progress" and not taken:  # the import holds the lock, 1 of 9 batches in
            monkeypatch.setenv("APP_DATA_DIR", str(tmp_path / "live"))
            taken.append(backup(load_settings(), tmp_path / "kb.tar.gz"))
        return None

    v2 = run("kb_ingest", seed_env, 2, 2, kill=during_import).result
    assert taken and v1["e5"] != v2["e5"]
    monkeypatch.setenv("APP_DATA_DIR", str(tmp_path / "r1"))
    restore(load_settings(), tmp_path / "kb.tar.gz")
    got = run("kb_reopen_and_rerun", child_env(tmp_path / "r1"), 2).result
    assert got["interrupted_phase"] is None and got["reopened"]["e5"] == v2["e5"] == got["reopened"]["minilm"]

    def during_writes(msg):
        if msg[0] == "committed" and msg[1:] == ("create", 10):
            monkeypatch.setenv("APP_DATA_DIR", str(tmp_path / "live"))
            taken.append(backup(load_settings(), tmp_path / "db.tar.gz"))
        return None

    run("conversation_job", seed_env, 40, kill=during_writes)
    monkeypatch.setenv("APP_DATA_DIR", str(tmp_path / "r2"))
    restore(load_settings(), tmp_path / "db.tar.gz")
    check = run("conversation_check", child_env(tmp_path / "r2"), 40).result
    assert check["integrity"] == "ok" and not check["problems"] and check["stale_updated_at"] == 0
    from tests.test_faults import conv_ops

    assert len(check["done"]) >= 29 and check["done"] == conv_ops(40)[: len(check["done"])]  # ("create", 10) is #29


# -- refusals ------------------------------------------------------------------------------------
@pytest.fixture
def archive(tmp_path, monkeypatch, capsys) -> Path:
    small_data_dir(tmp_path / "src")
    code, _ = cli(monkeypatch, capsys, tmp_path / "src", "backup", "--out", str(tmp_path / "good.tar.gz"))
    assert code == 0
    return tmp_path / "good.tar.gz"


@pytest.fixture
def existing(tmp_path) -> Path:
    """A data folder with data in it, which every refused restore must leave exactly as it was."""
    from core.storage.conversations import ConversationStore

    root = tmp_path / "current"
    ConversationStore(root / "app.db").create("Keep me", first_message="still here")
    (root / "adapters" / "mine").mkdir(parents=True)
    (root / "adapters" / "mine" / "adapter_config.json").write_text("{}")
    return root


def refused(monkeypatch, capsys, data_dir: Path, path: Path, *flags) -> str:
    before = tree(data_dir) if data_dir.exists() else {}
    code, out = cli(monkeypatch, capsys, data_dir, "restore", str(path), *flags)
    assert code == 2 and "error" in out, out
    assert (tree(data_dir) if data_dir.exists() else {}) == before, "a refused restore changed the data"
    assert not list(data_dir.glob(".restore-*")), "a refused restore left its staging folder"
    return out["error"]


def test_restore_refuses_damaged_and_foreign_archives(tmp_path, archive, existing, monkeypatch, capsys):
    data = archive.read_bytes()
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(data[: len(data) // 2])
    assert "damaged" in refused(monkeypatch, capsys, existing, cut, "--force")
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0xFF
    (tmp_path / "flipped.tar.gz").write_bytes(bytes(flipped))
    assert "damaged" in refused(monkeypatch, capsys, existing, tmp_path / "flipped.tar.gz", "--force")
    # The same manifest, a member changed (same size): caught by its checksum.
    with tarfile.open(archive) as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar.getmembers()]
    altered = [(m, d.replace(b"Hi there", b"Hi THERE") if m.name == "data/app.db" else d) for m, d in members]
    assert altered != members
    write_tar(tmp_path / "altered.tar.gz", altered)
    assert "checksum" in refused(monkeypatch, capsys, existing, tmp_path / "altered.tar.gz", "--force")
    # A member missing from the archive.
    write_tar(tmp_path / "short.tar.gz", [(m, d) for m, d in members if m.name != "data/app.db"])
    assert "missing" in refused(monkeypatch, capsys, existing, tmp_path / "short.tar.gz", "--force")
    # Foreign archives: no manifest; another format; a newer format; not a tar.gz at all.
    write_tar(tmp_path / "foreign.tar.gz", [(member("data/app.db"), b"x")])
    assert "not a backup" in refused(monkeypatch, capsys, existing, tmp_path / "foreign.tar.gz", "--force")
    write_tar(tmp_path / "other.tar.gz", [(member("manifest.json"), b'{"format": "something-else"}')])
    assert "not a backup" in refused(monkeypatch, capsys, existing, tmp_path / "other.tar.gz", "--force")
    write_tar(tmp_path / "newer.tar.gz", [(member("manifest.json"), manifest_for({}, format_version=99))])
    assert "newer version" in refused(monkeypatch, capsys, existing, tmp_path / "newer.tar.gz", "--force")
    (tmp_path / "notes.tar.gz").write_text("just some text")
    assert "not a readable" in refused(monkeypatch, capsys, existing, tmp_path / "notes.tar.gz", "--force")
    # --check says the same without touching anything.
    code, out = cli(monkeypatch, capsys, existing, "restore", str(tmp_path / "altered.tar.gz"), "--check")
    assert code == 2 and "checksum" in out["error"]


@pytest.mark.parametrize(
    "case", ["dotdot", "absolute", "nested-dotdot", "symlink", "hardlink", "manifest-path", "outside-data", "device"]
)
def test_restore_never_writes_outside_the_data_folder(tmp_path, existing, monkeypatch, capsys, case):
    evil = b"owned"
    name = {
        "dotdot": "data/../evil.txt",
        "absolute": str(tmp_path / "evil.txt"),
        "nested-dotdot": "data/kb/../../evil.txt",
        "outside-data": "evil.txt",
    }.get(case)
    if name is not None:
        rel = name.removeprefix("data/") if name.startswith("data/") else name
        members = [(member("manifest.json"), manifest_for({rel: evil})), (member(name), evil)]
    elif case == "symlink":  # a link out, then a file written "through" it
        members = [
            (member("manifest.json"), manifest_for({"link/evil.txt": evil})),
            (member("data/link", tarfile.SYMTYPE, str(tmp_path)), None),
            (member("data/link/evil.txt"), evil),
        ]
    elif case == "hardlink":
        members = [
            (member("manifest.json"), manifest_for({"hard": evil})),
            (member("data/hard", tarfile.LNKTYPE, str(tmp_path / "evil.txt")), None),
        ]
    elif case == "device":
        members = [(member("manifest.json"), manifest_for({"dev": evil})), (member("data/dev", tarfile.CHRTYPE), None)]
    else:  # the manifest itself names a path outside
        members = [(member("manifest.json"), manifest_for({"../evil.txt": evil}))]
    write_tar(tmp_path / "evil.tar.gz", members)
    message = refused(monkeypatch, capsys, existing, tmp_path / "evil.tar.gz", "--force")
    assert "Refusing archive member" in message
    assert not list(tmp_path.rglob("evil.txt")) and not (tmp_path.parent / "evil.txt").exists()
    # Into an empty folder too: refused, and nothing left behind.
    refused(monkeypatch, capsys, tmp_path / "fresh", tmp_path / "evil.tar.gz")
    assert not list(tmp_path.rglob("evil.txt")) and not list((tmp_path / "fresh").glob("*"))


def test_restore_replaces_only_with_force_and_undoes_a_failed_swap(tmp_path, archive, existing, monkeypatch, capsys):
    from core.storage import backup as backup_mod

    assert "--force" in refused(monkeypatch, capsys, existing, archive)
    before = tree(existing)
    # A failure half-way through the swap (here: the second new entry cannot be moved in).
    real_rename, moved = Path.rename, []

    def failing_rename(self, target):
        if self.parent.name == "new":
            moved.append(self.name)
            if len(moved) == 2:
                raise OSError(28, "No space left on device")
        return real_rename(self, target)

    monkeypatch.setattr(Path, "rename", failing_rename)
    code, out = cli(monkeypatch, capsys, existing, "restore", str(archive), "--force")
    monkeypatch.setattr(Path, "rename", real_rename)
    assert code == 2 and "No space left" in out["error"] and len(moved) == 2
    assert tree(existing) == before and not list(existing.glob(".restore-*"))
    # A restore killed half-way leaves its plan; the next backup or restore puts the old data back.
    staging = existing / ".restore-dead"
    (staging / "new" / "adapters").mkdir(parents=True)
    (staging / "old").mkdir()
    (staging / "plan.json").write_text(json.dumps({"old": ["adapters", "app.db"], "new": ["adapters", "app.db"]}))
    (existing / "app.db").rename(staging / "old" / "app.db")
    (existing / "adapters").rename(staging / "old" / "adapters")
    (existing / "app.db").write_bytes(b"new database, moved in before the crash")
    assert backup_mod.recover_restore(existing) == [".restore-dead"]
    assert tree(existing) == before and not staging.exists()
    # With --force it replaces the data; the model cache stays.
    (existing / "models").mkdir()
    (existing / "models" / "cached.bin").write_bytes(b"model")
    code, out = cli(monkeypatch, capsys, existing, "restore", str(archive), "--force")
    assert code == 0 and sorted(out["replaced"]) == ["adapters", "app.db"], out
    assert (existing / "models" / "cached.bin").read_bytes() == b"model"
    files = {k: v for k, v in tree(existing).items() if k != "app.db" and not k.startswith("models/")}
    assert files == {
        k: v
        for k, v in tree(tmp_path / "src").items()
        if k != "app.db" and not k.startswith("models/") and not k.endswith(".lock")
    }
    from core.storage.conversations import ConversationStore

    assert [c.title for c in ConversationStore(existing / "app.db").list()] == ["Hello"]


def test_backup_refuses_a_folder_as_output_and_a_missing_data_folder(tmp_path, monkeypatch, capsys):
    code, out = cli(monkeypatch, capsys, tmp_path / "nothing", "backup", "--out", str(tmp_path / "b.tar.gz"))
    assert code == 2 and "does not exist" in out["error"]
    small_data_dir(tmp_path / "d")
    code, out = cli(monkeypatch, capsys, tmp_path / "d", "backup", "--out", str(tmp_path))
    assert code == 2 and "folder" in out["error"]
    # Written inside the data folder itself: it does not swallow itself or its staging copy.
    code, out = cli(monkeypatch, capsys, tmp_path / "d", "backup", "--out", str(tmp_path / "d" / "b.tar.gz"))
    assert code == 0
    code, out = cli(monkeypatch, capsys, tmp_path / "d", "backup", "--out", str(tmp_path / "d" / "b.tar.gz"))
    assert code == 0
    with tarfile.open(tmp_path / "d" / "b.tar.gz") as tar:
        assert not [n for n in tar.getnames() if n.endswith(".tar.gz") or ".backup-" in n]
