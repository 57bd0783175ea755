"""Benchmarks (`make bench`): speed, memory and request counts of the ingest and the lookups,
written to bench/out/ and docs/benchmarks.md. Not part of the app: not packaged, not
type-checked with it."""
