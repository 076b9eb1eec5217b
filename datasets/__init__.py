"""Shipped data files; installed as the package ``handnet._data`` (see datasets/README.md)."""
