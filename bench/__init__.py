"""Benchmarks of the generated server, client and generator against their alternatives (issue 6)."""
