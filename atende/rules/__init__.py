"""The rule language shared by automation and SLA policies: condition fields and operators, the context a
ticket is judged in, placeholders, action validation and description, the preview against a real ticket, and
the settings-page base both apps' pages use. Applying actions (``actions_apply``) stays in automation: it is the
only part that writes tickets."""
