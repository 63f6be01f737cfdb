"""Sign-in and roles without a UI: the user store, lock-out, roles, sessions, the audit log and the CLI."""

import io
import json
import sqlite3

import bcrypt
import pytest

from core.cli.main import main
from core.storage import audit, auth
from core.storage.auth import Access, SignInFailed, UserStore

PASSWORD = "correct horse"


class Clock:
    """An injected clock: tests move time instead of sleeping."""

    def __init__(self, now: float = 1_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def store(settings, clock):
    return UserStore(settings.db_path, rounds=4, clock=clock)  # cost 4: fast tests, same code path


def raw_users(settings) -> list[dict]:
    conn = sqlite3.connect(settings.db_path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute("SELECT * FROM users")]
    finally:
        conn.close()


# -- the store ----------------------------------------------------------------------------------
def test_passwords_are_stored_as_salted_bcrypt_hashes(store, settings):
    store.add("alice", PASSWORD, "admin")
    store.add("bob", PASSWORD, "staff")
    rows = {r["username"]: r for r in raw_users(settings)}
    assert all(r["password_hash"].startswith("$2b$04$") for r in rows.values())
    assert rows["alice"]["password_hash"] != rows["bob"]["password_hash"]  # same password, different salt
    assert PASSWORD not in json.dumps(rows)
    user = store.authenticate("alice", PASSWORD)
    assert (user.username, user.role) == ("alice", "admin")
    assert "password_hash" not in user.as_dict() and "hash" not in repr(user)


def test_wrong_password_and_unknown_user_fail_the_same_way(store):
    store.add("alice", PASSWORD, "admin")
    for name, password in [("alice", "wrong password"), ("nobody", PASSWORD), ("alice", ""), ("alice", "x" * 100)]:
        with pytest.raises(SignInFailed) as caught:
            store.authenticate(name, password)
        assert caught.value.retry_after == 0 and str(caught.value) == "Wrong user name or password"


def test_unknown_user_costs_one_bcrypt_check_at_the_same_cost(store, monkeypatch):
    store.add("alice", PASSWORD, "admin")
    checked = []
    real_check = bcrypt.checkpw
    monkeypatch.setattr(bcrypt, "checkpw", lambda pw, hashed: checked.append(hashed[:7]) or real_check(pw, hashed))
    for name in ("alice", "nobody"):
        with pytest.raises(SignInFailed):
            store.authenticate(name, "wrong password")
    assert checked == [b"$2b$04$", b"$2b$04$"]  # one check each, same algorithm and cost


def test_disabled_user_cannot_sign_in(store):
    store.add("alice", PASSWORD, "admin")
    store.add("bob", PASSWORD, "staff")
    store.set_disabled("bob", True)
    with pytest.raises(SignInFailed):
        store.authenticate("bob", PASSWORD)
    store.set_disabled("bob", False)
    assert store.authenticate("bob", PASSWORD).username == "bob"


def test_repeated_failures_lock_the_name_for_a_while(store, settings, clock):
    store.add("alice", PASSWORD, "admin")
    for _ in range(auth.MAX_FAILURES - 1):
        with pytest.raises(SignInFailed) as caught:
            store.authenticate("alice", "wrong password")
        assert caught.value.retry_after == 0
    with pytest.raises(SignInFailed) as caught:
        store.authenticate("alice", "wrong password")
    assert caught.value.retry_after == auth.LOCKOUT_SECONDS
    clock.now += 10
    # Locked even with the right password, and also for a new store (a rerun, another tab, a restart).
    for fresh in (store, UserStore(settings.db_path, rounds=4, clock=clock)):
        with pytest.raises(SignInFailed) as caught:
            fresh.authenticate("ALICE", PASSWORD)
        assert caught.value.retry_after == pytest.approx(auth.LOCKOUT_SECONDS - 10)
    clock.now += auth.LOCKOUT_SECONDS
    assert store.authenticate("alice", PASSWORD).username == "alice"
    with pytest.raises(SignInFailed) as caught:  # a success resets the count
        store.authenticate("alice", "wrong password")
    assert caught.value.retry_after == 0


def test_unknown_names_are_locked_too(store):
    for _ in range(auth.MAX_FAILURES):
        with pytest.raises(SignInFailed):
            store.authenticate("nobody", "wrong password")
    with pytest.raises(SignInFailed) as caught:
        store.authenticate("nobody", "wrong password")
    assert caught.value.retry_after > 0  # the same answer as for a real user: existence is not revealed


def test_the_last_admin_cannot_be_removed_demoted_or_disabled(store):
    with pytest.raises(ValueError, match="first user must have --role admin"):
        store.add("bob", PASSWORD, "staff")
    store.add("alice", PASSWORD, "admin")
    store.add("bob", PASSWORD, "staff")
    for change in (
        lambda: store.remove("alice"),
        lambda: store.set_role("alice", "staff"),
        lambda: store.set_disabled("alice", True),
    ):
        with pytest.raises(ValueError, match="last admin"):
            change()
    assert store.get("alice").role == "admin" and not store.get("alice").disabled
    store.set_role("bob", "admin")
    store.set_role("alice", "staff")
    assert [(u.username, u.role) for u in store.list()] == [("alice", "staff"), ("bob", "admin")]
    store.remove("alice")
    with pytest.raises(ValueError, match="No user named 'alice'"):
        store.remove("alice")


def test_user_names_are_case_insensitive(store):
    store.add("  Alice ", PASSWORD, "admin")
    assert store.get("ALICE").username == "alice"
    assert store.authenticate("aLiCe", PASSWORD).username == "alice"
    with pytest.raises(ValueError, match="already exists"):
        store.add("ALICE", PASSWORD, "staff")
    store.add("Ærøskøbing", PASSWORD, "staff")  # not only ASCII
    assert store.get("ÆRØSKØBING") is not None


def test_sql_is_parameterised(store, settings):
    evil = "x'); DROP TABLE users;--"
    store.add("alice", PASSWORD, "admin")
    store.add(evil, PASSWORD, "staff")
    assert store.get(evil).username == evil.lower()  # stored as written, case-folded
    assert store.authenticate(evil, PASSWORD).role == "staff"
    with pytest.raises(SignInFailed):
        store.authenticate("' OR '1'='1", "' OR '1'='1")
    store.set_role(evil, "admin")
    store.remove(evil)
    assert [u.username for u in store.list()] == ["alice"]  # the table is still there


def test_bad_names_passwords_and_roles_are_refused(store):
    for name, password, role, message in [
        ("", PASSWORD, "staff", "empty"),
        ("x" * 65, PASSWORD, "staff", "longer than"),
        ("a\tb", PASSWORD, "staff", "control"),
        ("bob", "short", "staff", "at least 8"),
        ("bob", "长" * 25, "staff", "72 bytes"),
        ("bob", "pass\0word", "staff", "NUL"),
        ("bob", PASSWORD, "owner", "Unknown role"),
    ]:
        with pytest.raises(ValueError, match=message):
            store.add(name, password, role)
    assert store.count() == 0


def test_password_change_works_and_clears_the_lock(store, clock):
    store.add("alice", PASSWORD, "admin")
    for _ in range(auth.MAX_FAILURES):
        with pytest.raises(SignInFailed):
            store.authenticate("alice", "wrong password")
    store.set_password("alice", "a new password")
    assert store.authenticate("alice", "a new password").username == "alice"
    with pytest.raises(SignInFailed):
        store.authenticate("alice", PASSWORD)


# -- roles and modes ---------------------------------------------------------------------------------
def test_roles_decide_pages_and_controls():
    admin, staff = Access(auth.User("a", "admin", 0, 0), True), Access(auth.User("s", "staff", 0, 0), True)
    assert all(admin.can(page) for page in auth.PAGES) and admin.can("sampling") and admin.can("audit")
    assert [p for p in auth.PAGES if staff.can(p)] == ["home", "chat", "writer", "support", "calculator"]
    assert not staff.can("knowledge") and not staff.can("model") and not staff.can("sampling")
    anonymous = Access(None, True)
    assert not any(anonymous.can(p) for p in auth.PAGES)
    assert [p for p in auth.PAGES if Access(None, True, public_support=True).can(p)] == ["support"]
    assert Access(None, False).role == "admin" and Access(None, False).can("model")  # sign-in off: as before


def test_sign_in_modes(store, settings):
    from dataclasses import replace

    assert not auth.sign_in_required(settings, store)  # auto, nobody yet
    assert auth.sign_in_required(replace(settings, auth="required"), store)
    store.add("alice", PASSWORD, "admin")
    assert auth.sign_in_required(settings, store)
    assert not auth.sign_in_required(replace(settings, auth="OFF"), store)
    with pytest.raises(ValueError, match="APP_AUTH"):
        auth.sign_in_required(replace(settings, auth="yes"), store)
    with pytest.raises(ValueError, match="APP_PUBLIC_SUPPORT"):
        auth.public_support(replace(settings, public_support="true"))
    assert settings.session_minutes == 480 and not auth.public_support(settings)


# -- sessions ------------------------------------------------------------------------------------------
def test_sessions_expire_after_their_lifetime(store, clock):
    user = store.add("alice", PASSWORD, "admin")
    clock.now += 5
    session = auth.start_session(user, clock.now)
    assert set(session) == {"username", "signed_in_at"}
    assert auth.resume_session(session, store, 60, clock.now + 59 * 60).username == "alice"
    assert auth.resume_session(session, store, 60, clock.now + 60 * 60) is None
    assert auth.resume_session(None, store, 60, clock.now) is None


def test_sessions_end_when_the_account_changes(store, clock):
    store.add("alice", PASSWORD, "admin")
    user = store.add("bob", PASSWORD, "admin")
    clock.now += 5
    session = auth.start_session(user, clock.now)
    store.set_role("bob", "staff")
    assert auth.resume_session(session, store, 60, clock.now).role == "staff"  # the current role, not the old one
    store.set_disabled("bob", True)
    assert auth.resume_session(session, store, 60, clock.now) is None
    store.set_disabled("bob", False)
    clock.now += 5
    store.set_password("bob", "another password")
    assert auth.resume_session(session, store, 60, clock.now) is None
    fresh = auth.start_session(store.get("bob"), clock.now + 1)
    store.remove("bob")
    assert auth.resume_session(fresh, store, 60, clock.now + 1) is None


# -- audit log ---------------------------------------------------------------------------------------
def test_audit_log_keeps_the_newest_first(settings):
    audit.record(settings.db_path, "alice", "kb.ingest", "faq.csv", {"entries": 3}, now=1.0)
    audit.record(settings.db_path, "bob", "kb.delete", "faq.csv", now=2.0)
    entries = audit.recent(settings.db_path, limit=1)
    assert entries == [{"ts": 2.0, "username": "bob", "action": "kb.delete", "target": "faq.csv", "detail": {}}]
    assert len(audit.recent(settings.db_path)) == 2
    assert audit.cli_user().startswith("cli:")


# -- CLI ----------------------------------------------------------------------------------------------
def cli(capsys, monkeypatch, *argv, stdin: str = ""):
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, json.loads(captured.out), captured.err


@pytest.fixture
def fast_hashes(monkeypatch):
    monkeypatch.setattr(auth, "BCRYPT_ROUNDS", 4)


def test_cli_manages_users_and_audits_every_change(capsys, monkeypatch, settings, fast_hashes):
    code, out, _ = cli(
        capsys,
        monkeypatch,
        "users",
        "add",
        "Alice",
        "--role",
        "admin",
        "--password-stdin",
        "--json",
        stdin=PASSWORD + "\n",
    )
    assert code == 0 and out["user"]["username"] == "alice" and out["user"]["role"] == "admin"
    code, out, _ = cli(
        capsys,
        monkeypatch,
        "users",
        "add",
        "bob",
        "--role",
        "staff",
        "--password-stdin",
        "--json",
        stdin="another password\n",
    )
    assert code == 0
    code, out, _ = cli(capsys, monkeypatch, "users", "list", "--json")
    assert [(u["username"], u["role"]) for u in out["users"]] == [("alice", "admin"), ("bob", "staff")]
    assert "password" not in json.dumps(out)
    code, out, _ = cli(capsys, monkeypatch, "users", "remove", "alice", "--json")
    assert code == 2 and "last admin" in out["error"]
    code, out, _ = cli(capsys, monkeypatch, "users", "set-role", "alice", "staff", "--json")
    assert code == 2 and "last admin" in out["error"]
    code, out, _ = cli(capsys, monkeypatch, "users", "set-role", "BOB", "admin", "--json")
    assert code == 0 and out == {"user": "bob", "role": "admin"}
    code, out, _ = cli(capsys, monkeypatch, "users", "set-role", "bob", "root", "--json")
    assert code == 2 and "Unknown role" in out["error"]
    code, out, _ = cli(
        capsys, monkeypatch, "users", "passwd", "bob", "--password-stdin", "--json", stdin="a third password\n"
    )
    assert code == 0 and UserStore(settings.db_path).authenticate("bob", "a third password")
    code, out, _ = cli(capsys, monkeypatch, "users", "remove", "alice", "--json")
    assert code == 0 and out == {"removed": "alice"}
    code, out, _ = cli(
        capsys, monkeypatch, "users", "add", "carol", "--role", "staff", "--password-stdin", "--json", stdin="short\n"
    )
    assert code == 2 and "at least 8" in out["error"]

    code, out, _ = cli(capsys, monkeypatch, "audit", "--json")
    actions = [(e["action"], e["target"]) for e in reversed(out["entries"])]
    assert actions == [
        ("user.add", "alice"),
        ("user.add", "bob"),
        ("user.set_role", "bob"),
        ("user.passwd", "bob"),
        ("user.remove", "alice"),
    ]  # refused changes are not recorded
    assert {e["username"] for e in out["entries"]} == {audit.cli_user()}
    everything = json.dumps(out) + settings.db_path.read_bytes().decode("latin-1")
    assert PASSWORD not in everything and "a third password" not in everything  # secrets never logged


def test_cli_asks_for_the_password_twice_without_stdin_flag(capsys, monkeypatch, fast_hashes):
    answers = iter([PASSWORD, "something else"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    code, out, _ = cli(capsys, monkeypatch, "users", "add", "alice", "--role", "admin", "--json")
    assert code == 2 and out == {"error": "The two passwords differ"}
    monkeypatch.setattr("getpass.getpass", lambda prompt="": PASSWORD)
    code, out, _ = cli(capsys, monkeypatch, "users", "add", "alice", "--role", "admin", "--json")
    assert code == 0


def test_cli_knowledge_base_changes_are_audited(capsys, monkeypatch, seeded_kb_dir, tmp_path):
    doc = tmp_path / "opening-hours.md"
    doc.write_text("# Opening hours\n\nThe tea room is open from 9:00 to 18:00, Monday to Saturday.\n")
    code, out, _ = cli(capsys, monkeypatch, "kb", "ingest", str(doc), "--json")
    assert code == 0 and not out["errors"]
    code, out, _ = cli(capsys, monkeypatch, "kb", "delete", "opening-hours.md", "--json")
    assert code == 0
    code, out, _ = cli(capsys, monkeypatch, "audit", "--limit", "5", "--json")
    entries = list(reversed(out["entries"]))
    assert [(e["action"], e["target"]) for e in entries] == [
        ("kb.ingest", "opening-hours.md"),
        ("kb.delete", "opening-hours.md"),
    ]
    assert entries[0]["username"].startswith("cli:") and entries[0]["detail"]["kb"] == "default"
    assert entries[1]["detail"]["records"] >= 1


def test_cli_finetune_start_is_audited(capsys, monkeypatch, tmp_path):
    import core.finetune.train as train_module

    faq = tmp_path / "faq.csv"
    rows = "\n".join(f"q{i},Question number {i} about tea?,Answer number {i} about tea." for i in range(12))
    faq.write_text("id,question,answer\n" + rows + "\n")

    def no_training(*args, **kwargs):  # the audit entry is written before training starts
        raise KeyboardInterrupt

    monkeypatch.setattr(train_module, "train", no_training)
    out_dir = tmp_path / "adapter"
    code, out, _ = cli(
        capsys, monkeypatch, "finetune", "--out", str(out_dir), "--faq", str(faq), "--max-steps", "1", "--json"
    )
    assert code == 2 and "Stopped" in out["error"]
    code, out, _ = cli(capsys, monkeypatch, "audit", "--json")
    entry = out["entries"][0]
    assert (entry["action"], entry["target"]) == ("finetune.start", str(out_dir))
    assert entry["detail"]["max_steps"] == 1 and entry["detail"]["train_examples"] > 0


# -- throttling per client address -------------------------------------------------------------
def test_a_stranger_guessing_the_admins_password_locks_out_only_the_stranger(store, clock):
    store.add("alice", PASSWORD, "admin")
    stranger, office = "203.0.113.9", "198.51.100.7"
    for _ in range(auth.MAX_FAILURES):
        with pytest.raises(SignInFailed):
            store.authenticate("alice", "guess", stranger)
    with pytest.raises(SignInFailed) as caught:  # the name is locked, at the stranger's address
        store.authenticate("alice", PASSWORD, stranger)
    assert caught.value.retry_after == auth.LOCKOUT_SECONDS
    assert store.authenticate("alice", PASSWORD, office).username == "alice"  # the admin is not


def test_an_address_that_keeps_failing_waits_longer_each_time_up_to_a_cap(store, clock):
    store.add("alice", PASSWORD, "admin")
    address = "203.0.113.9"
    names = (f"user{i}" for i in range(1000))  # a new name each time: the per-name lock never kicks in
    for _ in range(auth.ADDRESS_FREE_FAILURES - 1):
        with pytest.raises(SignInFailed) as caught:
            store.authenticate(next(names), "guess", address)
        assert caught.value.retry_after == 0
    waits = []
    for _ in range(14):
        with pytest.raises(SignInFailed) as caught:
            store.authenticate(next(names), "guess", address)
        waits.append(caught.value.retry_after)
        with pytest.raises(SignInFailed) as refused:  # while it waits: refused, without a password check
            store.authenticate("alice", PASSWORD, address)
        assert refused.value.retry_after == pytest.approx(caught.value.retry_after)
        clock.now += caught.value.retry_after
    assert waits[:5] == [1, 2, 4, 8, 16] and waits[-1] == auth.ADDRESS_MAX_WAIT_SECONDS
    assert all(b >= a for a, b in zip(waits, waits[1:], strict=False))
    assert store.authenticate("alice", PASSWORD, "198.51.100.7").username == "alice"  # others unaffected
    # An hour without failures: the address starts afresh.
    clock.now += auth.ADDRESS_WINDOW_SECONDS + 1
    with pytest.raises(SignInFailed) as caught:
        store.authenticate("alice", "guess", address)
    assert caught.value.retry_after == 0
    assert store.authenticate("alice", PASSWORD, address).username == "alice"


def test_an_address_waiting_costs_no_bcrypt_check(store, clock, monkeypatch):
    address = "203.0.113.9"
    for i in range(auth.ADDRESS_FREE_FAILURES + 1):
        with pytest.raises(SignInFailed):
            store.authenticate(f"user{i}", "guess", address)
    checks = []
    monkeypatch.setattr(auth.bcrypt, "checkpw", lambda *a: checks.append(a) or False)
    with pytest.raises(SignInFailed) as caught:
        store.authenticate("anyone", "guess", address)
    assert caught.value.retry_after > 0 and checks == []


def test_sign_in_page_passes_the_client_address(monkeypatch):
    import ui

    seen = []

    class Store:
        def authenticate(self, username, password, address=None):
            seen.append(address)
            raise SignInFailed()

    monkeypatch.setattr(ui, "user_store", lambda: Store())
    monkeypatch.setattr(ui, "client_address", lambda: "203.0.113.9")
    with pytest.raises(SignInFailed):
        ui.sign_in("alice", "guess")
    assert seen == ["203.0.113.9"]
