"""Webhook settings of a person: the target checked before it is saved, the secret made here,
shown once and stored sealed; and re-sealing the stored secrets after a key rotation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from runtime.errors import Invalid
from runtime.logging import get_logger
from services.notify.adapters.secret_box import SecretBox, SecretUnreadable
from services.notify.adapters.webhook import WebhookGuard
from services.notify.domain.model import Preferences
from services.notify.domain.signing import fingerprint, new_secret
from services.notify.domain.targets import TargetRefused

log = get_logger("notify.webhooks")

RESEAL_CHUNK = 500


@dataclass(frozen=True)
class Webhooks:
    guard: WebhookGuard
    box: SecretBox

    async def vet(self, url: str, field: str = "webhook_url") -> None:
        """A 422 for a target this service would not call (it says why, in Vietnamese, with a
        stable `type`: invalid_url, https_required, address_refused, unresolvable)."""
        try:
            await self.guard.vet(url)
        except TargetRefused as exc:
            log.info("webhook target refused", code=exc.code, host=exc.host, address=exc.address,
                     category=exc.category)
            raise Invalid(exc.message_vi, field, [{"field": field, "message": exc.message_vi, "type": exc.code}]) from None

    def new_secret_for(self, prefs: Preferences) -> str:
        """Make a secret, keep it sealed in `prefs`; the plain secret is returned, for the one
        reply that shows it."""
        secret = new_secret()
        prefs.webhook_secret_sealed = self.box.seal(secret)
        prefs.webhook_secret_fingerprint = fingerprint(secret)
        return secret


async def reseal_secrets(uow_factory: Callable[[], Any], box: SecretBox) -> tuple[int, int]:
    """Seal with the current key every stored secret sealed with an older one (after a rotation);
    returns (resealed, unreadable). Safe on several replicas at once: a row is only replaced if it
    still holds what was read."""
    resealed = unreadable = 0
    after = ""
    while True:
        async with uow_factory() as uow:
            rows = await uow.notify.sealed_secrets(after, RESEAL_CHUNK)
            if not rows:
                await uow.rollback()
                break
            for person_id, token in rows:
                if box.is_current(token):
                    continue
                try:
                    fresh = box.reseal(token)
                except SecretUnreadable:
                    unreadable += 1
                    continue
                resealed += await uow.notify.replace_sealed_secret(person_id, token, fresh)
            after = rows[-1][0]
            await uow.commit()
    if resealed:
        log.info("webhook secrets sealed again with the current key: the older keys may now be removed",
                 resealed=resealed, key_file=box.source)
    if unreadable:
        log.error("webhook secrets no key opens: their webhooks cannot be signed until the key they were "
                  "sealed with is listed again (after the current one)", unreadable=unreadable, key_file=box.source)
    return resealed, unreadable
