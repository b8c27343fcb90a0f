"""One outbound delivery engine for every message that leaves Atende (mail, webhooks, messaging apps)."""
