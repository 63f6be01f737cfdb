"""UI text: the Content writer page. The table, key: (English, Simplified Chinese), is data in core/i18n/writer.toml."""

from core.i18n.tables import load_table

STRINGS = load_table("writer")
