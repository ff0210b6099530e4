"""Installed copies of templates/ and profiles/ (mapped here by pyproject.toml)."""
