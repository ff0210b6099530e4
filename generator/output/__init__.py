"""The output folder: the journaled writer, its state files, and the no-change fast path."""
