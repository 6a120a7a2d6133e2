"""`python -m orchestrator.cli` runs the govcloud CLI."""
from .app import main

main()
