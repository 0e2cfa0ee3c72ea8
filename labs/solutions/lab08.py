"""Answers for notebooks/08-control-plane-under-load.ipynb."""

ANSWERS = {
    "8.1": 95,  # scheduler QPS: p99 crosses 5 s at about 86 QPS; anything from about 88 to 105 passes
    "8.2": "etcd",  # the hidden change is a 150 ms fsync; the API server's queue is the symptom
    "8.3": 45,  # seats at 50 ms fsync: API p99 < 1 s from about 40 seats; about 41 to 49 pass
    "8.4": 45,  # percentageOfNodesToScore at 1000 nodes for >= 800 pods/s: 38 to 47 pass
    "8.5": "a",
    "8.6": "b",
}
