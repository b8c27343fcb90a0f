"""SLA writes: calendars and policies (definitions) and the per-ticket clocks (clocks)."""
