"""Keys and signatures: the provider's own key (plans, certificates, audit checkpoints) and,
kept apart from it, the bureau's keyring for approvals (separation of duties)."""
