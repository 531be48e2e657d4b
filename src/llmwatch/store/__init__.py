"""The embedded local store: one SQLite file of finished spans that ``llmwatch report`` reads."""
