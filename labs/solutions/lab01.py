"""Answers for notebooks/01-pod-startup.ipynb."""

ANSWERS = {
    "1.1": ["created", "scheduled", "bound", "pulling", "pulled", "started", "ready"],
    "1.2": "readiness",  # the probe's initialDelaySeconds + period dominates, then the image pull
    "1.3": 480,  # API p99 ~ 2 x fsync: anything in (400, 500) ms
    "1.4": "b",
    "1.5": "c",
}
