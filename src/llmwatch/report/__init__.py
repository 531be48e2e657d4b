"""`llmwatch report`: build (store queries -> Report) and render (table, json, markdown, html)."""
