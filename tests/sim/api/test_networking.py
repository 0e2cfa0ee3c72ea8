"""Ingress (sim/api/networking.py): host and path matching, and manifests with located errors."""

from __future__ import annotations

import pytest

from sim.api.networking import Ingress, IngressPath, IngressRule, match_ingress, path_matches
from sim.api.objects import ObjectMeta
from sim.scenario import ScenarioError, scenario_from_text


@pytest.mark.parametrize(("path_type", "rule", "path", "expected"), [
    ("Prefix", "/", "/anything", True),
    ("Prefix", "/v1", "/v1", True),
    ("Prefix", "/v1", "/v1/chat", True),
    ("Prefix", "/v1/", "/v1", True),
    ("Prefix", "/v1", "/v1beta", False),
    ("Exact", "/v1", "/v1", True),
    ("Exact", "/v1", "/v1/", False),
    ("ImplementationSpecific", "/v1", "/v1/x", True),
], ids=["root", "same", "below", "trailing-slash", "not-element-wise", "exact", "exact-trailing-slash",
        "impl-specific-as-prefix"])
def test_path_matches(path_type: str, rule: str, path: str, expected: bool) -> None:
    """Prefix matches element-wise on '/', Exact matches the whole path."""
    assert path_matches(path_type, rule, path) is expected


def ingress(name: str, rules: list[tuple[str, list[tuple[str, str, str]]]], default: str = "") -> Ingress:
    return Ingress(ObjectMeta(name), tuple(IngressRule(h, tuple(IngressPath(p, t, s) for p, t, s in paths))
                                           for h, paths in rules), default)


RULES = [
    ingress("a", [("chat.example.com", [("/", "Prefix", "web"), ("/v1", "Prefix", "llm"),
                                        ("/v1/embeddings", "Exact", "embed")])]),
    ingress("b", [("*.example.com", [("/", "Prefix", "wild")]), ("", [("/", "Prefix", "any-host")])]),
]


@pytest.mark.parametrize(("host", "path", "expected"), [
    ("chat.example.com", "/v1/chat/completions", "llm"),
    ("chat.example.com", "/v1/embeddings", "embed"),
    ("chat.example.com", "/index.html", "web"),
    ("api.example.com", "/v1", "wild"),
    ("a.b.example.com", "/", "any-host"),
    ("other.org", "/", "any-host"),
], ids=["longest-prefix", "exact-wins", "root-prefix", "wildcard-host", "wildcard-one-label-only", "no-host-rule"])
def test_match_ingress(host: str, path: str, expected: str) -> None:
    """Exact host beats wildcard beats none; the longest path wins; Exact beats Prefix."""
    assert match_ingress(RULES, host, path) == ("default", expected)


def test_default_backend_and_404() -> None:
    """Without a matching rule the defaultBackend takes the request; without one, nothing does."""
    only_host = [ingress("a", [("chat.example.com", [("/v1", "Prefix", "llm")])])]
    assert match_ingress(only_host, "chat.example.com", "/v2") is None
    with_default = [ingress("a", [("chat.example.com", [("/v1", "Prefix", "llm")])], default="fallback")]
    assert match_ingress(with_default, "chat.example.com", "/v2") == ("default", "fallback")


SCENARIO = """
name: ing
duration: 1m
cluster:
  nodePools: [{name: n, count: 1, capacity: {cpu: "4", memory: 8Gi}}]
workloads:
- name: w
  manifests:
  - apiVersion: networking.k8s.io/v1
    kind: Ingress
    metadata: {name: chat}
    spec:
      rules:
      - host: chat.example.com
        http:
          paths:
          - path: /v1
            pathType: %s
            backend: {service: {name: llm, port: {number: 80}}}
"""


def test_ingress_manifest_parses() -> None:
    """A networking.k8s.io/v1 Ingress becomes an object with its rules."""
    scenario = scenario_from_text(SCENARIO % "Prefix")
    (_, obj), = scenario.objects
    assert isinstance(obj, Ingress)
    assert obj.rules[0].paths[0] == IngressPath("/v1", "Prefix", "llm", 80)


def test_bad_path_type_is_a_located_error() -> None:
    """An unknown pathType names its line and the accepted values."""
    with pytest.raises(ScenarioError, match=r":18: .*pathType: expected one of Exact, Prefix, "
                                            r"ImplementationSpecific, got 'Regex'"):
        scenario_from_text(SCENARIO % "Regex")
