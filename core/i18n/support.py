"""UI text: the Customer service and Knowledge base pages. The table, key: (English, Simplified
Chinese), is data in core/i18n/support.toml."""

from core.i18n.tables import load_table

STRINGS = load_table("support")
