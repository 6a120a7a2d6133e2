"""govcloud: approved 政务云 quotas become applied, isolated stacks.

The pure core (models, compile, planner, graph, pricing, ipam, workdays) imports neither
``drivers`` nor ``orchestrator.state``; side effects live in drivers and the state store.
"""

__version__ = "0.1.0"
