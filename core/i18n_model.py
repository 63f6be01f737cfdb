"""UI text for the Model page. key: (English, Simplified Chinese); merged into core.i18n.STRINGS."""

STRINGS: dict[str, tuple[str, str]] = {
}
