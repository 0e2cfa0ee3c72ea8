"""Label selectors: models ``k8s.io/apimachinery/pkg/labels`` and ``metav1.LabelSelector``.

One selector type serves matchLabels/matchExpressions (Deployments, Services, affinity
terms) and nodeSelector terms (``In``, ``NotIn``, ``Exists``, ``DoesNotExist``, ``Gt``, ``Lt``).
A nodeSelectorTerm's ``matchFields`` (only ``metadata.name``, as upstream) is a requirement on
the key ``NODE_NAME_FIELD``, which no label can have: node label sets that stand for a node
carry its name under that key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["NODE_NAME_FIELD", "OPERATORS", "Requirement", "Selector"]

OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt")
NODE_NAME_FIELD = "@metadata.name"  # matchFields' metadata.name ('@' is never part of a label key)


@dataclass(frozen=True, slots=True)
class Requirement:
    """One ``key operator values`` condition on a label set."""

    key: str
    operator: str
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether ``labels`` satisfy this requirement, with upstream's semantics."""
        op = self.operator
        present = self.key in labels
        if op == "In":
            return present and labels[self.key] in self.values
        if op == "NotIn":
            return not present or labels[self.key] not in self.values
        if op == "Exists":
            return present
        if op == "DoesNotExist":
            return not present
        if not present:
            return False
        try:
            value, bound = int(labels[self.key]), int(self.values[0])
        except (ValueError, IndexError):
            return False
        return value > bound if op == "Gt" else value < bound


@dataclass(frozen=True, slots=True)
class Selector:
    """A conjunction of requirements; the empty selector matches everything."""

    requirements: tuple[Requirement, ...] = ()

    @classmethod
    def from_labels(cls, labels: Mapping[str, str]) -> Selector:
        """A selector requiring exactly these key=value labels."""
        return cls(tuple(Requirement(k, "In", (v,)) for k, v in sorted(labels.items())))

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether every requirement holds for ``labels``."""
        return all(req.matches(labels) for req in self.requirements)

    @property
    def empty(self) -> bool:
        """True for a selector with no requirements."""
        return not self.requirements

    def __str__(self) -> str:
        parts = []
        for req in self.requirements:
            if req.operator == "In" and len(req.values) == 1:
                parts.append(f"{req.key}={req.values[0]}")
            elif req.operator in ("Exists", "DoesNotExist"):
                parts.append(("!" if req.operator == "DoesNotExist" else "") + req.key)
            else:
                parts.append(f"{req.key} {req.operator.lower()} ({','.join(req.values)})")
        return ",".join(parts)
