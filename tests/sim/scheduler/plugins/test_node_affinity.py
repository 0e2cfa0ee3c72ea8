"""NodeAffinity: nodeSelector AND required node affinity (OR of terms) filter; preferred score.

Cases follow pkg/scheduler/framework/plugins/nodeaffinity/node_affinity.go and
component-helpers/scheduling/corev1/nodeaffinity: nodeSelector pairs must all match,
required nodeSelectorTerms are ORed, the requirements inside a term are ANDed, and an empty
term matches no node. The Score sums the weights of matching preferred terms and scales
them so the best node gets 100 (DefaultNormalizeScore: 100 * raw // max).
"""

from __future__ import annotations

import pytest
from builders import filter_reasons, make_node, make_pod, make_table, scores

from sim.scheduler.plugins.node_affinity import NodeAffinity

REASON = "node(s) didn't match Pod's node affinity/selector"
ZONE = "topology.kubernetes.io/zone"


def cluster():
    """a-gpu: zone a, gpu; a-cpu: zone a; b-cpu: zone b, cores 8; c-cpu: zone c, cores 32."""
    def node(name: str, labels: dict[str, str]):
        wrapper = make_node(name).capacity(cpu="4", memory="8Gi")
        for key, value in labels.items():
            wrapper.label(key, value)
        return wrapper.obj()
    return make_table([
        node("a-gpu", {ZONE: "a", "gpu": "true", "cores": "4"}),
        node("a-cpu", {ZONE: "a", "cores": "4"}),
        node("b-cpu", {ZONE: "b", "cores": "8"}),
        node("c-cpu", {ZONE: "c", "cores": "32"}),
    ])


def passing(pod) -> list[str]:
    got = filter_reasons(NodeAffinity(), cluster(), pod)
    for reasons in got.values():
        assert reasons in ([], [REASON])
    return sorted(name for name, reasons in got.items() if not reasons)


ALL = ["a-cpu", "a-gpu", "b-cpu", "c-cpu"]

FILTER_CASES = [
    pytest.param(make_pod().obj(), ALL, id="no-constraints"),
    pytest.param(make_pod().node_selector({ZONE: "a"}).obj(), ["a-cpu", "a-gpu"], id="node-selector"),
    pytest.param(make_pod().node_selector({ZONE: "a", "gpu": "true"}).obj(), ["a-gpu"],
                 id="node-selector-pairs-anded"),
    pytest.param(make_pod().node_selector({"missing": "x"}).obj(), [], id="node-selector-missing-key"),
    pytest.param(make_pod().node_selector({ZONE: "A"}).obj(), [], id="node-selector-case-sensitive"),
    pytest.param(make_pod().required_term((ZONE, "In", ["b", "c"])).obj(), ["b-cpu", "c-cpu"], id="term-in"),
    # terms are ORed: zone b OR gpu exists
    pytest.param(make_pod().required_term((ZONE, "In", ["b"])).required_term(("gpu", "Exists", [])).obj(),
                 ["a-gpu", "b-cpu"], id="terms-ored"),
    # requirements in one term are ANDed: zone a AND no gpu label
    pytest.param(make_pod().required_term((ZONE, "In", ["a"]), ("gpu", "DoesNotExist", [])).obj(), ["a-cpu"],
                 id="requirements-anded"),
    # nodeSelector AND required affinity: zone a (selector) AND (zone c OR gpu)
    pytest.param(make_pod().node_selector({ZONE: "a"})
                 .required_term((ZONE, "In", ["c"])).required_term(("gpu", "In", ["true"])).obj(),
                 ["a-gpu"], id="selector-and-affinity"),
    pytest.param(make_pod().required_term((ZONE, "NotIn", ["a"])).obj(), ["b-cpu", "c-cpu"], id="not-in"),
    # NotIn matches nodes without the label
    pytest.param(make_pod().required_term(("gpu", "NotIn", ["true"])).obj(), ["a-cpu", "b-cpu", "c-cpu"],
                 id="not-in-missing-label"),
    # Gt/Lt compare integers: 8 > 5 and 32 > 5; 4 < 5
    pytest.param(make_pod().required_term(("cores", "Gt", ["5"])).obj(), ["b-cpu", "c-cpu"], id="gt"),
    pytest.param(make_pod().required_term(("cores", "Lt", ["5"])).obj(), ["a-cpu", "a-gpu"], id="lt"),
    # an empty nodeSelectorTerm matches no objects (core/v1 NodeSelectorTerm doc)
    pytest.param(make_pod().required_term().obj(), [], id="empty-term-matches-nothing"),
    pytest.param(make_pod().required_term().required_term((ZONE, "In", ["c"])).obj(), ["c-cpu"],
                 id="empty-term-ored-with-real-one"),
    # the hostname label is per node, not shared by nodes of one label signature
    pytest.param(make_pod().required_term(("kubernetes.io/hostname", "In", ["a-cpu", "c-cpu"])).obj(),
                 ["a-cpu", "c-cpu"], id="hostname-term"),
    pytest.param(make_pod().node_selector({"kubernetes.io/hostname": "b-cpu"}).obj(), ["b-cpu"],
                 id="hostname-selector"),
]


@pytest.mark.parametrize(("pod", "want"), FILTER_CASES)
def test_filter(pod, want) -> None:
    """Only nodes matching nodeSelector and some required term pass; others get upstream's reason."""
    assert passing(pod) == want


def test_reason_text_exact() -> None:
    """The reason text matches upstream's ErrReasonPod."""
    got = filter_reasons(NodeAffinity(), cluster(), make_pod().node_selector({ZONE: "b"}).obj())
    assert got["a-cpu"] == ["node(s) didn't match Pod's node affinity/selector"]
    assert got["b-cpu"] == []


SCORE_CASES = [
    pytest.param(make_pod().obj(), {n: 0 for n in ALL}, id="no-preferences"),
    # raw: a-gpu 20 + 60 = 80, a-cpu 20, b-cpu 0, c-cpu 0; max 80:
    #   a-gpu 100*80//80 = 100, a-cpu 100*20//80 = 25
    pytest.param(make_pod().preferred_term(20, (ZONE, "In", ["a"])).preferred_term(60, ("gpu", "Exists", [])).obj(),
                 {"a-gpu": 100, "a-cpu": 25, "b-cpu": 0, "c-cpu": 0}, id="weights-summed-and-scaled"),
    # raw: a 30, b 70, c 90 (max 90): 100*30//90 = 33, 100*70//90 = 77, 100
    pytest.param(make_pod().preferred_term(30, (ZONE, "In", ["a"])).preferred_term(70, (ZONE, "In", ["b"]))
                 .preferred_term(90, (ZONE, "In", ["c"])).obj(),
                 {"a-gpu": 33, "a-cpu": 33, "b-cpu": 77, "c-cpu": 100}, id="integer-scaling"),
    # a single weight-1 term still scales to 100
    pytest.param(make_pod().preferred_term(1, ("cores", "Gt", ["5"])).obj(),
                 {"a-gpu": 0, "a-cpu": 0, "b-cpu": 100, "c-cpu": 100}, id="weight-one-scaled-to-100"),
    # an empty preference matches no node: raw a 10, others 0 -> a 100
    #   (if it matched every node: a 60, others 50 -> 100, 83)
    pytest.param(make_pod().preferred_term(50).preferred_term(10, (ZONE, "In", ["a"])).obj(),
                 {"a-gpu": 100, "a-cpu": 100, "b-cpu": 0, "c-cpu": 0}, id="empty-preference-matches-nothing"),
]


@pytest.mark.parametrize(("pod", "want"), SCORE_CASES)
def test_score_preferred(pod, want) -> None:
    """Preferred terms' weights are summed per node and normalised so the best node gets 100."""
    assert scores(NodeAffinity(), cluster(), pod) == want
