"""typer commands: parse -> one use-case call -> render (rich or --output json)."""
