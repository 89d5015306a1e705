"""Benchmarks whose figures go into the README's table (run with ./dev bench)."""
