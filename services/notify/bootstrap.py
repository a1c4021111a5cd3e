"""The composition root of the notify service: settings, policy, webhook checks and secrets, the
held-events sweeper, the burst flag and the senders built once, and the tables the runtime serves —
which endpoint runs which use case, which event which handler — with the background jobs: the
delivery worker (e-mail over SMTP when CONGDOAN_NOTIFY_SMTP_URL is set, webhooks always), the
sweeper of held events, the scheduler of the daily digest, and (once) the re-sealing of webhook
secrets after a key rotation."""

from __future__ import annotations

import time
from typing import Any, cast

from contracts.catalogue import event_of
from runtime.app import Runtime
from runtime.consumer import Subscription
from runtime.directory import DIRECTORY_HANDLERS
from runtime.logging import get_logger
from runtime.scheduler import Scheduler
from runtime.wiring import Wiring, endpoint
from services.notify.adapters.email import SmtpSender
from services.notify.adapters.secret_box import SecretBox
from services.notify.adapters.webhook import WebhookGuard, WebhookSender
from services.notify.service_layer import delivery, handlers
from services.notify.service_layer.unit_of_work import NotifyUnitOfWork
from services.notify.service_layer.webhooks import Webhooks, reseal_secrets
from services.notify.service_layer.worker import DeliveryWorker, Sweeper
from services.notify.settings import NotifySettings, parse_smtp_url

log = get_logger("notify")


class Burst:
    """Recording comes first: while the consumers work through a burst (a consumer batch of at
    least `threshold` events that notify someone), the delivery worker claims nothing new, so that
    a national fan-out is all in the inbox — and durably queued for e-mail — before the sending
    takes CPU and the database away from it. Sending resumes `hold_s` after the last such batch
    (longer than one batch takes, so the gaps between the batches of one burst do not count)."""

    def __init__(self, threshold: int, hold_s: float = 5.0) -> None:
        self.threshold = threshold
        self.hold_s = hold_s
        self.until = 0.0

    def note(self, events: int) -> None:
        if self.threshold and events >= self.threshold:
            self.until = time.monotonic() + self.hold_s

    def active(self) -> bool:
        return time.monotonic() < self.until


def _directory(handler: Any, sweeper: Sweeper) -> Any:
    async def project(event: Any, uow: NotifyUnitOfWork) -> None:
        await handler(event, uow)
        uow.after_commit("sweep", sweeper.poke)  # someone held for may be reachable now

    return project


def _notifying(handler: Any, policy: Any, burst: Burst) -> Any:
    async def handle(event: Any, uow: NotifyUnitOfWork) -> None:
        await handler(event, uow, policy)
        uow.batch_events += 1
        burst.note(uow.batch_events)  # a big batch holds the sending back while it is handled…
        uow.after_commit("burst", lambda: burst.note(uow.batch_events))  # …and for a while after

    return handle


def bootstrap(rt: Runtime, settings: NotifySettings | None = None) -> Wiring:
    s = settings or NotifySettings()
    policy = s.policy()
    webhooks = Webhooks(WebhookGuard(s.allow_list()), SecretBox.from_file(s.key_file(rt.settings.data_dir)))
    sweeper = Sweeper(rt.uow, policy, {event_of(m).type: h for m, h in handlers.HANDLERS.items()}, interval_s=s.sweep_s)
    burst = Burst(s.burst_events)

    by_producer: dict[str, dict[Any, Any]] = {"plans": {}, "reports": {}, "awards": {}}
    for projected, project in DIRECTORY_HANDLERS.items():
        by_producer["plans"][projected] = _directory(project, sweeper)
    for model, notifying in handlers.HANDLERS.items():
        by_producer[event_of(model).producer][model] = _notifying(notifying, policy, burst)

    senders: list[Any] = [WebhookSender(url=policy.url, guard=webhooks.guard, box=webhooks.box, now=rt.clock.now,
                                        timeout_s=s.webhook_timeout_s, concurrency=s.webhook_concurrency)]
    if s.smtp_url:
        t = parse_smtp_url(s.smtp_url)
        senders.append(SmtpSender(host=t.host, port=t.port, username=t.username, password=t.password,
                                  use_tls=t.use_tls, start_tls=t.start_tls, timeout_s=s.smtp_timeout_s,
                                  connections=s.smtp_connections, mail_from=s.mail_from, mail_domain=s.mail_domain,
                                  url=policy.url, now=rt.clock.now))
    else:
        log.info("e-mail is off: set CONGDOAN_NOTIFY_SMTP_URL (e.g. smtp://127.0.0.1:8025 for the local catcher, "
                 "python -m services.notify.mailcatcher)")
    worker = DeliveryWorker(rt.uow, policy, senders,
                            {"email": (s.email_rate, s.email_burst), "webhook": (s.webhook_rate, s.webhook_burst)},
                            batch=s.batch, poll_s=s.poll_s, hold_back=burst.active)
    digests = Scheduler(rt.uow, rt.clock, {
        delivery.DIGEST_REMINDER: lambda payload, uow: delivery.build_digests(payload, uow, policy)})

    async def deliveries() -> None:
        await worker.run()

    async def held_events() -> None:
        await sweeper.run()

    async def digest() -> None:
        async with rt.uow() as uow:  # a NotifyUnitOfWork: the definition's uow_class
            await delivery.ensure_digest_scheduled(cast(NotifyUnitOfWork, uow), policy)
        await digests.run()

    async def webhook_secrets() -> None:  # once, at start: after a key rotation, re-seal with the new key
        try:
            await reseal_secrets(rt.uow, webhooks.box)
        except Exception as exc:  # the database busy: the next start does it
            log.warning("re-sealing webhook secrets failed", error=repr(exc))

    return Wiring(
        # endpoint → use case(cmd, who, uow[, policy[, webhooks]])
        endpoints={
            "list_inbox": endpoint(handlers.list_inbox, rt.uow),
            "unread_count": endpoint(handlers.unread_count, rt.uow),
            "mark_read": endpoint(handlers.mark_read, rt.uow),
            "get_preferences": endpoint(handlers.get_preferences, rt.uow, policy),
            "set_preferences": endpoint(handlers.set_preferences, rt.uow, policy, webhooks),
            "delivery_log": endpoint(handlers.delivery_log, rt.uow),
        },
        subscriptions=[Subscription(producer, hs) for producer, hs in by_producer.items() if hs],
        background=[deliveries, held_events, digest, webhook_secrets],
        parts={"worker": worker, "sweeper": sweeper, "webhooks": webhooks, "policy": policy, "scheduler": digests},
    )
