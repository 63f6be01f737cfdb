"""`python -m core users ...` (staff accounts) and `python -m core audit` (the audit log).

    python -m core users add NAME --role admin|staff [--password-stdin]
    python -m core users list | remove NAME | set-role NAME ROLE | passwd NAME [--password-stdin]
    python -m core users disable NAME | enable NAME
    python -m core audit [--limit N]

Passwords are asked for with getpass (typed twice) or read as one line from stdin, never taken
from the command line, where other users of the machine and the shell history would see them.
Every change is recorded in the audit log as `cli:<OS user>`.
"""

from __future__ import annotations

import getpass
import json
import sys
from datetime import datetime

from core.cli.common import add_command, audit, print_result
from core.storage.audit import recent
from core.storage.auth import UserStore, canonical_username


def _read_password(args) -> str:
    if args.password_stdin:
        line = sys.stdin.readline()
        if not line:
            raise ValueError("--password-stdin: nothing on standard input")
        return line.rstrip("\r\n")
    try:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat the password: ") != password:
            raise ValueError("The two passwords differ")
    except EOFError:
        raise ValueError("No password given (use --password-stdin to pipe one in)") from None
    return password


def _store(settings):
    return UserStore(settings.db_path)


def cmd_users_add(args, settings):
    store = _store(settings)
    user = store.add(args.name, _read_password(args), args.role)
    audit(settings, "user.add", user.username, {"role": user.role})
    print_result(args, {"user": user.as_dict()}, f"Added {user.username} ({user.role})")


def cmd_users_list(args, settings):
    users = _store(settings).list()
    lines = [
        f"{u.username:30} {u.role:6} {'disabled' if u.disabled else 'active':8} since "
        f"{datetime.fromtimestamp(u.created_at):%Y-%m-%d %H:%M}"
        for u in users
    ]
    print_result(
        args,
        {"users": [u.as_dict() for u in users]},
        "\n".join(lines) or "No users yet: with APP_AUTH=auto the app is open without sign-in.",
    )


def cmd_users_remove(args, settings):

    _store(settings).remove(args.name)
    name = canonical_username(args.name)
    audit(settings, "user.remove", name)
    print_result(args, {"removed": name}, f"Removed {name}")


def cmd_users_set_role(args, settings):

    _store(settings).set_role(args.name, args.role)
    name = canonical_username(args.name)
    audit(settings, "user.set_role", name, {"role": args.role})
    print_result(args, {"user": name, "role": args.role}, f"{name} is now {args.role}")


def cmd_users_passwd(args, settings):

    store = _store(settings)
    name = canonical_username(args.name)
    if store.get(name) is None:  # before asking for a password that would be thrown away
        raise ValueError(f"No user named {name!r}")
    store.set_password(name, _read_password(args))
    audit(settings, "user.passwd", name)  # that it changed, never what to
    print_result(args, {"user": name, "password_changed": True}, f"Password changed for {name}; their sessions end")


def _set_disabled(args, settings, disabled: bool):

    _store(settings).set_disabled(args.name, disabled)
    name = canonical_username(args.name)
    audit(settings, "user.disable" if disabled else "user.enable", name)
    print_result(args, {"user": name, "disabled": disabled}, f"{name} is {'disabled' if disabled else 'enabled'}")


def cmd_users_disable(args, settings):
    _set_disabled(args, settings, True)


def cmd_users_enable(args, settings):
    _set_disabled(args, settings, False)


def cmd_audit(args, settings):
    if args.limit < 1:
        raise ValueError("--limit must be at least 1")
    entries = recent(settings.db_path, args.limit)
    lines = [
        f"{datetime.fromtimestamp(e['ts']):%Y-%m-%d %H:%M:%S}  {e['username']:20} {e['action']:20} "
        f"{e['target']}  {json.dumps(e['detail'], ensure_ascii=False) if e['detail'] else ''}"
        for e in entries
    ]
    print_result(args, {"entries": entries}, "\n".join(lines) or "The audit log is empty.")


def register(sub) -> None:
    """Add this module's sub-commands to the top-level parser."""
    add = add_command
    users = sub.add_parser("users", help="staff accounts: sign-in and roles").add_subparsers(
        dest="action", required=True
    )

    def password_option(p):
        p.add_argument(
            "--password-stdin",
            action="store_true",
            help="read the password as one line from standard input instead of asking",
        )

    # Roles are checked in core.storage.auth, not by argparse, so a bad one becomes {"error": ...} with --json.
    p = add(users, "add", cmd_users_add, "add a user (the first admin turns sign-in on)")
    p.add_argument("name")
    p.add_argument("--role", required=True, help="admin or staff")
    password_option(p)
    add(users, "list", cmd_users_list, "list users and their roles")
    p = add(users, "remove", cmd_users_remove, "remove a user (not the last admin)")
    p.add_argument("name")
    p = add(users, "set-role", cmd_users_set_role, "make a user admin or staff")
    p.add_argument("name")
    p.add_argument("role", help="admin or staff")
    p = add(users, "passwd", cmd_users_passwd, "set a user's password (ends their sessions)")
    p.add_argument("name")
    password_option(p)
    p = add(users, "disable", cmd_users_disable, "stop a user signing in, keeping the account")
    p.add_argument("name")
    p = add(users, "enable", cmd_users_enable, "let a disabled user sign in again")
    p.add_argument("name")

    p = add(sub, "audit", cmd_audit, "the newest entries of the audit log of admin actions")
    p.add_argument("--limit", type=int, default=50)
