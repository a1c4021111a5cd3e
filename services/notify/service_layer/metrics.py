"""Prometheus metrics of the notify service (served on /metrics with the runtime's)."""

from prometheus_client import Counter, Gauge

NOTIFICATIONS = Counter("congdoan_notify_notifications_total", "Notifications recorded (in-app inbox)", ["kind"])
HELD = Counter("congdoan_notify_held_total", "Targets held until the directory can name their recipients")
RELEASED = Counter("congdoan_notify_released_total", "Held targets released to their recipients")
ESCALATED = Counter("congdoan_notify_escalated_total",
                    "Notices for units with nobody to tell, sent up to the unit above (or its departments)")
EXPIRED = Counter("congdoan_notify_expired_total",
                  "Held targets dropped after the hold days: nobody could be found (unknown unit or person)")
HELD_NOW = Gauge("congdoan_notify_held_now", "Targets held now, waiting for someone to tell")
DELIVERIES = Counter("congdoan_notify_deliveries_total", "Delivery attempts by outcome", ["channel", "outcome"])
DIGESTS = Counter("congdoan_notify_digests_total", "Daily digest e-mails built")
PENDING = Gauge("congdoan_notify_deliveries_pending", "Deliveries waiting to be sent", ["channel"])
CHANNEL_DOWN = Gauge("congdoan_notify_channel_paused", "1 while a channel is paused after a connection failure",
                     ["channel"])
