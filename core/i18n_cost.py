"""UI text for the Cost & market calculator page. key: (English, Simplified Chinese); merged into core.i18n.STRINGS."""

STRINGS: dict[str, tuple[str, str]] = {
}
