"""``python -m handnet ...`` runs the handnet command (see handnet.cli)."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
