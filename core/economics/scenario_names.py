"""What a saved scenario may be called: the calculator's rule, with its reasons as InputErrors (which
the UI says in its own language). Pure: the store (`core.storage.scenarios`) is given this check."""

from __future__ import annotations

from collections.abc import Iterable

from core.economics.messages import InputError

MAX_NAME = 80


def scenario_name(name: str, reserved: Iterable[str] = ()) -> str:
    """The name as saved (spaces tidied), or an InputError: empty, too long, control characters, or
    one of `reserved` (labels the calculator gives things that are not saved scenarios, in any case)."""
    name = " ".join((name or "").split())
    if not name:
        raise InputError("name_empty")
    if len(name) > MAX_NAME:
        raise InputError("name_long", max=MAX_NAME)
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise InputError("name_control")
    if name.casefold() in {r.casefold() for r in reserved}:
        raise InputError("name_reserved", name=name)
    return name
