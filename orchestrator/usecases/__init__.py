"""One-way use cases: one module per command family, each function a command's whole work
(the workspace lock, state and drivers held through usecases.session), returning a result
value for the CLI to render. They take the clock (``today`` / ``now``) as a parameter; the
CLI reads it. Nothing here imports the CLI, and the core imports nothing here."""
