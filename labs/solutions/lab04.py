"""Answers for notebooks/04-rollout.ipynb."""

ANSWERS = {"4.1": {"maxSurge": 0, "maxUnavailable": 2}, "4.2": "b", "4.3": 120, "4.4": "b"}
