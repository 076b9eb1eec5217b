"""handnet's lessons: runnable modules, `python -m lessons.<name>` from the project root."""
