"""Answers for notebooks/05-distributed-training.ipynb."""

ANSWERS = {
    "5.1": 8,  # 4 + 4 GPUs held, nothing trains
    "5.2": {"gpu-0": 4, "gpu-2": 4},  # two full nodes in one zone (any same-zone pair works)
    "5.3": 100,  # roughly 80-150 pass: lost <= 150 steps and goodput >= 0.78 at each failure time
    "5.4": "b",
}
