"""Spotting: finding expression intervals in long videos (docs/design.md §8)."""
