"""Pure SLA logic (no Django): business calendars, response-target policies, clocks."""
