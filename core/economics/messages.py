"""The engine's words, each with a stable code: errors (InputError) and explanation lines (Message).

The English text of a code lives in core.i18n_cost under "calc.msg.<code>", next to its Chinese, so
`str(error)` stays plain English for the command line and logs, while a page shows the reader's
language with `localise(error, lookup)`. Parameters named in LABEL_PARAMS hold a key, not a value
(e.g. what="seat_churn"): they are replaced by that key's label in the same language.
"""

from __future__ import annotations

from typing import Callable

from core.i18n_cost import STRINGS

MSG_PREFIX = "calc.msg."
LABEL_PARAMS = {"what": "calc.field.", "driver": "calc.driver.", "bound": "calc.bound."}


def english(key: str) -> str:
    return STRINGS[key][0]


def render(code: str, params: dict, lookup: Callable[[str], str] = english) -> str:
    """The text of `code` with `params` filled in; lookup(key) gives a template in some language."""
    values = {k: (lookup(LABEL_PARAMS[k] + str(v)) if k in LABEL_PARAMS else v) for k, v in params.items()}
    return lookup(MSG_PREFIX + code).format(**values)


class InputError(ValueError):
    """An input no model can have. A ValueError (callers catch those) whose text is English; `code`
    and `params` let a user interface say the same thing in its own language."""

    def __init__(self, code: str, **params):
        self.code, self.params = code, params
        super().__init__(render(code, params))

    def __reduce__(self):
        return _input_error, (self.code, self.params)


class Message(str):
    """A line of explanation: an English str (JSON, CLI, tests) that also carries its code and params."""

    code: str
    params: dict

    def __new__(cls, code: str, **params):
        obj = super().__new__(cls, render(code, params))
        obj.code, obj.params = code, params
        return obj

    def __reduce__(self):
        return _message, (self.code, self.params)

    def __deepcopy__(self, memo):
        return self


def _input_error(code: str, params: dict) -> InputError:
    return InputError(code, **params)


def _message(code: str, params: dict) -> Message:
    return Message(code, **params)


def localise(obj, lookup: Callable[[str], str]) -> str:
    """An InputError or Message in the language of `lookup`; anything else as str(obj)."""
    code, params = getattr(obj, "code", None), getattr(obj, "params", None)
    if not isinstance(code, str) or not isinstance(params, dict):
        return str(obj)
    try:
        return render(code, params, lookup)
    except (KeyError, IndexError, ValueError):  # a translation missing or malformed: the English is still right
        return str(obj)
