"""Benchmarks with targets (DESIGN.md: 10⁴–3·10⁵ complaints a year, 3·10⁶ cases on one server); `make bench`."""
