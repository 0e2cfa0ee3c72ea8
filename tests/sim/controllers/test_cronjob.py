"""CronJob controller (sim/controllers/cronjob.py) against cronjob_controllerv2's behaviour."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from sim.controllers.cronjob import SCHEDULED_TIMESTAMP, most_recent_schedule_time
from sim.cron import CronError, parse_standard
from sim.engine import Result, run
from sim.scenario import scenario_from_text

START = datetime(2026, 1, 1, tzinfo=UTC).timestamp()  # the default startTime: t = 0


def cron_scenario(spec: str, run_for: str = "90s", duration: str = "6m", timeline: str = "",
                  start: str = "") -> str:
    return f"""
name: cron
duration: {duration}
{start}
cluster:
  nodePools: [{{name: n, count: 2, capacity: {{cpu: "8", memory: 16Gi}}}}]
workloads:
- name: w
  behavior: {{runDuration: {run_for}}}
  manifests:
  - apiVersion: batch/v1
    kind: CronJob
    metadata: {{name: tick}}
    spec:
{spec}
      jobTemplate:
        metadata: {{labels: {{team: ml}}, annotations: {{owner: ml}}}}
        spec:
          template:
            spec:
              restartPolicy: Never
              containers: [{{name: c, image: "img:1", resources: {{requests: {{cpu: 100m}}}}}}]
timeline: {"[]" if not timeline else ""}
{timeline}
"""


def events(result: Result, kind: str = "CronJob") -> pd.DataFrame:
    df = result.to_frame()
    return df[df["kind"] == kind]


def created_jobs(result: Result) -> list[tuple[float, str]]:
    jobs = events(result, "Job")
    return [(float(t), name) for t, name in zip(jobs[jobs["event"] == "created"]["t"],
                                                  jobs[jobs["event"] == "created"]["name"], strict=True)]


def test_allow_creates_one_job_per_activation_named_by_its_minute() -> None:
    """Every minute, 100 ms after the activation (nextScheduleDelta) plus the sync and the write,
    a Job <cronjob>-<minutes since the epoch> with the template's metadata, the scheduled time
    annotation and the CronJob as controller; runs overlap under Allow."""
    result = run(scenario_from_text(cron_scenario('      schedule: "* * * * *"')))
    jobs = created_jobs(result)
    assert [name for _, name in jobs] == [f"tick-{int(START) // 60 + m}" for m in range(1, 6)]
    assert all(60 * m + 0.1 <= t < 60 * m + 0.5 for m, (t, _) in enumerate(jobs, start=1))
    store = result.simulation.api.store
    job = store.get("Job", "default", jobs[-1][1])
    assert job.meta.owner.kind == "CronJob"
    assert job.meta.owner.name == "tick"
    assert job.meta.labels == {"team": "ml"}
    assert job.meta.annotations == {"owner": "ml", SCHEDULED_TIMESTAMP: "2026-01-01T00:05:00Z"}
    cron_job = store.get("CronJob", "default", "tick")
    assert cron_job.last_schedule_time == 300.0
    assert [name for name, _ in cron_job.active] == [jobs[-1][1]]
    first_done = events(result)[lambda d: d["event"] == "jobFinished"]["t"].iloc[0]
    assert jobs[1][0] < first_done  # 90 s runs overlap: the second starts before the first ends


def test_forbid_skips_while_a_job_runs_then_makes_up_the_latest_activation() -> None:
    """A 90 s Job every minute under Forbid: the activation during a run is skipped
    (JobAlreadyActive); when the run ends the controller starts the latest missed one at once."""
    result = run(scenario_from_text(cron_scenario('      schedule: "* * * * *"\n      concurrencyPolicy: Forbid')))
    cj = events(result)
    skipped = cj[cj["event"] == "jobAlreadyActive"]
    assert len(skipped) >= 2
    assert set(skipped["reason"]) == {"JobAlreadyActive"}
    jobs = created_jobs(result)
    finished = cj[cj["event"] == "jobFinished"]["t"].tolist()
    assert jobs[0][0] == pytest.approx(60.2, abs=0.3)
    assert min(abs(jobs[1][0] - t) for t in finished) < 0.1  # made up once the first run is seen finished
    active = result.simulation.api.store.get("CronJob", "default", "tick").active
    assert len(active) <= 1


def test_replace_deletes_the_running_job_first() -> None:
    """Replace: at each activation the running Job is deleted (with its pods), then the new one made."""
    result = run(scenario_from_text(cron_scenario('      schedule: "* * * * *"\n      concurrencyPolicy: Replace')))
    cj = events(result)
    deleted = cj[cj["event"] == "jobDeleted"]
    assert len(deleted) == 4
    assert set(deleted["reason"]) == {"SuccessfulDelete"}
    store = result.simulation.api.store
    assert [j.meta.name for j in store.list("Job")] == [f"tick-{int(START) // 60 + 5}"]
    pods = [p for p in store.list("Pod") if p.meta.deletion_time is None]
    assert len(pods) == 1
    assert pods[0].meta.owner.name == f"tick-{int(START) // 60 + 5}"


def test_history_limits_keep_the_newest_finished_jobs() -> None:
    """successfulJobsHistoryLimit 2: after five 20 s runs only the two newest Jobs remain."""
    spec = '      schedule: "* * * * *"\n      successfulJobsHistoryLimit: 2'
    result = run(scenario_from_text(cron_scenario(spec, run_for="20s", duration="5m50s")))
    names = [j.meta.name for j in result.simulation.api.store.list("Job")]
    assert names == [f"tick-{int(START) // 60 + m}" for m in (4, 5)]
    assert len(events(result)[lambda d: d["event"] == "jobDeleted"]) == 3
    assert result.simulation.api.store.get("CronJob", "default", "tick").last_successful_time > 300


def test_suspend_and_resume_with_a_starting_deadline() -> None:
    """Suspended at 1m30s and resumed at 4m10s: no Job meanwhile; on resume the latest missed
    activation (4m) is within startingDeadlineSeconds 30, so it starts late; the 2m and 3m
    activations are never made up."""
    timeline = ("- {at: 90s, action: patch, target: cronjob/tick, patch: {spec: {suspend: true}}}\n"
                "- {at: 250s, action: patch, target: cronjob/tick, patch: {spec: {suspend: false}}}")
    spec = '      schedule: "* * * * *"\n      startingDeadlineSeconds: 30'
    result = run(scenario_from_text(cron_scenario(spec, timeline=timeline)))
    minutes = [int(name.rsplit("-", 1)[1]) - int(START) // 60 for _, name in created_jobs(result)]
    assert minutes == [1, 4, 5]
    assert 250 <= created_jobs(result)[1][0] < 251


def test_a_missed_activation_past_the_deadline_is_skipped_silently() -> None:
    """Resumed 40 s after the 4m activation with a 30 s deadline: no late Job, and no
    MissSchedule either - upstream looks for activations only after now - startingDeadlineSeconds,
    so one older than the deadline is never found (let alone reported)."""
    timeline = ("- {at: 90s, action: patch, target: cronjob/tick, patch: {spec: {suspend: true}}}\n"
                "- {at: 280s, action: patch, target: cronjob/tick, patch: {spec: {suspend: false}}}")
    spec = '      schedule: "* * * * *"\n      startingDeadlineSeconds: 30'
    result = run(scenario_from_text(cron_scenario(spec, timeline=timeline)))
    minutes = [int(name.rsplit("-", 1)[1]) - int(START) // 60 for _, name in created_jobs(result)]
    assert minutes == [1, 5]
    assert not (events(result)["reason"] == "MissSchedule").any()


def test_too_many_missed_activations_are_reported_and_one_job_runs() -> None:
    """Suspended for over 100 activations: TooManyMissedTimes, and only the latest one runs."""
    timeline = ("- {at: 30s, action: patch, target: cronjob/tick, patch: {spec: {suspend: true}}}\n"
                "- {at: 7230s, action: patch, target: cronjob/tick, patch: {spec: {suspend: false}}}")
    result = run(scenario_from_text(cron_scenario('      schedule: "* * * * *"', run_for="5s", duration="2h1m30s",
                                                  timeline=timeline)))
    assert (events(result)["reason"] == "TooManyMissedTimes").sum() == 1
    minutes = [int(name.rsplit("-", 1)[1]) - int(START) // 60 for _, name in created_jobs(result)]
    assert minutes == [120, 121]


def test_time_zone_and_start_time() -> None:
    """02:00 Berlin is 01:00 UTC in winter: with startTime 2026-01-01T00:30:00Z that is t = 1800 s."""
    spec = '      schedule: "0 2 * * *"\n      timeZone: Europe/Berlin'
    result = run(scenario_from_text(cron_scenario(spec, duration="40m", start="startTime: 2026-01-01T00:30:00Z")))
    jobs = created_jobs(result)
    assert len(jobs) == 1
    assert 1800.1 <= jobs[0][0] < 1800.5
    job = result.simulation.api.store.get("Job", "default", jobs[0][1])
    assert job.meta.annotations[SCHEDULED_TIMESTAMP] == "2026-01-01T02:00:00+01:00"


def test_deleting_the_cronjob_deletes_its_jobs_and_pods() -> None:
    timeline = "- {at: 150s, action: delete, target: cronjob/tick}"
    result = run(scenario_from_text(cron_scenario('      schedule: "* * * * *"', timeline=timeline)))
    store = result.simulation.api.store
    assert len(created_jobs(result)) == 2
    assert not store.list("Job")
    assert not [p for p in store.list("Pod") if p.meta.deletion_time is None]


def test_a_schedule_change_requeues_for_the_new_schedule() -> None:
    """Patched from hourly to every 2 minutes at 30 s: Jobs at 2m and 4m, not at 60m."""
    timeline = '- {at: 30s, action: patch, target: cronjob/tick, patch: {spec: {schedule: "*/2 * * * *"}}}'
    result = run(scenario_from_text(cron_scenario('      schedule: "@hourly"', timeline=timeline)))
    assert [round(t) for t, _ in created_jobs(result)] == [120, 240]


def test_most_recent_schedule_time_counts_missed_activations_roughly() -> None:
    """mostRecentScheduleTime: nothing due, one due, or (many missed) the latest one and a rough count."""
    every_minute = parse_standard("* * * * *")
    assert most_recent_schedule_time(every_minute, 0, 59, None) == (0, None, 0)
    assert most_recent_schedule_time(every_minute, 0, 61, None) == (0, 60, 0)
    assert most_recent_schedule_time(every_minute, 0, 7230, None) == (0, 7200, 120)
    assert most_recent_schedule_time(every_minute, 0, 7230, 100) == (7130, 7200, 2)
    with pytest.raises(CronError, match="less than 1 second"):
        most_recent_schedule_time(parse_standard("0 0 30 2 *"), 0, 10**9, None)


@pytest.mark.parametrize(("patch", "field", "message"), [
    ('{spec: {schedule: "61 * * * *"}}', "timeline[0].patch.spec.schedule", "end of range (61) above maximum (59)"),
    ("{spec: {suspend: maybe}}", "timeline[0].patch.spec.suspend", "expected true or false"),
    ("{spec: {timeZone: Nowhere/Land}}", "timeline[0].patch.spec.timeZone", "unknown time zone Nowhere/Land"),
    ("{spec: {jobTemplate: {}}}", "timeline[0].patch.spec.jobTemplate", "a CronJob patch may change spec.suspend"),
], ids=["schedule", "suspend", "zone", "unpatchable"])
def test_a_patch_the_api_server_would_refuse_is_a_located_error(patch: str, field: str, message: str) -> None:
    from sim.yamlio import SourceError

    timeline = f"- {{at: 30s, action: patch, target: cronjob/tick, patch: {patch}}}"
    with pytest.raises(SourceError) as err:
        scenario_from_text(cron_scenario('      schedule: "@hourly"', timeline=timeline))
    assert field in str(err.value), str(err.value)
    assert message in str(err.value), str(err.value)


def test_the_report_counts_what_the_controller_did() -> None:
    """report.md's CronJobs table: Jobs created, runs skipped under Forbid, Jobs deleted."""
    from sim.report import render_report

    spec = '      schedule: "* * * * *"\n      concurrencyPolicy: Forbid\n      successfulJobsHistoryLimit: 1'
    result = run(scenario_from_text(cron_scenario(spec, duration="10m")))
    cj = events(result)
    counts = [(cj["event"] == e).sum() for e in ("jobCreated", "jobAlreadyActive", "jobDeleted")]
    assert all(counts)
    text = render_report(result.trace, result.summary, "", [])
    assert "## CronJobs" in text
    assert f"| tick | {counts[0]} | {counts[1]} | {counts[2]} | – |" in text
