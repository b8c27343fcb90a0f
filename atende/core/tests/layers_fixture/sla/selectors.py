import atende.automation.rules.actions  # forbidden: sla sits below automation
from atende import email_channel  # forbidden: peers in one layer

__all__ = ["atende", "email_channel"]
