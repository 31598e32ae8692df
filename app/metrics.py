"""Prometheus metrics for /metrics: counters kept by this process, and totals read from the
database at scrape time, which are the same whichever process answers the scrape.

Process-local: webhook latency and outcome, match outcomes by kind, token state.
From the database: messages in by event, messages out by outcome, Zalo errors by code,
announcement deliveries by status; and per ward (label `ward`: the ward's slug, bounded by
MAX_WARD_LABELS, the rest and OAs no ward claims counted as "other"): messages in, messages
out by outcome, Zalo errors, and whether its OA's token works.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from app.storage.connection import all_connections
from app.storage.database import Database
from app.storage.stats import DatabaseTotals, totals

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

ASGIApp = Callable[
    [
        MutableMapping[str, Any],
        Callable[[], Awaitable[MutableMapping[str, Any]]],
        Callable[[MutableMapping[str, Any]], Awaitable[None]],
    ],
    Awaitable[None],
]


MAX_WARD_LABELS = 500
"""Wards with a label of their own (a province has a few hundred); the rest share OTHER."""
OTHER = "other"


@dataclass(frozen=True)
class WardLabels:
    """The bounded `ward` label of each OA, and where each ward's token state is kept."""

    by_oa: Mapping[str, str]
    """OA id -> ward slug (at most MAX_WARD_LABELS wards)."""
    token_keys: Mapping[str, str]
    """The key of each ward's OA token pair -> the ward's label."""
    any_oa: str | None = None
    """The ward that answers whichever OA writes (one ward without ZALO_OA_ID)."""

    def label(self, oa_id: str) -> str:
        return self.by_oa.get(oa_id) or self.any_oa or OTHER


class Metrics:
    """One registry per app (no import-time global), rendered by GET /metrics."""

    def __init__(self, db: Database, ward_labels: Callable[[], WardLabels] | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.webhook_seconds = Histogram(
            "wardbot_webhook_seconds",
            "Time to verify, record and acknowledge a webhook request.",
            buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0),
            registry=self.registry,
        )
        self.webhook_responses = Counter(
            "wardbot_webhook_responses_total",
            "Webhook answers by HTTP status.",
            ["status"],
            registry=self.registry,
        )
        self.match_outcomes = Counter(
            "wardbot_match_outcomes_total",
            "Dialogue turns by kind (procedure, clarify, none, ...).",
            ["kind"],
            registry=self.registry,
        )
        self.throttled = Counter(
            "wardbot_throttled_messages_total",
            "Messages from residents over the per-minute limit, recorded but not answered.",
            registry=self.registry,
        )
        self.token_ok = Gauge(
            "wardbot_zalo_token_ok",
            "1 while the last Zalo token refresh (by any process) succeeded, or none was needed.",
            registry=self.registry,
        )
        self.token_ok.set(1)
        self.held_replies = Gauge(
            "wardbot_held_replies",
            "Replies waiting for the Zalo connection to come back.",
            registry=self.registry,
        )
        self.registry.register(_DatabaseCollector(db, ward_labels))
        self._webhook_by_status: dict[int, Any] = {}

    def webhook_answered(self, status: int, seconds: float) -> None:
        """One webhook request answered (on the hot path: the status's child is kept)."""
        self.webhook_seconds.observe(seconds)
        counter = self._webhook_by_status.get(status)
        if counter is None:
            counter = self._webhook_by_status[status] = self.webhook_responses.labels(str(status))
        counter.inc()

    def observe_turn(self, kind: str) -> None:
        self.match_outcomes.labels(kind).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)


class WebhookTimer:
    """ASGI middleware timing webhook requests (pure ASGI: cheap on the hot path). The metrics
    are found on the app's services at request time, as the lifespan builds them."""

    def __init__(self, app: ASGIApp, path: str = "/webhooks/zalo") -> None:
        self.app = app
        self.path = path

    async def __call__(
        self,
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[MutableMapping[str, Any]]],
        send: Callable[[MutableMapping[str, Any]], Awaitable[None]],
    ) -> None:
        services = getattr(getattr(scope.get("app"), "state", None), "services", None)
        metrics = getattr(services, "metrics", None)
        if scope["type"] != "http" or scope["path"] != self.path or metrics is None:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: MutableMapping[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            metrics.webhook_answered(status, time.perf_counter() - started)


class _DatabaseCollector(Collector):
    def __init__(self, db: Database, ward_labels: Callable[[], WardLabels] | None) -> None:
        self._db = db
        self._ward_labels = ward_labels

    def describe(self) -> list[Metric]:
        return []  # read at scrape time only; nothing to query at registration

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "wardbot_database_up", "1 when the database answered this scrape's queries."
        )
        try:
            data: DatabaseTotals = totals(self._db)
        except Exception as exc:  # the process's own metrics still go out
            log.warning("metrics.database_unavailable error=%s", type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        messages_in = CounterMetricFamily(
            "wardbot_messages_in", "Webhook events recorded, by event name.", labels=["event"]
        )
        for event, count in data.events_in.items():
            messages_in.add_metric([event], count)
        yield messages_in
        messages_out = CounterMetricFamily(
            "wardbot_messages_out", "Replies sent or attempted, by outcome.", labels=["outcome"]
        )
        for outcome, count in data.messages_out.items():
            messages_out.add_metric([outcome], count)
        yield messages_out
        errors = CounterMetricFamily(
            "wardbot_zalo_errors", "Replies Zalo refused, by Zalo error code.", labels=["code"]
        )
        for code, count in data.zalo_errors.items():
            errors.add_metric([str(code)], count)
        yield errors
        deliveries = GaugeMetricFamily(
            "wardbot_deliveries", "Announcement deliveries by status.", labels=["status"]
        )
        for status, count in data.deliveries.items():
            deliveries.add_metric([status], count)
        yield deliveries
        if self._ward_labels is not None:
            yield from self._per_ward(data, self._ward_labels())

    def _per_ward(self, data: DatabaseTotals, labels: WardLabels) -> Iterator[Metric]:
        messages_in: dict[str, int] = defaultdict(int)
        for oa_id, count in data.events_in_by_oa.items():
            messages_in[labels.label(oa_id)] += count
        family = CounterMetricFamily(
            "wardbot_ward_messages_in", "Webhook events recorded, by ward.", labels=["ward"]
        )
        for ward, count in sorted(messages_in.items()):
            family.add_metric([ward], count)
        yield family
        messages_out: dict[tuple[str, str], int] = defaultdict(int)
        for (oa_id, outcome), count in data.messages_out_by_oa.items():
            messages_out[(labels.label(oa_id), outcome)] += count
        family = CounterMetricFamily(
            "wardbot_ward_messages_out",
            "Replies sent or attempted, by ward and outcome.",
            labels=["ward", "outcome"],
        )
        for (ward, outcome), count in sorted(messages_out.items()):
            family.add_metric([ward, outcome], count)
        yield family
        errors: dict[str, int] = defaultdict(int)
        for oa_id, count in data.zalo_errors_by_oa.items():
            errors[labels.label(oa_id)] += count
        family = CounterMetricFamily(
            "wardbot_ward_zalo_errors", "Replies Zalo refused, by ward.", labels=["ward"]
        )
        for ward, count in sorted(errors.items()):
            family.add_metric([ward], count)
        yield family
        connections = all_connections(self._db)
        token_ok: dict[str, int] = {}
        for key, ward in labels.token_keys.items():
            row = connections.get(key)
            ok = 1 if row is None or row.ok else 0
            token_ok[ward] = min(ok, token_ok.get(ward, 1))
        gauge = GaugeMetricFamily(
            "wardbot_ward_token_ok",
            "1 while the ward's OA token works (its last refresh, by any process, succeeded).",
            labels=["ward"],
        )
        for ward, ok in sorted(token_ok.items()):
            gauge.add_metric([ward], ok)
        yield gauge
