"""The HTTP API and the website widget (core/api/app.py `create_app`, one router per feature in
core/api/routes_*.py); API keys (core/api/keys.py)."""
