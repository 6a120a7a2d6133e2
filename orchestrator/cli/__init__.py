"""typer commands: parse -> one service call -> render (rich or --output json)."""
