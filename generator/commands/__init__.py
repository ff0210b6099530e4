"""Extra CLI commands, one module each, every module exposing register(app).

cli.py imports each module named in COMMANDS; a module imports its heavy dependencies
inside the command functions so that `cgen render` stays quick to start.
"""

from __future__ import annotations

COMMANDS = ("network", "images", "seccomp")
