"""Every write of the on-call app, one module per responsibility (import from those)."""
