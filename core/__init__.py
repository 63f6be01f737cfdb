"""AI Business Studio core: everything the pages and the CLI share. Never imports Streamlit."""
