"""Scenario sections for model serving: ``traffic`` (who sends requests, and how many),
``serving`` (how they are simulated, routed and autoscaled) and ``behavior.serving`` (what a
model-server replica does with a request).

Validated at load time like the rest of a scenario; the models here are frozen and their
defaults cite where they come from (kube-proxy, ingress-nginx, Knative's config-autoscaler).
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from sim.api.quantity import QuantityError, cpu_millis
from sim.config import Model
from sim.distributions import Z99, Dist, Duration

__all__ = [
    "Batching",
    "Burst",
    "ConstantRate",
    "DiurnalRate",
    "IngressController",
    "KpaSpec",
    "QueueSpec",
    "RateSpec",
    "ServiceTime",
    "ServingBehavior",
    "ServingConfig",
    "StepRate",
    "Tokens",
    "TraceReplay",
    "TrafficSource",
]


def _cores(value: str | int | float) -> float:
    try:
        return cpu_millis(value) / 1000
    except QuantityError as exc:
        raise ValueError(str(exc)) from None


# ---------------------------------------------------------------------------- traffic

class ConstantRate(Model):
    """A steady mean rate of ``rate`` requests per second."""

    pattern: Literal["constant"]
    rate: float = Field(ge=0, description="Requests per second.")


class DiurnalRate(Model):
    """A day-shaped rate: ``mean × (1 + amplitude × cos(2π (t − peakAt) / period))``, times a
    piecewise-constant noise factor redrawn every ``noiseInterval`` (relative std ``noise``)."""

    pattern: Literal["diurnal"]
    mean: float = Field(ge=0, description="Mean requests per second over a period.")
    amplitude: float = Field(0.5, ge=0, le=1, description="Peak-to-mean swing as a fraction of the mean.")
    period: Duration = Field(86400.0, gt=0, description="Length of one cycle (24h).")
    peak_at: Duration = Field(50400.0, description="Time of the first peak (14h: mid-afternoon).")
    noise: float = Field(0.0, ge=0, le=1, description="Relative std of the noise factor.")
    noise_interval: Duration = Field(300.0, gt=0, description="How long one noise draw lasts.")


class RateStep(Model):
    """From ``at`` on, the rate is ``rate``."""

    at: Duration
    rate: float = Field(ge=0)


class StepRate(Model):
    """A piecewise-constant rate, e.g. a load test's stages."""

    pattern: Literal["steps"]
    steps: list[RateStep] = Field(min_length=1)

    @field_validator("steps")
    @classmethod
    def _sorted(cls, value: list[RateStep]) -> list[RateStep]:
        if any(b.at < a.at for a, b in zip(value, value[1:], strict=False)):
            raise ValueError("steps must be in time order")
        return value


RateSpec = Annotated[ConstantRate | DiurnalRate | StepRate, Field(discriminator="pattern")]


class Burst(Model):
    """The rate is multiplied by ``factor`` from ``at`` for ``duration`` (a flash crowd)."""

    at: Duration
    duration: Duration = Field(gt=0)
    factor: float = Field(gt=0)


class TraceReplay(Model):
    """Replay a request log: a CSV of ``TIMESTAMP,ContextTokens,GeneratedTokens`` rows (the
    Azure LLM inference trace format); times are taken relative to the first row."""

    file: str = Field(description="CSV path, relative to the scenario file.")
    time_scale: float = Field(1.0, gt=0, description="Divide gaps by this (2 = twice the rate).")
    skip: Duration = Field(0.0, description="Start this far into the trace.")
    loop: bool = Field(False, description="Start over at the end of the trace.")


class Tokens(Model):
    """Token counts of synthetic requests (plain numbers, or distributions of numbers)."""

    context: Dist = Field(default_factory=lambda: Dist(dist="constant", value=0))
    generated: Dist = Field(default_factory=lambda: Dist(dist="constant", value=0))


class TrafficSource(Model):
    """Clients sending requests to a Service (``service``) or through the Ingress (``host``)."""

    name: str
    service: str | None = Field(None, description="Service name: requests go through kube-proxy.")
    host: str | None = Field(None, description="Ingress host: requests go through the ingress controller.")
    path: str = Field("/", description="Ingress request path.")
    namespace: str = "default"
    arrivals: Literal["poisson", "uniform"] = Field(
        "poisson", description="Poisson process, or evenly spaced at the current rate.")
    rate: RateSpec | None = None
    bursts: list[Burst] = Field(default_factory=list)
    trace: TraceReplay | None = None
    tokens: Tokens = Field(default_factory=Tokens)
    start: Duration = 0.0
    stop: Duration | None = None

    @model_validator(mode="after")
    def _one_of(self) -> TrafficSource:
        if (self.service is None) == (self.host is None):
            raise ValueError("set exactly one of service (via kube-proxy) and host (via the Ingress)")
        if (self.rate is None) == (self.trace is None):
            raise ValueError("set exactly one of rate and trace")
        if not self.path.startswith("/"):
            raise ValueError(f"path must start with '/', got {self.path!r}")
        return self


# ---------------------------------------------------------------------------- model server

class ServiceTime(Model):
    """Time one request holds a slot: a base draw plus per-token terms.

    ``dist`` is constant, exponential, lognormal (median with p99 or sigma) or empirical
    (``values`` drawn with equal weight); then ``perContextToken × context tokens +
    perGeneratedToken × generated tokens`` is added (prefill and decode time)."""

    dist: Literal["constant", "exponential", "lognormal", "empirical"] = "lognormal"
    value: Duration | None = None
    mean: Duration | None = None
    median: Duration | None = None
    sigma: float | None = Field(None, ge=0)
    p99: Duration | None = None
    values: list[Duration] | None = None
    per_context_token: Duration = 0.0
    per_generated_token: Duration = 0.0

    @model_validator(mode="after")
    def _check(self) -> ServiceTime:
        needed = {"constant": ("value",), "exponential": ("mean",), "lognormal": ("median",),
                  "empirical": ("values",)}[self.dist]
        missing = [name for name in needed if getattr(self, name) is None]
        if missing:
            raise ValueError(f"a {self.dist} service time needs {', '.join(missing)}")
        if self.dist == "lognormal" and self.sigma is None and self.p99 is None:
            raise ValueError("a lognormal service time needs sigma or p99")
        if self.dist == "lognormal" and self.p99 is not None and self.p99 < self.median:  # type: ignore[operator]
            raise ValueError("lognormal p99 must be >= median")
        if self.dist == "empirical" and not self.values:
            raise ValueError("empirical values must not be empty")
        return self

    @property
    def log_sigma(self) -> float:
        """Sigma of the underlying normal of a lognormal."""
        if self.sigma is not None:
            return self.sigma
        return math.log(self.p99 / self.median) / Z99 if self.median else 0.0  # type: ignore[operator]


class QueueSpec(Model):
    """The server's request queue: at most ``limit`` waiting; a request waiting longer than
    ``timeout`` gives up (the client's deadline)."""

    limit: int = Field(100, ge=0)
    timeout: Duration = Field(30.0, gt=0)


class Batching(Model):
    """Dynamic batching (Triton's dynamic_batcher): a free instance takes up to
    ``maxBatchSize`` queued requests, waiting at most ``maxQueueDelay`` after the oldest
    arrived for the batch to fill. A batch of b takes ``latencyFactor(b)`` × its longest
    member's service time, ``latencyFactor`` interpolated from [batch size, factor] points."""

    max_batch_size: int = Field(8, ge=1)
    max_queue_delay: Duration = Field(0.005, description="Triton max_queue_delay_microseconds.")
    latency_factor: list[tuple[int, float]] = Field(
        default_factory=lambda: [(1, 1.0), (8, 2.0)],
        description="[[batch size, factor of one request's time], ...]; the first point is at 1.")

    @field_validator("latency_factor")
    @classmethod
    def _curve(cls, value: list[tuple[int, float]]) -> list[tuple[int, float]]:
        sizes = [b for b, _ in value]
        if not value or sizes[0] != 1 or sizes != sorted(set(sizes)) or any(f <= 0 for _, f in value):
            raise ValueError("latencyFactor needs increasing batch sizes from 1, with positive factors")
        return value


class ServingBehavior(Model):
    """What one model-server replica does with requests (``workloads[].behavior.serving``).

    A pod that requests ``nvidia.com/gpu`` serves at ``serviceTime``; one without a GPU uses
    ``cpuServiceTime`` when given (the same model on CPU)."""

    concurrency: int = Field(1, ge=1, description="Requests served at once (slots, or batch instances).")
    queue: QueueSpec = Field(default_factory=QueueSpec)
    service_time: ServiceTime
    cpu_service_time: ServiceTime | None = None
    batching: Batching | None = None
    cpu_per_request: float | None = Field(
        None, description="CPU a request in service uses, e.g. 250m (default: the pod's cpu request / "
        "concurrency).")
    idle_cpu: float = Field(0.01, description="CPU an idle replica uses (10m).")

    @model_validator(mode="after")
    def _batch_fits_queue(self) -> ServingBehavior:
        if self.batching is not None and self.queue.limit < self.batching.max_batch_size:
            raise ValueError(f"with batching, queue.limit ({self.queue.limit}) must be at least "
                             f"maxBatchSize ({self.batching.max_batch_size}): a forming batch waits in the queue")
        return self

    @field_validator("cpu_per_request", "idle_cpu", mode="before")
    @classmethod
    def _cpu(cls, value: str | int | float | None) -> float | None:
        return None if value is None else _cores(value)


# ---------------------------------------------------------------------------- routing

class IngressController(Model):
    """The ingress controller (ingress-nginx) as a hop: latency, and capacity per ready pod.

    With ``selector`` its pods are the scenario's pods with those labels (so their start-up
    and readiness matter); without it, ``replicas`` pods are always there. It balances
    round-robin over a Service's ready endpoints (``load-balance: round_robin``), picking up
    endpoint changes at most ``1 / syncRateLimit`` apart (``--sync-rate-limit`` 0.3)."""

    selector: dict[str, str] | None = None
    replicas: int = Field(2, ge=0, description="Controller pods when there is no selector.")
    capacity_per_pod: float = Field(5000.0, gt=0, description="Requests per second one controller pod proxies.")
    latency: Dist = Field(default_factory=lambda: Dist(dist="lognormal", median="1ms", p99="5ms"))
    sync_rate_limit: float = Field(0.3, gt=0, description="Backend reconfigurations per second (0.3).")


class KpaSpec(Model):
    """A Knative-Pod-Autoscaler-like scaler of one Deployment (knative config-autoscaler
    defaults); it writes spec.replicas through the API server, as the HPA does."""

    deployment: str = Field(description="Name of the Deployment it scales.")
    namespace: str = "default"
    metric: Literal["concurrency", "rps"] = "concurrency"
    target: float = Field(100.0, gt=0, description="Per-pod target (container-concurrency-target-default 100).")
    target_utilization: float = Field(0.7, gt=0, le=1, description="container-concurrency-target-percentage (70).")
    stable_window: Duration = Field(60.0, ge=6, description="stable-window (60s).")
    panic_window_percentage: float = Field(10.0, gt=0, le=100, description="panic-window-percentage (10).")
    panic_threshold_percentage: float = Field(200.0, ge=110, description="panic-threshold-percentage (200).")
    max_scale_up_rate: float = Field(1000.0, gt=1, description="max-scale-up-rate (1000).")
    max_scale_down_rate: float = Field(2.0, gt=1, description="max-scale-down-rate (2).")
    min_scale: int = Field(1, ge=1, description="Scale to zero is not modelled.")
    max_scale: int = Field(0, ge=0, description="0 = unbounded.")
    tick_interval: Duration = Field(2.0, gt=0, description="tick-interval (2s).")

    @property
    def target_value(self) -> float:
        """What one pod should carry: target × utilization (Knative's TargetValue)."""
        return self.target * self.target_utilization


class ServingConfig(Model):
    """How requests are simulated and where they go."""

    mode: Literal["auto", "exact", "fluid"] = Field(
        "auto", description="exact: every request; fluid: queueing formulas per tick; auto: by rate.")
    exact_max_rate: float = Field(500.0, gt=0, description="auto picks fluid above this peak total rate (req/s).")
    tick: Duration = Field(1.0, gt=0, description="Metric scrape period, and the fluid mode's step.")
    slo_latency: Duration = Field(1.0, gt=0, description="A request meets the SLO if served within this.")
    ingress_controller: IngressController = Field(default_factory=IngressController)
    autoscalers: list[KpaSpec] = Field(default_factory=list)
