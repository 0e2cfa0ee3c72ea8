"""Pod admission: priority from PriorityClass, default NoExecute tolerations, rejection."""

from __future__ import annotations

import pytest

from sim.admission import DEFAULT_TOLERATION_SECONDS, AdmissionError, PodAdmission
from sim.api.objects import ObjectMeta, Pod, PodSpec, PriorityClass, Toleration
from sim.api.store import Store
from sim.engine import run
from sim.scenario import scenario_from_text


def _store(*classes: PriorityClass) -> Store:
    store = Store()
    for pc in classes:
        store.add(pc)
    return store


def _pod(**spec: object) -> Pod:
    return Pod(meta=ObjectMeta(name="p"), spec=PodSpec(containers=(), **spec))  # type: ignore[arg-type]


def test_priority_class_sets_priority_and_policy() -> None:
    """priorityClassName resolves to the class's value and preemptionPolicy."""
    store = _store(PriorityClass(ObjectMeta("serving", ""), 1000, preemption_policy="Never"))
    pod = _pod(priority_class_name="serving")
    PodAdmission(store).admit(pod)
    assert (pod.spec.priority, pod.spec.preemption_policy) == (1000, "Never")


def test_global_default_applies_without_a_class() -> None:
    """A pod without a class gets the global default's value."""
    store = _store(PriorityClass(ObjectMeta("low", ""), -10, global_default=True))
    pod = _pod()
    PodAdmission(store).admit(pod)
    assert pod.spec.priority == -10


def test_unknown_class_is_rejected() -> None:
    """An unknown priorityClassName is rejected with upstream's message."""
    with pytest.raises(AdmissionError, match="no PriorityClass with name gold was found"):
        PodAdmission(_store()).admit(_pod(priority_class_name="gold"))


def test_default_tolerations_are_added_once() -> None:
    """not-ready and unreachable NoExecute tolerations for 300 s, unless the pod has its own."""
    pod = _pod()
    PodAdmission(_store()).admit(pod)
    added = {(t.key, t.toleration_seconds) for t in pod.spec.tolerations}
    assert added == {("node.kubernetes.io/not-ready", DEFAULT_TOLERATION_SECONDS),
                     ("node.kubernetes.io/unreachable", DEFAULT_TOLERATION_SECONDS)}
    own = Toleration("node.kubernetes.io/unreachable", "Exists", "", "NoExecute", 30.0)
    pod = _pod(tolerations=(own,))
    PodAdmission(_store()).admit(pod)
    unreachable = [t for t in pod.spec.tolerations if t.key == "node.kubernetes.io/unreachable"]
    assert unreachable == [own]


SCENARIO = """
name: priorities
duration: 1m
cluster:
  nodePools:
  - {name: w, count: 1, capacity: {cpu: "1", memory: 4Gi}}
workloads:
- name: classes
  manifests:
  - {apiVersion: scheduling.k8s.io/v1, kind: PriorityClass, metadata: {name: high}, value: 1000}
- name: pods
  at: 1s
  manifests:
  - apiVersion: v1
    kind: Pod
    metadata: {name: low}
    spec: {containers: [{name: c, image: i:1, resources: {requests: {cpu: 600m}}}]}
  - apiVersion: v1
    kind: Pod
    metadata: {name: urgent}
    spec:
      priorityClassName: high
      containers: [{name: c, image: i:1, resources: {requests: {cpu: 600m}}}]
  - apiVersion: v1
    kind: Pod
    metadata: {name: typo}
    spec:
      priorityClassName: hihg
      containers: [{name: c, image: i:1}]
"""


def test_higher_priority_pod_is_scheduled_first_and_typo_is_rejected() -> None:
    """Both pods wait in the queue together; the high-priority one gets the only slot."""
    result = run(scenario_from_text(SCENARIO))
    pods = result.pods().set_index("name")
    assert pods.loc["urgent", "bound"] == pods.loc["urgent", "bound"]  # bound (not NaN)
    df = result.to_frame()
    rejected = df[df["event"] == "rejected"]
    assert list(rejected["name"].astype(str)) == ["typo"]
    assert "no PriorityClass with name hihg was found" in str(rejected["message"].iloc[0])


def test_a_freed_specs_answer_is_not_lent_to_a_new_spec_with_its_id() -> None:
    """Pods of one template share their spec, so admission keeps its answer per spec object.
    A spec freed with its pods (a StatefulSet's per-ordinal spec, a replaced template) may
    give its memory, and so its id(), to the next spec: that spec must get its own answer."""
    admission = PodAdmission(_store())
    for i in range(200):  # an id keyed cache that kept no spec answered wrong within a few rounds
        first = _pod(persistent_volume_claims=(f"claim-{i}",))
        admission.admit(first)
        del first  # only the admitted copy stays referenced (by the cache)
        second = _pod(persistent_volume_claims=(f"other-{i}",))
        admission.admit(second)
        assert second.spec.persistent_volume_claims == (f"other-{i}",)
