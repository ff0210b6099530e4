"""Text templates shipped with cgen (data only; a package so the wheel carries it)."""
