"""Answers to the exercises, kept apart from the notebooks (teachers: see labs/README.md)."""
