"""Streamlit pieces of the Cost & market calculator page (pages/calculator.py composes them).

Kept out of `core/` (which never imports Streamlit); every number comes from `core.economics`.
"""
