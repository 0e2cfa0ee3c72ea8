"""Load-time checks that a scenario's traffic can reach model servers.

Each traffic source must name a Service of the scenario (or a host and path an Ingress
routes), the pods behind that Service must say what they do with requests
(``behavior.serving``), a replayed trace must be readable, and an autoscaler must name a
Deployment. A problem is returned as (field path, message) for a located error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sim.api.networking import Ingress, match_ingress
from sim.api.objects import Deployment, Pod, ReplicaSet, Service

if TYPE_CHECKING:
    from sim.scenario import Scenario

__all__ = ["serving_reference_problem", "serving_templates"]

Problem = tuple[tuple[Any, ...], str]


def serving_templates(scenario: Scenario, service: Service) -> list[tuple[str, Any]]:
    """(owner name, WorkloadBehavior) of every pod template the Service selects."""
    out = []
    for _, obj in scenario.objects:
        if obj.meta.namespace != service.meta.namespace:
            continue
        if isinstance(obj, Deployment | ReplicaSet):
            labels, behavior = dict(obj.template.labels), obj.template.spec.behavior
        elif isinstance(obj, Pod):
            labels, behavior = obj.meta.labels, obj.spec.behavior
        else:
            continue
        if not service.selector.empty and service.selector.matches(labels):
            out.append((f"{obj.kind.lower()}/{obj.meta.name}", behavior))
    return out


def _service_problem(scenario: Scenario, namespace: str, name: str, where: tuple[Any, ...]) -> Problem | None:
    services = {(o.meta.namespace, o.meta.name): o for _, o in scenario.objects if isinstance(o, Service)}
    service = services.get((namespace, name))
    if service is None:
        known = ", ".join(sorted(n for ns, n in services if ns == namespace)) or "none"
        return where, f"no Service {name!r} in namespace {namespace!r} (Services: {known})"
    for owner, behavior in serving_templates(scenario, service):
        if behavior is None or behavior.serving is None:
            return where, (f"Service {name!r} selects the pods of {owner}, whose workload has no "
                           "behavior.serving (concurrency, serviceTime, ...)")
    return None


def _trace_problem(scenario: Scenario, i: int) -> Problem | None:
    from sim.workloads.traffic import load_trace_csv

    spec = scenario.traffic[i].trace
    if spec is None:
        return None
    path = scenario.base_dir / spec.file
    where = ("traffic", i, "trace", "file")
    if not path.is_file():
        return where, f"trace file {spec.file!r} not found (looked in {scenario.base_dir})"
    try:
        load_trace_csv(str(path))
    except ValueError as exc:
        return where, str(exc)
    return None


def serving_reference_problem(scenario: Scenario) -> Problem | None:
    """The first broken reference of the scenario's traffic and autoscalers, if any."""
    ingresses = [o for _, o in scenario.objects if isinstance(o, Ingress)]
    for i, source in enumerate(scenario.traffic):
        if source.service is not None:
            problem = _service_problem(scenario, source.namespace, source.service, ("traffic", i, "service"))
        else:
            assert source.host is not None
            backend = match_ingress(ingresses, source.host, source.path)
            if backend is None:
                return ("traffic", i, "host"), (f"no Ingress routes host {source.host!r} path {source.path!r}"
                                                f" ({len(ingresses)} Ingress objects in the scenario)")
            problem = _service_problem(scenario, backend[0], backend[1], ("traffic", i, "host"))
        problem = problem or _trace_problem(scenario, i)
        if problem is not None:
            return problem
    deployments = {(o.meta.namespace, o.meta.name) for _, o in scenario.objects if isinstance(o, Deployment)}
    for i, kpa in enumerate(scenario.serving.autoscalers):
        if (kpa.namespace, kpa.deployment) not in deployments:
            return ("serving", "autoscalers", i, "deployment"), (
                f"no Deployment {kpa.deployment!r} in namespace {kpa.namespace!r}")
    return None
