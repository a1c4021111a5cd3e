"""Process entry point of the notify service: `python -m services.notify`.

Maps request endpoints and event types to use cases, and starts the background jobs: the delivery
worker (e-mail over SMTP when CONGDOAN_NOTIFY_SMTP_URL is set, webhooks always), the sweeper of
held events, the scheduler of the daily digest, and (once) the re-sealing of webhook secrets after
a key rotation."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from contracts.catalogue import event_of
from runtime.app import Runtime, ServiceDefinition, run_service
from runtime.consumer import Subscription
from runtime.directory import DIRECTORY_HANDLERS
from runtime.logging import get_logger
from runtime.scheduler import Scheduler
from runtime.settings import load_settings
from services.notify.adapters.email import SmtpSender
from services.notify.adapters.secret_box import SecretBox
from services.notify.adapters.webhook import WebhookGuard, WebhookSender
from services.notify.entrypoints.settings import NotifySettings, parse_smtp_url
from services.notify.entrypoints.worker import DeliveryWorker, Sweeper
from services.notify.service_layer import delivery, handlers
from services.notify.service_layer.unit_of_work import NotifyUnitOfWork
from services.notify.service_layer.webhooks import Webhooks, reseal_secrets

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
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


class Parts:
    """What the handlers of one running service share: its settings, its sweeper, the burst flag,
    the webhook target checks and the key of webhook secrets."""

    def __init__(self, rt: Runtime) -> None:
        self.settings = NotifySettings()
        self.policy = self.settings.policy()
        self.webhooks = Webhooks(WebhookGuard(self.settings.allow_list()),
                                 SecretBox.from_file(self.settings.key_file(rt.settings.data_dir)))
        self.sweeper = Sweeper(rt.uow, self.policy, {event_of(m).type: h for m, h in handlers.HANDLERS.items()},
                               interval_s=self.settings.sweep_s)
        self.burst = Burst(self.settings.burst_events)


def parts(rt: Runtime) -> Parts:
    found = getattr(rt, "_notify_parts", None)
    if found is None:
        found = Parts(rt)
        rt._notify_parts = found  # type: ignore[attr-defined]
    return found


def api(rt: Runtime) -> dict[str, Any]:
    policy, webhooks = parts(rt).policy, parts(rt).webhooks
    return {
        "list_inbox": lambda q, who: handlers.list_inbox(q, who, rt.uow()),
        "unread_count": lambda q, who: handlers.unread_count(q, who, rt.uow()),
        "mark_read": lambda q, who: handlers.mark_read(q, who, rt.uow()),
        "get_preferences": lambda q, who: handlers.get_preferences(q, who, rt.uow(), policy),
        "set_preferences": lambda q, who: handlers.set_preferences(q, who, rt.uow(), policy, webhooks),
        "delivery_log": lambda q, who: handlers.delivery_log(q, who, rt.uow()),
    }


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


def subscriptions(rt: Runtime) -> list[Subscription]:
    p = parts(rt)
    by_producer: dict[str, dict[Any, Any]] = {"plans": {}, "reports": {}, "awards": {}}
    for model, handler in DIRECTORY_HANDLERS.items():
        by_producer["plans"][model] = _directory(handler, p.sweeper)
    for model, handler in handlers.HANDLERS.items():
        by_producer[event_of(model).producer][model] = _notifying(handler, p.policy, p.burst)
    return [Subscription(producer, hs) for producer, hs in by_producer.items() if hs]


def background(rt: Runtime) -> list[Any]:
    p = parts(rt)
    s = p.settings
    url = p.policy.url
    senders: list[Any] = [WebhookSender(url=url, guard=p.webhooks.guard, box=p.webhooks.box, now=rt.clock.now,
                                        timeout_s=s.webhook_timeout_s, concurrency=s.webhook_concurrency)]
    if s.smtp_url:
        t = parse_smtp_url(s.smtp_url)
        senders.append(SmtpSender(host=t.host, port=t.port, username=t.username, password=t.password,
                                  use_tls=t.use_tls, start_tls=t.start_tls, timeout_s=s.smtp_timeout_s,
                                  connections=s.smtp_connections, mail_from=s.mail_from, mail_domain=s.mail_domain,
                                  url=url, now=rt.clock.now))
    else:
        log.info("e-mail is off: set CONGDOAN_NOTIFY_SMTP_URL (e.g. smtp://127.0.0.1:8025 for the local catcher, "
                 "python -m services.notify.mailcatcher)")
    worker = DeliveryWorker(rt.uow, p.policy, senders,
                            {"email": (s.email_rate, s.email_burst), "webhook": (s.webhook_rate, s.webhook_burst)},
                            batch=s.batch, poll_s=s.poll_s, hold_back=p.burst.active)
    rt._notify_worker = worker  # type: ignore[attr-defined]

    async def deliveries() -> None:
        await worker.run()

    async def held_events() -> None:
        await p.sweeper.run()

    async def digests() -> None:
        async with rt.uow() as uow:
            await delivery.ensure_digest_scheduled(uow, p.policy)
        scheduler = Scheduler(rt.uow, rt.clock,
                              {delivery.DIGEST_REMINDER: lambda payload, uow: delivery.build_digests(payload, uow, p.policy)})
        await scheduler.run()

    async def webhook_secrets() -> None:  # once, at start: after a key rotation, re-seal with the new key
        try:
            await reseal_secrets(rt.uow, p.webhooks.box)
        except Exception as exc:  # the database busy: the next start does it
            log.warning("re-sealing webhook secrets failed", error=repr(exc))

    return [deliveries, held_events, digests, webhook_secrets]


DEFINITION = ServiceDefinition(name="notify", migrations=MIGRATIONS, api=api, subscriptions=subscriptions,
                               background=background, uow_class=NotifyUnitOfWork)


def main() -> None:
    run_service(DEFINITION, load_settings("notify"))
