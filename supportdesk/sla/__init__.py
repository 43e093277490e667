"""SLA: calendars, response-target policies, clocks and breach sweeps (S-1..S-5)."""
