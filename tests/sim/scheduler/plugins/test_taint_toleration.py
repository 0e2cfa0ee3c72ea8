"""TaintToleration: Filter on NoSchedule/NoExecute taints, Score on PreferNoSchedule ones.

Cases follow pkg/scheduler/framework/plugins/tainttoleration/taint_toleration.go and
core/v1 Toleration.ToleratesTaint: an empty toleration effect matches every effect, an
empty key with operator Exists matches every key, an empty operator means Equal. The
Filter reason names the first untolerated taint as ``{key: value}``. The Score counts
intolerable PreferNoSchedule taints and reverse-normalises: 100 - 100 * count // max.
"""

from __future__ import annotations

import pytest
from builders import filter_reasons, make_node, make_pod, make_table, scores

from sim.scheduler.plugins.taint_toleration import TaintToleration

UNTOLERATED = "node(s) had untolerated taint {{{}: {}}}"


def node(name: str, *taints: tuple[str, str, str]):
    wrapper = make_node(name).capacity(cpu="4", memory="8Gi")
    for key, value, effect in taints:
        wrapper.taint(key, value, effect)
    return wrapper.obj()


GPU_TAINT = ("nvidia.com/gpu", "present", "NoSchedule")

FILTER_CASES = [
    pytest.param([], make_pod().obj(), [], id="no-taints"),
    pytest.param([GPU_TAINT], make_pod().obj(), [UNTOLERATED.format("nvidia.com/gpu", "present")],
                 id="untolerated-noschedule"),
    pytest.param([("k", "v", "NoExecute")], make_pod().obj(), [UNTOLERATED.format("k", "v")],
                 id="untolerated-noexecute"),
    pytest.param([("k", "v", "PreferNoSchedule")], make_pod().obj(), [], id="prefer-noschedule-not-filtered"),
    pytest.param([GPU_TAINT], make_pod().toleration("nvidia.com/gpu", "Equal", "present", "NoSchedule").obj(), [],
                 id="equal-exact"),
    pytest.param([GPU_TAINT], make_pod().toleration("nvidia.com/gpu", "", "present", "NoSchedule").obj(), [],
                 id="empty-operator-means-equal"),
    pytest.param([GPU_TAINT], make_pod().toleration("nvidia.com/gpu", "Equal", "absent", "NoSchedule").obj(),
                 [UNTOLERATED.format("nvidia.com/gpu", "present")], id="equal-wrong-value"),
    pytest.param([GPU_TAINT], make_pod().toleration("nvidia.com/gpu", "Exists").obj(), [],
                 id="exists-any-value-any-effect"),
    pytest.param([GPU_TAINT], make_pod().toleration("nvidia.com/gpu", "Exists", effect="NoExecute").obj(),
                 [UNTOLERATED.format("nvidia.com/gpu", "present")], id="exists-wrong-effect"),
    pytest.param([GPU_TAINT], make_pod().toleration("other", "Exists").obj(),
                 [UNTOLERATED.format("nvidia.com/gpu", "present")], id="exists-wrong-key"),
    # operator Exists with an empty key (and effect) tolerates every taint
    pytest.param([GPU_TAINT, ("a", "1", "NoExecute"), ("b", "", "NoSchedule")],
                 make_pod().toleration(operator="Exists").obj(), [], id="exists-empty-key-tolerates-all"),
    # ... but an empty key with an effect only tolerates that effect
    pytest.param([("a", "1", "NoExecute"), GPU_TAINT],
                 make_pod().toleration(operator="Exists", effect="NoExecute").obj(),
                 [UNTOLERATED.format("nvidia.com/gpu", "present")], id="exists-empty-key-one-effect"),
    # the reason names the first untolerated taint in the node's order
    pytest.param([("a", "1", "NoSchedule"), ("b", "2", "NoSchedule"), ("c", "3", "NoSchedule")],
                 make_pod().toleration("a", "Exists").obj(), [UNTOLERATED.format("b", "2")],
                 id="first-untolerated-named"),
    # an empty value prints as "{key: }", as Go's fmt does
    pytest.param([("node.kubernetes.io/not-ready", "", "NoExecute")], make_pod().obj(),
                 [UNTOLERATED.format("node.kubernetes.io/not-ready", "")], id="empty-value-text"),
]


@pytest.mark.parametrize(("taints", "pod", "want"), FILTER_CASES)
def test_filter(taints, pod, want) -> None:
    """A node passes only if every NoSchedule/NoExecute taint is tolerated."""
    table = make_table([node("n1", *taints)])
    assert filter_reasons(TaintToleration(), table, pod) == {"n1": want}


def test_reason_text_exact() -> None:
    """The untolerated-taint reason matches upstream's text byte for byte."""
    table = make_table([node("gpu-0", GPU_TAINT)])
    assert filter_reasons(TaintToleration(), table, make_pod().obj())["gpu-0"] == [
        "node(s) had untolerated taint {nvidia.com/gpu: present}"]


PREFER = "PreferNoSchedule"


@pytest.mark.parametrize(("pod", "want"), [
    # intolerable counts 0, 1, 2 (max 2): 100 - 100*0//2 = 100, 100 - 100*1//2 = 50, 100 - 100*2//2 = 0
    pytest.param(make_pod().obj(), {"n0": 100, "n1": 50, "n2": 0}, id="reversed-counts"),
    # tolerating a: counts 0, 0, 1 -> 100, 100, 0
    pytest.param(make_pod().toleration("a", "Exists", effect=PREFER).obj(), {"n0": 100, "n1": 100, "n2": 0},
                 id="tolerated-not-counted"),
    # a toleration with an empty effect also covers PreferNoSchedule
    pytest.param(make_pod().toleration("a", "Exists").obj(), {"n0": 100, "n1": 100, "n2": 0},
                 id="empty-effect-counts-as-prefer"),
    # a NoSchedule toleration does not tolerate a PreferNoSchedule taint
    pytest.param(make_pod().toleration("a", "Exists", effect="NoSchedule").obj(), {"n0": 100, "n1": 50, "n2": 0},
                 id="noschedule-toleration-ignored"),
    # all counts 0 -> every node 100
    pytest.param(make_pod().toleration(operator="Exists").obj(), {"n0": 100, "n1": 100, "n2": 100},
                 id="all-tolerated"),
])
def test_score_prefer_noschedule(pod, want) -> None:
    """Fewer intolerable PreferNoSchedule taints is better, normalised and reversed."""
    table = make_table([node("n0"), node("n1", ("a", "x", PREFER)),
                        node("n2", ("a", "x", PREFER), ("b", "y", PREFER), ("c", "z", "NoSchedule"))])
    assert scores(TaintToleration(), table, pod) == want


def test_score_truncates() -> None:
    """Counts 0, 1, 3 (max 3): 100 - 100*1//3 = 100 - 33 = 67, 100 - 100 = 0."""
    table = make_table([node("n0"), node("n1", ("a", "", PREFER)),
                        node("n3", ("a", "", PREFER), ("b", "", PREFER), ("c", "", PREFER))])
    assert scores(TaintToleration(), table, make_pod().obj()) == {"n0": 100, "n1": 67, "n3": 0}
