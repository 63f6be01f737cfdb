"""`python -m core cost ...`: training, serving and GPU catalogue estimates."""

from __future__ import annotations


def register(sub, add) -> None:
    """Add this module's sub-commands to the top-level parser (`add` is cli.build_parser's helper)."""
