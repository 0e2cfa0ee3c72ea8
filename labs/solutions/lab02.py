"""Answers for notebooks/02-serving-a-model.ipynb."""

from labs.teach.serving import load_manifests


def fixed_manifests() -> list[dict]:
    """Exercise 2.2: add the GPU taint's toleration to the pod template."""
    docs = load_manifests()
    docs[0]["spec"]["template"]["spec"]["tolerations"] = [
        {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    return docs


ANSWERS = {"2.1": 2, "2.2": fixed_manifests(), "2.3": "a", "2.4": "c"}
