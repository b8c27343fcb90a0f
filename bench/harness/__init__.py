"""The benchmark harness behind `make bench` and `make bench-peer` (not part of the product)."""
