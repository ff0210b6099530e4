"""The package the python profile ships (appFiles: app) and `python3 -m app` runs."""
