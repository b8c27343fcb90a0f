"""Text classification for triage: features, the model, and its evaluation. Plain Python and scikit-learn only:
nothing here touches the database, so the same code serves ``atende triage evaluate`` on a CSV file and the
desk's own model."""
