"""Data files shipped with llmwatch (tokenizer encodings)."""
