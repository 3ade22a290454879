"""Benchmarks of Over Achiever against framework-free floors: run with `scripts/bench`."""
