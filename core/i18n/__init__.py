"""UI text in English and Chinese (简体; 繁體 converted from it): `ui` looks keys up; the strings live
in one table per part of the app (`app`, `chat`, `support`, … `calc`, `model`)."""
