"""`python -m generator` runs the cgen command."""

from generator.cli import main

main()
