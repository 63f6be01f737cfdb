"""The HTTP API and the website widget (core/api/app.py); API keys (core/api/keys.py)."""
