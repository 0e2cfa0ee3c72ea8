"""Job controller, split as upstream splits pkg/controller/job: the loop (controller), the pure
sync (sync), Indexed Jobs (indexed), podFailurePolicy matching and the pod-failure backoff."""

from sim.controllers.job.controller import JOB_NAME_LABEL, JobController, job_labels, job_pod

__all__ = ["JOB_NAME_LABEL", "JobController", "job_labels", "job_pod"]
