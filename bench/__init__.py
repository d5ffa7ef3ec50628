"""Accuracy benchmark tooling: synthetic phone photos of handwritten digits."""
