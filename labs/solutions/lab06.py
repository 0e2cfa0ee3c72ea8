"""Answers for notebooks/06-node-failures.ipynb."""

ANSWERS = {
    "6.1": 365,  # ~367 s: 55 s to Unknown, taint at 60 s, evicted 300 s later, Ready ~7 s after
    "6.2": 30,  # recovery ~ 67 s + tolerationSeconds: anything up to ~33 s meets 100 s
    "6.3": 150,  # about 60-175 steps pass: <= 180 s lost (worst case interval x ~1.01 s) and <= 40 min
    "6.4": "b",
    "6.5": "a",
}
