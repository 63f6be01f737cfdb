"""UI text: the Chat page. The table, key: (English, Simplified Chinese), is data in core/i18n/chat.toml."""

from core.i18n.tables import load_table

STRINGS = load_table("chat")
