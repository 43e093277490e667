"""Pure billing rules (no Django, no clock): money, periods, prices, dunning, billing runs,
hourly work. See docs/billing.md."""
