"""The command line, `python -m core ...`: the parser and dispatch (`main`), output helpers every
command shares (`common`), and one module per command family."""
