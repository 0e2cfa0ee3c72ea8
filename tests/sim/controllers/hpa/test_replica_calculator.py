"""Replica calculator: the documentation's worked examples and upstream's edge cases, as tables."""

from __future__ import annotations

import pytest

from sim.api.objects import Container, ObjectMeta, Pod, PodSpec
from sim.controllers.hpa.replica_calculator import (
    PodMetric,
    PodState,
    ReadinessParams,
    ReplicaCalculatorError,
    Tolerances,
    calculate_requests,
    get_external_metric_replicas,
    get_external_per_pod_metric_replicas,
    get_metric_replicas,
    get_resource_replicas,
    group_pods,
    pod_state,
)

NOW = 1000.0  # every pod below started long before, outside the 5-minute CPU initialisation period
PARAMS = ReadinessParams()
TOL = Tolerances()


def _pods(n: int, **kw: object) -> list[PodState]:
    return [PodState(f"p{i}", **kw) for i in range(n)]  # type: ignore[arg-type]


def _metrics(*values: int | None, at: float = NOW - 5, window: float = 15.0) -> dict[str, PodMetric]:
    return {f"p{i}": PodMetric(v, at, window) for i, v in enumerate(values) if v is not None}


def _requests(n: int, milli: int = 1000) -> dict[str, int]:
    return {f"p{i}": milli for i in range(n)}


@pytest.mark.parametrize(("current", "usage", "target", "replicas", "average"), [
    # docs: current 200m, desired 100m -> ratio 2.0 -> double
    (4, (200, 200, 200, 200), 100, 8, 200),
    # docs: current 50m -> ratio 0.5 -> halve
    (4, (50, 50, 50, 50), 100, 2, 50),
    # 3 pods averaging 105m of a 100m target: ratio 1.05, within the 0.1 tolerance
    (3, (100, 105, 110), 100, 3, 105),
    # average is an integer division: (100 + 100 + 111) // 3 = 103 -> 1.03, no change
    (3, (100, 100, 111), 100, 3, 103),
    # 1.12 leaves the tolerance: ceil(1.12 * 5) = 6
    (5, (112,) * 5, 100, 6, 112),
], ids=["docs-double", "docs-halve", "within-tolerance", "integer-average", "just-outside"])
def test_plain_metric_ratio_times_ready_pods(current: int, usage: tuple[int, ...], target: int,
                                             replicas: int, average: int) -> None:
    """desiredReplicas = ceil(currentReplicas * currentMetricValue / desiredMetricValue)."""
    n = len(usage)
    assert get_metric_replicas(current, target, _pods(n), _metrics(*usage), TOL, NOW, PARAMS) == (replicas, average)


@pytest.mark.parametrize(("usage", "target", "expected"), [
    # 3 pods requesting 1 CPU use 300m+500m+700m = 50 % against a 30 % target: ceil(5/3 * 3) = 5
    ((300, 500, 700), 30, (5, 50, 500)),
    # 28 % of 5 CPUs against 50 %: ceil(0.56 * 5) = 3
    ((100, 300, 500, 250, 250), 50, (3, 28, 280)),
    # 102 % against 100 %: within tolerance
    ((1010, 1030, 1020), 100, (3, 102, 1020)),
    # exactly 110 %: the tolerance band is inclusive
    ((1100, 1100), 100, (2, 110, 1100)),
], ids=["scale-up", "scale-down", "tolerance", "tolerance-edge"])
def test_resource_utilization(usage: tuple[int, ...], target: int, expected: tuple[int, int, int]) -> None:
    """Utilisation is sum(usage) * 100 // sum(requests), compared with the target percentage."""
    n = len(usage)
    assert get_resource_replicas(n, target, _pods(n), _metrics(*usage), _requests(n), TOL, NOW, PARAMS) == expected


@pytest.mark.parametrize(("usage", "target", "replicas"), [
    # scale-up: 3 pods at 100 % of a 50 % target, the 4th missing counts as 0: 3000/4000 = 75 % -> ceil(1.5 * 4)
    ((1000, 1000, 1000, None), 50, 6),
    # scale-down: 3 pods at 10 %, the missing one counts as 100 %: 1300/4000 = 32 % -> ceil(0.64 * 4)
    ((100, 100, 100, None), 50, 3),
    # scale-down with a 150 % target: the missing pod counts as 150 %: 1800/4000 = 45 % -> ceil(0.3 * 4)
    ((100, 100, 100, None), 150, 2),
    # 30 % of a 50 % target wants 0.6x, but the missing pod at 100 % makes it 65 %: direction flips
    ((300, None), 50, 2),
], ids=["up-missing-as-zero", "down-missing-as-full", "down-missing-as-target", "flip-keeps-current"])
def test_missing_metrics_are_assumed_against_the_move(usage: tuple[int | None, ...], target: int,
                                                      replicas: int) -> None:
    """Pods without a sample count as 0 % on a scale-up and max(100 %, target) on a scale-down."""
    n = len(usage)
    got, _, _ = get_resource_replicas(n, target, _pods(n), _metrics(*usage), _requests(n), TOL, NOW, PARAMS)
    assert got == replicas


@pytest.mark.parametrize(("ready", "usage", "replicas", "utilization"), [
    # upstream's "unready, less scale": the unready pod is set aside (60 %), then counted at 0: 40 % -> 4
    ((False, True, True), (300, 500, 700), 4, 60),
    # "unready, no scale": only the ready pod counts (40 %); with the others at 0 it is 13 %: flips
    ((True, False, False), (400, 500, 700), 3, 40),
    # not-yet-ready pods do not hold back a scale-down: only ready pods count (15 %) -> ceil(0.5 * 2)
    ((False, True, True), (900, 100, 200), 1, 15),
], ids=["less-scale", "no-scale", "down-ignores-unready"])
def test_unready_cpu_pods_count_as_zero_on_scale_up(ready: tuple[bool, ...], usage: tuple[int, ...],
                                                    replicas: int, utilization: int) -> None:
    """A pod not yet ready is set aside; on a scale-up it is then assumed idle (target 30 %)."""
    pods = [PodState(f"p{i}", ready=r, ready_transition=NOW - 100, start_time=NOW - 120) for i, r in enumerate(ready)]
    got, util, _ = get_resource_replicas(3, 30, pods, _metrics(*usage), _requests(3), TOL, NOW, PARAMS)
    assert (got, util) == (replicas, utilization)


# A pod started at 900 (inside the 5-minute initialisation period at 1000), or at 100 (outside).
@pytest.mark.parametrize(("pod", "metric_at", "group"), [
    (PodState("p", ready=False, ready_transition=900, start_time=900), 995, "unready"),
    (PodState("p", ready=True, ready_transition=990, start_time=900), 995, "unready"),  # sample began before Ready
    (PodState("p", ready=True, ready_transition=960, start_time=900), 995, "ready"),
    (PodState("p", ready=False, ready_transition=110, start_time=100), 995, "unready"),  # never became Ready
    (PodState("p", ready=False, ready_transition=500, start_time=100), 995, "ready"),  # was Ready once
    (PodState("p", ready=None, start_time=100), 995, "unready"),  # no Ready condition yet
    (PodState("p", phase="Pending", start_time=None), 995, "unready"),
    (PodState("p", deleted=True), 995, "ignored"),
    (PodState("p", phase="Failed"), 995, "ignored"),
    (PodState("p"), None, "missing"),
], ids=["init-not-ready", "init-sample-before-ready", "init-ready", "never-ready", "was-ready",
        "no-condition", "pending", "deleted", "failed", "no-sample"])
def test_group_pods_cpu(pod: PodState, metric_at: float | None, group: str) -> None:
    """groupPods sorts a pod into ready, unready, missing or ignored (window 15 s)."""
    metrics = {} if metric_at is None else {"p": PodMetric(100, metric_at, 15.0)}
    ready_count, unready, missing, ignored = group_pods([pod], metrics, "cpu", NOW, PARAMS)
    found = {"ready": ready_count == 1, "unready": "p" in unready, "missing": "p" in missing, "ignored": "p" in ignored}
    assert [k for k, v in found.items() if v] == [group]


def test_group_pods_checks_readiness_for_cpu_only() -> None:
    """A Pods metric of a not-ready pod is used as is."""
    pod = PodState("p", ready=False, ready_transition=900, start_time=900)
    assert group_pods([pod], {"p": PodMetric(1, 995, 15)}, "", NOW, PARAMS)[0] == 1


@pytest.mark.parametrize(("current", "values", "target", "expected"), [
    (3, [120_000], 30_000, (12, 120_000)),  # sum 120 vs 30: ratio 4 over 3 ready pods
    (3, [20_000, 13_000], 30_000, (3, 33_000)),  # two series summed: 33 vs 30 is within 10 %
    (0, [70_000], 30_000, (3, 70_000)),  # from zero replicas the ratio alone: ceil(2.33)
], ids=["value", "summed-series", "from-zero"])
def test_external_value(current: int, values: list[int], target: int, expected: tuple[int, int]) -> None:
    """An External Value target scales the ready pods by total / target."""
    assert get_external_metric_replicas(current, target, values, _pods(3), TOL) == expected


@pytest.mark.parametrize(("status", "values", "expected"), [
    (3, [120_000], (4, 40_000)),  # 120 at 30 per pod: ceil(4.0); 40 per current pod
    (4, [125_000], (4, 31_250)),  # 31.25 per pod is within 10 % of 30
], ids=["average-value", "within-tolerance"])
def test_external_average_value(status: int, values: list[int], expected: tuple[int, int]) -> None:
    """An External AverageValue target wants ceil(total / target per pod) replicas."""
    assert get_external_per_pod_metric_replicas(status, 30_000, values, TOL) == expected


@pytest.mark.parametrize(("tolerances", "replicas"), [
    (Tolerances(0.1, 0.1), 10), (Tolerances(0.1, 0.05), 11), (Tolerances(0.5, 0.5), 10),
], ids=["default", "tight-up", "wide"])
def test_configurable_tolerance(tolerances: Tolerances, replicas: int) -> None:
    """behavior.scaleUp.tolerance narrows the band: 106 % of target scales only with 5 %."""
    assert get_metric_replicas(10, 100, _pods(10), _metrics(*[106] * 10), tolerances, NOW, PARAMS)[0] == replicas


def test_errors_use_upstream_wording() -> None:
    """No pods, or no usable sample, stop the calculation with upstream's messages."""
    with pytest.raises(ReplicaCalculatorError, match="no pods returned by selector"):
        get_metric_replicas(1, 100, [], {}, TOL, NOW, PARAMS)
    pending = [PodState("p0", phase="Pending", start_time=None)]
    with pytest.raises(ReplicaCalculatorError, match="did not receive metrics for targeted pods"):
        get_resource_replicas(1, 50, pending, _metrics(100), _requests(1), TOL, NOW, PARAMS)


def test_requests_sum_containers_and_sidecars_and_need_every_one() -> None:
    """A pod's request sums its containers and restartable init containers; one missing is an error."""
    main = Container("app", "img", requests=(("cpu", 300),))
    sidecar = Container("proxy", "img", requests=(("cpu", 100),), restart_policy="Always")
    init = Container("setup", "img", requests=(("cpu", 900),))
    pod = Pod(ObjectMeta("p"), PodSpec(containers=(main,), init_containers=(sidecar, init)))
    assert calculate_requests([pod], "cpu") == {"p": 400}
    bare = Pod(ObjectMeta("q"), PodSpec(containers=(main, Container("log", "img"))))
    with pytest.raises(ReplicaCalculatorError, match="missing request for cpu in container log of Pod q"):
        calculate_requests([bare], "cpu")


def test_pod_state_reads_readiness_from_the_pod() -> None:
    """A Running pod that was never Ready turned unready at its start."""
    pod = Pod(ObjectMeta("p"), PodSpec(containers=()), phase="Running", start_time=40.0)
    assert pod_state(pod) == PodState("p", "Running", False, False, 40.0, 40.0)
    pod.ready, pod.ready_time = True, 70.0
    assert pod_state(pod).ready_transition == 70.0
