"""Command line: one module per noun; `main.py` wires them into `shinsei`."""
