"""Bad input: every mistake is exit status 2 and one ``file:line: field: message`` line.

Each case writes a scenario (and its manifests) to ``tmp_path``; the line the error must
name carries the comment ``# <-``, so the expected line number is read from the text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from sim.cli import main
from sim.scenario import json_schema

ROOT = Path(__file__).resolve().parent.parent
STALE = "scenarios/schema.json is stale: run `make schema`"
Capsys = pytest.CaptureFixture[str]
MARK = "# <-"

SCENARIO = """\
name: errors
duration: 10m
cluster:
  nodePools:
  - name: cpu
    count: 2
    capacity:
      cpu: "4"
      memory: 16Gi
workloads:
- name: web
  manifests: [web.yaml]
timeline:
- {at: 1m, action: scale, target: deployment/web, replicas: 3}
"""

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: server
        image: nginx:1.27
        resources:
          requests: {cpu: 100m, memory: 64Mi}
"""

SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - port: 80
"""

WEB = DEPLOYMENT + "---\n" + SERVICE

INLINE_POD = """\
- name: solo
  manifests:
  - apiVersion: v1
    kind: Pod
    metadata: {name: solo, labels: {app: solo}}
    spec:
      containers:
      - name: solo
        image: nginx:1.27
        resources:
          requests:
            cpu: 1
            memory: 64Mi
timeline:
"""


def edit(text: str, old: str, new: str) -> str:
    """``text`` with the one occurrence of ``old`` replaced by ``new``."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def with_inline_pod(old: str, new: str) -> str:
    """The base scenario plus a second workload holding an inline Pod, edited."""
    return edit(edit(SCENARIO, "timeline:\n", INLINE_POD), old, new)


@dataclass(frozen=True)
class Case:
    """Files to write, and what the one error line must say."""

    files: dict[str, str]
    field: str | None
    words: tuple[str, ...]
    where: str = "scenario.yaml"

    def write(self, tmp_path: Path) -> Path:
        for name, text in self.files.items():
            (tmp_path / name).write_text(text)
        return tmp_path / "scenario.yaml"

    def expected_prefix(self, tmp_path: Path) -> str:
        prefix = f"kubesim: error: {tmp_path / self.where}"
        lines = self.files.get(self.where, "").splitlines()
        marked = [i for i, line in enumerate(lines, 1) if MARK in line]
        assert len(marked) <= 1, "mark at most one line per case"
        if marked:
            prefix += f":{marked[0]}"
        return prefix + ": " + (f"{self.field}: " if self.field else "")


def scenario(text: str, **manifests: str) -> dict[str, str]:
    """The files of a case: ``scenario.yaml`` plus manifests (``web.yaml`` by default)."""
    files = {"scenario.yaml": text, "web.yaml": WEB}
    return files | {f"{name.replace('_', '-')}.yaml": v for name, v in manifests.items()}


M = f"  {MARK}"  # appended to the line the error must name

CASES = {
    "missing-scenario-file": Case({}, None, ("file not found",)),
    "yaml-syntax-error": Case(
        scenario(edit(SCENARIO, "    count: 2\n", f"     count: 2{M}\n")),
        None, ("YAML syntax error", "mapping values are not allowed here")),
    "unknown-top-level-field": Case(
        scenario(edit(SCENARIO, "duration: 10m\n", f"duraton: 10m{M}\n")),
        "duraton", ("unknown field 'duraton'", "did you mean 'duration'?")),
    "unknown-node-pool-field": Case(
        scenario(edit(SCENARIO, "    count: 2\n", f"    count: 2\n    prcePerHour: 0.5{M}\n")),
        "cluster.nodePools[0].prcePerHour",
        ("unknown field 'prcePerHour'", "did you mean 'pricePerHour'?")),
    "wrong-type": Case(
        scenario(edit(SCENARIO, "    count: 2\n", f"    count: many{M}\n")),
        "cluster.nodePools[0].count", ("valid integer", "'many'")),
    "bad-quantity-node-pool": Case(
        scenario(edit(SCENARIO, '      cpu: "4"\n', f"      cpu: 2x{M}\n")),
        "cluster.nodePools[0].capacity.cpu", ("'2x' is not a Kubernetes quantity",)),
    "bad-quantity-container-request": Case(
        scenario(with_inline_pod("            cpu: 1\n", f"            cpu: 2x{M}\n")),
        "workloads[1].manifests[0].spec.containers[0].resources.requests.cpu",
        ("'2x' is not a Kubernetes quantity",)),
    "bad-duration": Case(
        scenario(edit(SCENARIO, "duration: 10m\n", f"duration: 10 minutes{M}\n")),
        "duration", ("'10 minutes' is not a duration",)),
    "bad-timeline-at": Case(
        scenario(edit(SCENARIO, "- {at: 1m, action: scale, target: deployment/web, replicas: 3}\n",
                      f"- {{at: soon, action: scale, target: deployment/web, replicas: 3}}{M}\n")),
        "timeline[0].at", ("'soon' is not a duration",)),
    "unknown-timeline-action": Case(
        scenario(edit(SCENARIO, "- {at: 1m, action: scale, target: deployment/web, replicas: 3}\n",
                      f"- {{at: 1m, action: explode, target: deployment/web}}{M}\n")),
        "timeline[0]", ("unknown action; expected one of scale",)),
    "unsupported-kind-replicationcontroller": Case(
        scenario(SCENARIO,
                 web=edit(WEB, "apps/v1\nkind: Deployment\n", f"v1\nkind: ReplicationController{M}\n")),
        "kind", ("unsupported kind 'ReplicationController'", "; supported: ", " CronJob, ", " DaemonSet, ",
                 " Deployment, ", " Pod, "),
        where="web.yaml"),
    "unsupported-kind-inline": Case(
        scenario(with_inline_pod("    kind: Pod\n", f"    kind: Foo{M}\n")),
        "workloads[1].manifests[0].kind", ("unsupported kind 'Foo'",)),
    "service-selector-matches-nothing": Case(
        scenario(SCENARIO,
                 web=edit(WEB, "  selector: {app: web}\n", f"  selector: {{app: wbe}}{M}\n")),
        "spec.selector", ("Service 'web'", "app=wbe", "matches no pod"), where="web.yaml"),
    "deployment-selector-mismatch": Case(
        scenario(SCENARIO, web=edit(WEB, "  selector:\n    matchLabels: {app: web}\n",
                                    f"  selector:{M}\n    matchLabels: {{app: api}}\n")),
        "spec.selector", ("app=api", "does not match template labels"), where="web.yaml"),
    "duplicate-node-pool": Case(
        scenario(edit(SCENARIO, "workloads:\n",
                      f"  - name: cpu{M}\n    count: 1\n    capacity: {{cpu: 2, memory: 8Gi}}\n"
                      "workloads:\n")),
        "cluster.nodePools[1].name", ("duplicate node pool name 'cpu'", "first used at line 5")),
    "duplicate-workload": Case(
        scenario(edit(SCENARIO, "timeline:\n",
                      f"- name: web{M}\n  manifests: [web.yaml]\ntimeline:\n")),
        "workloads[1].name", ("duplicate workload name 'web'", "first used at line 11")),
    "duplicate-deployment": Case(
        scenario(edit(SCENARIO, "timeline:\n",
                      "- name: copy\n  manifests: [web-copy.yaml]\ntimeline:\n"),
                 web_copy=edit(DEPLOYMENT, "  name: web\n", f"  name: web{M}\n")),
        "metadata.name", ("duplicate Deployment default/web", "first defined at", "/web.yaml:1)"),
        where="web-copy.yaml"),
    "timeline-target-not-found": Case(
        scenario(edit(SCENARIO, "deployment/web, replicas: 3}\n",
                      f"deployment/wbe, replicas: 3}}{M}\n")),
        "timeline[0].target", ("no object 'deployment/wbe'", "did you mean 'deployment/web'?")),
    "unknown-traffic-pattern": Case(
        scenario(edit(SCENARIO, "timeline:\n",
                      "traffic:\n- name: users\n  service: web\n"
                      f"  rate: {{pattern: poisson, rate: 5}}{M}\ntimeline:\n")),
        "traffic[0].rate", ("unknown pattern 'poisson'; expected one of constant, diurnal, steps",)),
    "rollback-needs-deployment": Case(
        scenario(edit(SCENARIO, "- {at: 1m, action: scale, target: deployment/web, replicas: 3}\n",
                      f"- {{at: 1m, action: rollback, target: service/web}}{M}\n")),
        "timeline[0].target", ("rollback needs a Deployment, got a Service",)),
    "rollback-revision-zero": Case(
        scenario(edit(SCENARIO, "- {at: 1m, action: scale, target: deployment/web, replicas: 3}\n",
                      f"- {{at: 1m, action: rollback, target: deployment/web, toRevision: 0}}{M}\n")),
        "timeline[0].toRevision", ("greater than or equal to 1",)),
    "image-behavior-typo": Case(
        scenario(edit(SCENARIO, "  manifests: [web.yaml]\n",
                      "  manifests: [web.yaml]\n  behavior:\n    images:\n"
                      f"      nginx:1.28: {{nevrReady: true}}{M}\n")),
        "workloads[0].behavior.images.nginx:1.28.nevrReady",
        ("unknown field 'nevrReady'", "did you mean 'neverReady'?")),
    "statefulset-claim-template-without-storage": Case(
        scenario(SCENARIO, web=edit(DEPLOYMENT, "kind: Deployment\n", "kind: StatefulSet\n").replace(
            "  replicas: 2\n", "  replicas: 2\n  volumeClaimTemplates:\n  - metadata: {name: data}\n"
            f"    spec: {{accessModes: [ReadWriteOnce], resources: {{requests: {{}}}}}}{M}\n")),
        "spec.volumeClaimTemplates[0].spec.resources.requests", ("storage is required",), where="web.yaml"),
    "manifest-file-not-found": Case(
        scenario(edit(SCENARIO, "  manifests: [web.yaml]\n", f"  manifests: [nope.yaml]{M}\n")),
        "workloads[0].manifests[0]", ("manifest file 'nope.yaml' not found",)),
}

BAD_SET = "cluster.nodePools.nosuchpool.count=3"
SET_CASE = Case(scenario(edit(SCENARIO, "  nodePools:\n", f"  nodePools:{M}\n")),
                "cluster.nodePools",
                ("no list item named 'nosuchpool'", f"--set {BAD_SET}", "names: cpu"))
RUN_CASES = ("missing-scenario-file", "unknown-top-level-field", "duplicate-deployment",
             "service-selector-matches-nothing")


def check_one_error_line(capsys: Capsys, argv: list[str], case: Case, tmp_path: Path) -> None:
    """Run the CLI and check status 2 and the single, exact error line."""
    status = main(argv)
    out, err = capsys.readouterr()
    assert status == 2, err
    assert out == ""
    assert "Traceback" not in err
    assert err.endswith("\n"), err
    assert err.count("\n") == 1, err
    assert err.startswith(case.expected_prefix(tmp_path)), err
    for word in case.words:
        assert word in err, f"{word!r} not in {err!r}"


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_validate_reports_one_located_error(case: Case, tmp_path: Path, capsys: Capsys) -> None:
    """`kubesim validate` names the file, line and field of the mistake in one line and exits 2."""
    check_one_error_line(capsys, ["validate", str(case.write(tmp_path))], case, tmp_path)


@pytest.mark.parametrize("name", RUN_CASES)
def test_run_reports_the_same_error(name: str, tmp_path: Path, capsys: Capsys) -> None:
    """`kubesim run` rejects bad input the same way, before simulating or writing anything."""
    case = CASES[name]
    out_dir = tmp_path / "out"
    argv = ["run", str(case.write(tmp_path)), "--out", str(out_dir), "--no-plots"]
    check_one_error_line(capsys, argv, case, tmp_path)
    assert not out_dir.exists()


def test_bad_set_override_names_the_list(tmp_path: Path, capsys: Capsys) -> None:
    """An override through a list item that does not exist points at the list in the scenario."""
    path = SET_CASE.write(tmp_path)
    out_dir = tmp_path / "out"
    argv = ["run", str(path), "--out", str(out_dir), "--set", BAD_SET]
    check_one_error_line(capsys, argv, SET_CASE, tmp_path)
    assert not out_dir.exists()


def test_case_fixtures_are_valid_without_the_mistake(tmp_path: Path, capsys: Capsys) -> None:
    """The base scenario and manifests the cases edit are themselves valid."""
    for name, text in scenario(SCENARIO).items():
        (tmp_path / name).write_text(text)
    assert main(["validate", str(tmp_path / "scenario.yaml")]) == 0, capsys.readouterr().err
    (tmp_path / "inline.yaml").write_text(with_inline_pod("memory: 64Mi\n", "memory: 64Mi\n"))
    assert main(["validate", str(tmp_path / "inline.yaml")]) == 0, capsys.readouterr().err


def test_shipped_scenarios_validate(capsys: Capsys) -> None:
    """Every scenario in scenarios/ and scenarios/scale/ validates (exit 0)."""
    files = sorted(ROOT.glob("scenarios/*.yaml")) + sorted(ROOT.glob("scenarios/scale/*.yaml"))
    assert len(files) >= 3
    status = main(["validate", *map(str, files)])
    out, err = capsys.readouterr()
    assert status == 0, err
    assert err == ""
    assert [line.split(": ok")[0] for line in out.splitlines()] == list(map(str, files))


def test_schema_json_is_up_to_date(capsys: Capsys) -> None:
    """scenarios/schema.json is exactly what `kubesim schema` prints (`make schema` rewrites it)."""
    committed = (ROOT / "scenarios" / "schema.json").read_text()
    assert json.loads(committed) == json_schema(), STALE
    assert main(["schema"]) == 0
    assert capsys.readouterr().out == committed, STALE
