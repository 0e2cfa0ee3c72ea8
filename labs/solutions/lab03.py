"""Answers for notebooks/03-autoscaling.ipynb."""

ANSWERS = {"3.1": 3, "3.2": "image pull", "3.3": 240, "3.4": "b", "3.5": "c"}
