"""Configuration: schema, loader (defaults < file < env < flags) and secret references."""
