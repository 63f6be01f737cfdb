"""Staff accounts, sign-in, roles and sessions (no Streamlit here; ui.py and app.py use it).

- Passwords are hashed with bcrypt (a salt per hash, cost 12). Checking a password always costs
  one bcrypt check, also for an unknown or disabled user, so timing does not reveal who exists.
- Sign-in is throttled per client address and per user name at that address (the counts live in
  the database, so a browser rerun or a second tab does not reset them):
  - an address gets ADDRESS_FREE_FAILURES wrong sign-ins (any names), then waits before each next
    try, the wait doubling from 1 s up to ADDRESS_MAX_WAIT_SECONDS; it is refused without a
    password check while it waits, and forgotten ADDRESS_WINDOW_SECONDS after its last failure;
  - after MAX_FAILURES wrong passwords for one name from one address, that name is locked for
    LOCKOUT_SECONDS at that address only: a stranger guessing the admin's password locks the
    stranger out, never the admin at their own address.
- Roles: `ACCESS` below is the one place that says which pages and controls each role gets.
- A session lasts `session_minutes` from sign-in (an absolute lifetime, not an idle timer), and
  ends early when the user is removed or disabled or their password changes.
"""

from __future__ import annotations

import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import bcrypt

from core.storage.db import connect
from core.storage.schema import migrate

ROLES = ("admin", "staff")
PAGES = ("home", "chat", "writer", "support", "calculator", "knowledge", "model", "admin")
STAFF_PAGES = ("home", "chat", "writer", "support", "calculator")
# Admin-only controls inside pages that staff may open.
ADMIN_CONTROLS = ("sampling", "audit")
ACCESS: dict[str, frozenset[str]] = {
    "admin": frozenset(PAGES + ADMIN_CONTROLS),
    "staff": frozenset(STAFF_PAGES),
}
PUBLIC_PAGE = "support"  # reachable without sign-in when APP_PUBLIC_SUPPORT=on

AUTH_MODES = ("auto", "required", "off")
MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_BYTES = 72  # bcrypt's limit: it would silently ignore the rest
MAX_USERNAME_CHARS = 64
MAX_FAILURES = 5
LOCKOUT_SECONDS = 30
FAILURE_WINDOW_SECONDS = 15 * 60  # failures older than this are forgotten
ADDRESS_FREE_FAILURES = 10  # wrong sign-ins an address gets before it has to wait
ADDRESS_MAX_WAIT_SECONDS = 15 * 60  # the longest wait (doubling from 1 s)
ADDRESS_WINDOW_SECONDS = 60 * 60  # an address's failures are forgotten this long after its last one
UNKNOWN_ADDRESS = "-"  # the CLI, tests, a browser on the same machine: one shared bucket
BCRYPT_ROUNDS = 12  # ~0.25 s per check on a 2-core VM


@dataclass(frozen=True)
class User:
    username: str
    role: str
    created_at: float
    password_changed_at: float
    disabled: bool = False

    def as_dict(self) -> dict:  # never includes the password hash
        return {"username": self.username, "role": self.role, "created_at": self.created_at, "disabled": self.disabled}


class SignInFailed(Exception):
    """Wrong user name or password (deliberately not saying which), or locked for a while."""

    def __init__(self, retry_after: float = 0.0):
        self.retry_after = retry_after
        super().__init__(f"Locked: try again in {retry_after:.0f} s" if retry_after else "Wrong user name or password")


# -- roles ----------------------------------------------------------------------------------------
def allowed(role: str | None, key: str, public_support: bool = False) -> bool:
    """May this role (None = not signed in) open page or control `key`?"""
    if role is None:
        return public_support and key == PUBLIC_PAGE
    return key in ACCESS.get(role, frozenset())


def _choice(value: str, options: tuple[str, ...], setting: str) -> str:
    value = (value or "").strip().lower()
    if value not in options:
        raise ValueError(f"Setting {setting}={value!r} must be one of: {', '.join(options)}")
    return value


def auth_mode(settings) -> str:
    return _choice(settings.auth, AUTH_MODES, "APP_AUTH")


def public_support(settings) -> bool:
    return _choice(settings.public_support, ("on", "off"), "APP_PUBLIC_SUPPORT") == "on"


def sign_in_required(settings, store: UserStore) -> bool:
    """auto: only once a user exists (a fresh install stays open to its one local user)."""
    mode = auth_mode(settings)
    return mode == "required" or (mode == "auto" and store.count() > 0)


@dataclass(frozen=True)
class Access:
    """What the person behind one browser session may do, worked out once per page run."""

    user: User | None
    sign_in_required: bool
    public_support: bool = False

    @property
    def role(self) -> str | None:
        if not self.sign_in_required:
            return "admin"  # sign-in off: the app is open to whoever runs it, as before sign-in existed
        return self.user.role if self.user else None

    def can(self, key: str) -> bool:
        return allowed(self.role, key, self.public_support)


# -- names and passwords ------------------------------------------------------------------------
def canonical_username(name: str) -> str:
    """'  Alice ' and 'ALICE' are the same user: NFKC, trimmed, case-folded."""
    return unicodedata.normalize("NFKC", name or "").strip().casefold()


def validate_username(name: str) -> str:
    key = canonical_username(name)
    if not key:
        raise ValueError("The user name is empty")
    if len(key) > MAX_USERNAME_CHARS:
        raise ValueError(f"The user name is longer than {MAX_USERNAME_CHARS} characters")
    if any(unicodedata.category(c).startswith("C") for c in key):
        raise ValueError("The user name contains control characters")
    return key


def validate_password(password: str) -> bytes:
    if len(password or "") < MIN_PASSWORD_CHARS:
        raise ValueError(f"The password must have at least {MIN_PASSWORD_CHARS} characters")
    raw = password.encode("utf-8")
    if len(raw) > MAX_PASSWORD_BYTES:
        raise ValueError(f"The password is longer than {MAX_PASSWORD_BYTES} bytes (bcrypt's limit)")
    if b"\0" in raw:
        raise ValueError("The password contains a NUL character")
    return raw


def validate_role(role: str) -> str:
    if role not in ROLES:
        raise ValueError(f"Unknown role {role!r}: choose {' or '.join(ROLES)}")
    return role


def _password_matches(password: str, password_hash: bytes) -> bool:
    """One full bcrypt check whatever the input (bcrypt compares in constant time)."""
    raw = (password or "").encode("utf-8")
    usable = len(raw) <= MAX_PASSWORD_BYTES and b"\0" not in raw
    matches = bcrypt.checkpw(raw if usable else b"-" * MAX_PASSWORD_BYTES, password_hash)
    return matches and usable


# -- the store ------------------------------------------------------------------------------------
class UserStore:
    """Users and sign-in failures in the app's SQLite database. Every query is parameterised."""

    def __init__(self, db_path: Path, rounds: int | None = None, clock=time.time):
        self.db_path = db_path
        self.rounds = rounds or BCRYPT_ROUNDS  # tests pass a low cost
        self.clock = clock
        self._dummy_hash: bytes | None = None
        migrate(db_path)

    def _hash(self, raw: bytes) -> str:
        return bcrypt.hashpw(raw, bcrypt.gensalt(self.rounds)).decode("ascii")

    def _stand_in_hash(self, conn) -> bytes:
        """What an unknown user's password is checked against: another user's real hash (the same
        cost, nothing to compute first); before any user exists, one made once at the store's cost."""
        row = conn.execute("SELECT password_hash FROM users LIMIT 1").fetchone()
        if row is not None:
            return row["password_hash"].encode("ascii")
        if self._dummy_hash is None:
            self._dummy_hash = bcrypt.hashpw(b"no such user", bcrypt.gensalt(self.rounds))
        return self._dummy_hash

    @staticmethod
    def _user(row) -> User:
        return User(row["username"], row["role"], row["created_at"], row["password_changed_at"], bool(row["disabled"]))

    # reading
    def count(self) -> int:
        with connect(self.db_path) as conn:
            return conn.execute("SELECT COUNT(*) FROM users").fetchone()[0]

    def list(self) -> list[User]:
        with connect(self.db_path) as conn:
            rows = conn.execute("SELECT * FROM users ORDER BY username").fetchall()
        return [self._user(r) for r in rows]

    def get(self, username: str) -> User | None:
        with connect(self.db_path) as conn:
            row = conn.execute("SELECT * FROM users WHERE username = ?", (canonical_username(username),)).fetchone()
        return self._user(row) if row else None

    # changing
    def add(self, username: str, password: str, role: str) -> User:
        key, raw, role = validate_username(username), validate_password(password), validate_role(role)
        now = self.clock()
        hashed = self._hash(raw)
        with connect(self.db_path) as conn:
            if conn.execute("SELECT 1 FROM users WHERE username = ?", (key,)).fetchone():
                raise ValueError(f"A user named {key!r} already exists")
            if role != "admin" and not conn.execute("SELECT 1 FROM users WHERE role = 'admin'").fetchone():
                # The first account turns sign-in on: without an admin, nobody could open the admin pages.
                raise ValueError("Add an admin first: the first user must have --role admin")
            conn.execute(
                "INSERT INTO users (username, role, password_hash, created_at, password_changed_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (key, role, hashed, now, now),
            )
        return User(key, role, now, now)

    def set_password(self, username: str, password: str) -> None:
        raw = validate_password(password)
        hashed = self._hash(raw)
        with connect(self.db_path) as conn:
            cur = conn.execute(
                "UPDATE users SET password_hash = ?, password_changed_at = ? WHERE username = ?",
                (hashed, self.clock(), canonical_username(username)),
            )
            if cur.rowcount == 0:
                raise ValueError(f"No user named {canonical_username(username)!r}")
            conn.execute("DELETE FROM sign_in_user_failures WHERE username = ?", (canonical_username(username),))

    def remove(self, username: str) -> None:
        self._change(username, "DELETE FROM users WHERE username = ?", (), keeps_admin=False)

    def set_role(self, username: str, role: str) -> None:
        validate_role(role)
        self._change(username, "UPDATE users SET role = ? WHERE username = ?", (role,), keeps_admin=role == "admin")

    def set_disabled(self, username: str, disabled: bool) -> None:
        self._change(
            username, "UPDATE users SET disabled = ? WHERE username = ?", (int(disabled),), keeps_admin=not disabled
        )

    def _change(self, username: str, sql: str, params: tuple, keeps_admin: bool) -> None:
        """Run one change to a user, refusing one that would leave no enabled admin."""
        key = canonical_username(username)
        with connect(self.db_path) as conn:
            conn.execute("BEGIN IMMEDIATE")  # count and change in one write lock: two demotions cannot race
            row = conn.execute("SELECT role, disabled FROM users WHERE username = ?", (key,)).fetchone()
            if row is None:
                raise ValueError(f"No user named {key!r}")
            if row["role"] == "admin" and not row["disabled"] and not keeps_admin:
                admins = conn.execute("SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled = 0").fetchone()[0]
                if admins <= 1:
                    raise ValueError(f"{key!r} is the last admin: add another admin first")
            conn.execute(sql, (*params, key))

    # signing in
    def authenticate(self, username: str, password: str, address: str | None = None) -> User:
        """The user, or SignInFailed. Unknown, disabled and wrong-password cost the same time.
        `address`: the client's (ui.client_address); None counts as one shared unknown address."""
        key = canonical_username(username)
        address = (address.strip()[:64] if isinstance(address, str) else "") or UNKNOWN_ADDRESS
        now = self.clock()
        with connect(self.db_path) as conn:
            waits = conn.execute(
                "SELECT blocked_until FROM sign_in_address_failures WHERE address = ? "
                "UNION ALL SELECT locked_until FROM sign_in_user_failures WHERE username = ? AND address = ?",
                (address, key, address),
            ).fetchall()
            row = conn.execute("SELECT * FROM users WHERE username = ?", (key,)).fetchone()
            stored = row["password_hash"].encode("ascii") if row else self._stand_in_hash(conn)
        wait = max([w[0] - now for w in waits], default=0.0)
        if wait > 0:  # refused before the password check: a waiting address costs no bcrypt time
            raise SignInFailed(retry_after=wait)
        if _password_matches(password, stored) and row is not None and not row["disabled"]:
            with connect(self.db_path) as conn:
                conn.execute("DELETE FROM sign_in_user_failures WHERE username = ? AND address = ?", (key, address))
            return self._user(row)
        retry_after = self._record_failure(key, address, now)
        raise SignInFailed(retry_after=retry_after)

    def _record_failure(self, key: str, address: str, now: float) -> float:
        """Count a failure for the address and for the name at that address. Returns how long this
        address must now wait (0: it may try again at once). Unknown names are counted too, so a
        lock-out does not reveal whether a user exists."""
        with connect(self.db_path) as conn:
            conn.execute("BEGIN IMMEDIATE")  # count and lock in one step: two tabs cannot both slip through
            conn.execute(
                "DELETE FROM sign_in_user_failures WHERE last_failure < ? AND locked_until < ?",
                (now - FAILURE_WINDOW_SECONDS, now),
            )
            conn.execute(
                "DELETE FROM sign_in_address_failures WHERE last_failure < ? AND blocked_until < ?",
                (now - ADDRESS_WINDOW_SECONDS, now),
            )
            conn.execute(
                "INSERT INTO sign_in_address_failures (address, failures, last_failure) VALUES (?, 1, ?) "
                "ON CONFLICT(address) DO UPDATE SET failures = failures + 1, last_failure = excluded.last_failure",
                (address, now),
            )
            conn.execute(
                "INSERT INTO sign_in_user_failures (username, address, failures, last_failure) VALUES (?, ?, 1, ?) "
                "ON CONFLICT(username, address) DO UPDATE SET failures = failures + 1, "
                "last_failure = excluded.last_failure",
                (key, address, now),
            )
            by_address = conn.execute(
                "SELECT failures FROM sign_in_address_failures WHERE address = ?", (address,)
            ).fetchone()[0]
            by_name = conn.execute(
                "SELECT failures FROM sign_in_user_failures WHERE username = ? AND address = ?", (key, address)
            ).fetchone()[0]
            address_wait = address_backoff(by_address)
            if address_wait:
                conn.execute(
                    "UPDATE sign_in_address_failures SET blocked_until = ? WHERE address = ?",
                    (now + address_wait, address),
                )
            name_wait = 0.0
            if by_name >= MAX_FAILURES:
                name_wait = float(LOCKOUT_SECONDS)
                conn.execute(
                    "UPDATE sign_in_user_failures SET failures = 0, locked_until = ? WHERE username = ? AND address = ?",
                    (now + name_wait, key, address),
                )
        return max(address_wait, name_wait)


def address_backoff(failures: int) -> float:
    """How long an address waits after its `failures`-th wrong sign-in: nothing before the
    ADDRESS_FREE_FAILURES-th, then 1 s, 2 s, 4 s … up to ADDRESS_MAX_WAIT_SECONDS."""
    extra = failures - ADDRESS_FREE_FAILURES
    if extra < 0:
        return 0.0
    return float(min(ADDRESS_MAX_WAIT_SECONDS, 2 ** min(extra, 30)))


# -- sessions ---------------------------------------------------------------------------------------
def start_session(user: User, now: float) -> dict:
    """What a browser session keeps after signing in (no password, no hash)."""
    return {"username": user.username, "signed_in_at": now}


def session_expired(session: dict, minutes: int, now: float) -> bool:
    return now - session["signed_in_at"] >= minutes * 60


def resume_session(session: dict | None, store: UserStore, minutes: int, now: float) -> User | None:
    """The session's user with their current role, or None when the session has ended: expired,
    user removed or disabled, or password changed since signing in."""
    if not session or session_expired(session, minutes, now):
        return None
    user = store.get(session["username"])
    if user is None or user.disabled or user.password_changed_at > session["signed_in_at"]:
        return None
    return user
