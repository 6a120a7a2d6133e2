"""pydantic v2 models: frozen, extra="forbid"; validation only, no I/O."""
