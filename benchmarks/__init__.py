"""Benchmarks of popool against the embedded demo portal (not part of the installed package)."""
