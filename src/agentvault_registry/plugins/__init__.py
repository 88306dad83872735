"""Built-in feature plugins, one package each."""
