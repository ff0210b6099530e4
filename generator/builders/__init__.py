"""One module per artifact kind; each a pure function from the validated project to data."""
