"""UI text: the app shell, the home page, sign-in and roles, the audit log. The table, key: (English,
Simplified Chinese), is data in core/i18n/app.toml."""

from core.i18n.tables import load_table

STRINGS = load_table("app")
