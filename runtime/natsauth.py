"""Who may do what on NATS: users and subject permissions, derived from the contracts.

One definition (this module) makes the nats-server accounts block, the credentials and the
connection options of every process. Everything follows from `contracts.naming`, the catalogue
(what each service produces, consumes and serves) and `contracts.streams`, so a new event or
endpoint in the contracts changes the permissions with it.

    user         may
    plans …      (one per service) publish its own event subjects, its dead-letter subjects, the
                 JetStream API calls of its streams and durable consumers, acks of its own
                 consumers and replies to requests; subscribe to its endpoints, $SRV discovery and
                 its own inbox; read the clock bucket
    client       publish requests (congdoan.api.>); subscribe to its own inbox — nothing else
    web          the web front-end: a client that also hears notify's "new notices" events (a
                 plain subscription, for live pages) and reads the clock bucket
    subscriber   read the event streams through consumers of its own (never a service's durable);
                 publish no event
    operator     write the clock bucket; read, consume and clean the dead-letter stream, ask a
                 consumer to take a parked message back (a replay ask, no event); read stream and
                 consumer state; $SRV discovery

All users live in one account (`CONGDOAN`, JetStream enabled); there is no `no_auth_user`, so an
anonymous connection is refused. Users authenticate with nkeys: the server config holds only
public keys, each process its seed (`<data_dir>/secrets/nats/<user>.nk`, 0600). Every user has
its own reply inbox `_INBOX.<user>.>`: no one reads another user's replies (a login reply
carries tokens). Integrators get users of their own with the client or subscriber role
(`python -m runtime.natsctl add-user`).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contracts import naming
from contracts.catalogue import CONSUMES, EVENTS_BY_TYPE, endpoints_of, produced_by
from contracts.streams import STREAMS

ACCOUNT = "CONGDOAN"
CLIENT, SUBSCRIBER, OPERATOR, WEB = "client", "subscriber", "operator", "web"
SERVICE_USERS: tuple[str, ...] = naming.SERVICES
BUILTIN_USERS: tuple[str, ...] = (*SERVICE_USERS, CLIENT, SUBSCRIBER, OPERATOR, WEB)
INTEGRATOR_ROLES = (CLIENT, SUBSCRIBER)  # what an added user may be
ROLES = (*SERVICE_USERS, CLIENT, SUBSCRIBER, OPERATOR, WEB)
# What the web front-end hears live: one event type of notify, by core subscription.
WEB_LIVE_EVENTS = ("vn.congdoan.notify.notifications.created.v1",)
# A service may answer a request long after it came (a large import): one reply, within this.
RESPONSE_EXPIRES = "10m"

_API = "$JS.API"
_USER_RE = re.compile(r"^[a-z][a-z0-9-]{1,39}$")


@dataclass(frozen=True)
class Permissions:
    publish: tuple[str, ...]
    subscribe: tuple[str, ...]
    publish_deny: tuple[str, ...] = ()
    allow_responses: bool = False

    def as_config(self) -> dict[str, Any]:
        pub: dict[str, Any] = {"allow": list(self.publish)}
        if self.publish_deny:
            pub["deny"] = list(self.publish_deny)
        out: dict[str, Any] = {"publish": pub, "subscribe": {"allow": list(self.subscribe)}}
        if self.allow_responses:
            out["allow_responses"] = {"max": 1, "expires": RESPONSE_EXPIRES}
        return out


def inbox_prefix(user: str) -> str:
    """The reply inbox of a user: `_INBOX.<user>` (nats-py `inbox_prefix=`)."""
    return f"_INBOX.{user}"


def event_streams() -> list[str]:
    return [naming.stream_name(s) for s in naming.SERVICES]


def durables_of(service: str) -> list[tuple[str, str]]:
    """(stream, durable) of each durable consumer a service keeps: one per producer it consumes."""
    producers = sorted({EVENTS_BY_TYPE[t].producer for t in CONSUMES.get(service, ())})
    return [(naming.stream_name(p), naming.durable_name(service, p)) for p in producers]


def all_service_durables() -> list[tuple[str, str]]:
    return [d for s in naming.SERVICES for d in durables_of(s)]


def _kv_read(bucket: str) -> list[str]:
    stream = f"KV_{bucket}"
    return [f"{_API}.STREAM.INFO.{stream}", f"{_API}.DIRECT.GET.{stream}", f"{_API}.DIRECT.GET.{stream}.>",
            f"{_API}.STREAM.MSG.GET.{stream}"]


def _consume(stream: str, durable: str) -> list[str]:
    """What keeping one durable pull consumer takes: create (either API form), info, fetch, ack."""
    return [f"{_API}.CONSUMER.CREATE.{stream}.{durable}", f"{_API}.CONSUMER.CREATE.{stream}.{durable}.>",
            f"{_API}.CONSUMER.DURABLE.CREATE.{stream}.{durable}", f"{_API}.CONSUMER.INFO.{stream}.{durable}",
            f"{_API}.CONSUMER.MSG.NEXT.{stream}.{durable}", f"$JS.ACK.{stream}.{durable}.>"]


def _own_consumers(stream: str) -> list[str]:
    """Consumers of any name on a stream, durable or ephemeral, pull or push (ordered)."""
    return [f"{_API}.STREAM.INFO.{stream}", f"{_API}.STREAM.MSG.GET.{stream}", f"{_API}.DIRECT.GET.{stream}",
            f"{_API}.DIRECT.GET.{stream}.>", f"{_API}.CONSUMER.CREATE.{stream}", f"{_API}.CONSUMER.CREATE.{stream}.>",
            f"{_API}.CONSUMER.DURABLE.CREATE.{stream}.*", f"{_API}.CONSUMER.INFO.{stream}.*",
            f"{_API}.CONSUMER.DELETE.{stream}.*", f"{_API}.CONSUMER.MSG.NEXT.{stream}.*",
            f"{_API}.CONSUMER.NAMES.{stream}", f"{_API}.CONSUMER.LIST.{stream}",
            f"$JS.ACK.{stream}.>", f"$JS.FC.{stream}.>"]


def _hands_off(stream: str, durable: str) -> list[str]:
    """A service's durable consumer, which no one else may change, delete, fetch from or ack."""
    return [f"{_API}.CONSUMER.CREATE.{stream}.{durable}", f"{_API}.CONSUMER.CREATE.{stream}.{durable}.>",
            f"{_API}.CONSUMER.DURABLE.CREATE.{stream}.{durable}", f"{_API}.CONSUMER.DELETE.{stream}.{durable}",
            f"{_API}.CONSUMER.MSG.NEXT.{stream}.{durable}", f"$JS.ACK.{stream}.{durable}.>"]


def _discovery(micro: str | None = None) -> list[str]:
    if micro is None:
        return ["$SRV.>"]
    return ["$SRV.PING", "$SRV.INFO", "$SRV.STATS", f"$SRV.*.{micro}", f"$SRV.*.{micro}.*"]


def service_permissions(service: str) -> Permissions:
    publish = [e.subject for e in produced_by(service)]
    publish += [naming.dlq_subject(service, durable) for _, durable in durables_of(service)]
    # Any service may be the first to start: it declares every stream (contracts/streams.py),
    # never deletes or purges one.
    for spec in STREAMS:
        publish += [f"{_API}.STREAM.INFO.{spec.name}", f"{_API}.STREAM.CREATE.{spec.name}",
                    f"{_API}.STREAM.UPDATE.{spec.name}"]
    for stream, durable in durables_of(service):
        publish += _consume(stream, durable)
        # An operator's replay asks for this durable (runtime/replay.py): a consumer of its own on
        # the dead-letter stream; the parked message, or the original it refers to, read by sequence.
        publish += _consume(naming.DLQ_STREAM, f"{durable}-replay")
        publish += [f"{_API}.STREAM.MSG.GET.{stream}"]
    if durables_of(service):
        publish += [f"{_API}.STREAM.MSG.GET.{naming.DLQ_STREAM}"]
    publish += _kv_read(naming.CLOCK_BUCKET)
    subscribe = [e.subject for e in endpoints_of(service)]
    subscribe += _discovery(naming.micro_name(service))
    subscribe += [f"{inbox_prefix(service)}.>"]
    return Permissions(tuple(publish), tuple(subscribe), allow_responses=True)


def client_permissions(user: str = CLIENT) -> Permissions:
    return Permissions((f"{naming.API_PREFIX}.>",), (f"{inbox_prefix(user)}.>",))


def web_permissions(user: str = WEB) -> Permissions:
    publish = (f"{naming.API_PREFIX}.>", *_kv_read(naming.CLOCK_BUCKET))
    subscribe = (f"{inbox_prefix(user)}.>", *(EVENTS_BY_TYPE[t].subject for t in WEB_LIVE_EVENTS))
    return Permissions(publish, subscribe)


def subscriber_permissions(user: str = SUBSCRIBER) -> Permissions:
    publish = [f"{_API}.INFO", f"{_API}.STREAM.NAMES", f"{_API}.STREAM.LIST"]
    for stream in event_streams():
        publish += _own_consumers(stream)
    deny = [s for stream, durable in all_service_durables() for s in _hands_off(stream, durable)]
    return Permissions(tuple(publish), (f"{inbox_prefix(user)}.>",), publish_deny=tuple(deny))


def operator_permissions(user: str = OPERATOR) -> Permissions:
    kv = f"KV_{naming.CLOCK_BUCKET}"
    publish = [f"$KV.{naming.CLOCK_BUCKET}.>", f"{_API}.STREAM.CREATE.{kv}", f"{_API}.STREAM.UPDATE.{kv}",
               *_kv_read(naming.CLOCK_BUCKET)]
    dlq = naming.DLQ_STREAM
    publish += _own_consumers(dlq)
    publish += [f"{_API}.STREAM.MSG.DELETE.{dlq}", f"{_API}.STREAM.PURGE.{dlq}"]
    # Replay asks (a reference to a parked message, never an event: runtime/replay.py) and the
    # operators' record of what they did with dead letters (runtime/dlqctl.py).
    publish += [naming.replay_subject(svc, durable) for svc in naming.SERVICES for _, durable in durables_of(svc)]
    publish += [f"{naming.DLQ_OPS_PREFIX}.>"]
    # Watching the stack: stream and consumer state, service discovery. Reading, not consuming.
    publish += [f"{_API}.INFO", f"{_API}.STREAM.NAMES", f"{_API}.STREAM.LIST", f"{_API}.STREAM.INFO.*",
                f"{_API}.CONSUMER.NAMES.*", f"{_API}.CONSUMER.LIST.*", f"{_API}.CONSUMER.INFO.*.*"]
    publish += _discovery()
    return Permissions(tuple(publish), (f"{inbox_prefix(user)}.>",))


def permissions(role: str, user: str | None = None) -> Permissions:
    user = user or role
    if role in SERVICE_USERS:
        return service_permissions(role)
    if role == CLIENT:
        return client_permissions(user)
    if role == SUBSCRIBER:
        return subscriber_permissions(user)
    if role == OPERATOR:
        return operator_permissions(user)
    if role == WEB:
        return web_permissions(user)
    raise ValueError(f"unknown NATS role {role!r} (one of {', '.join(ROLES)})")


# --- credentials ------------------------------------------------------------------------------------

def new_seed() -> bytes:
    import nkeys

    return bytes(nkeys.encode_seed(os.urandom(32), nkeys.PREFIX_BYTE_USER))


def public_key(seed: bytes) -> str:
    import nkeys

    kp = nkeys.from_seed(bytearray(seed.strip()))
    try:
        return kp.public_key.decode()
    finally:
        kp.wipe()


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


@dataclass(frozen=True)
class NatsUser:
    name: str
    role: str
    nkey: str  # public key: what the server config holds
    note: str = ""


class NatsUsers:
    """The users of one installation: `users.json` (names, roles, public keys — nothing secret)
    and one seed file per user, `<name>.nk` (0600), in one folder (`<data_dir>/secrets/nats`)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    @property
    def registry(self) -> Path:
        return self.folder / "users.json"

    def seed_path(self, name: str) -> Path:
        return self.folder / f"{name}.nk"

    def all(self) -> dict[str, NatsUser]:
        if not self.registry.exists():
            return {}
        raw = json.loads(self.registry.read_text(encoding="utf-8"))
        return {n: NatsUser(n, u["role"], u["nkey"], u.get("note", "")) for n, u in raw.get("users", {}).items()}

    def _save(self, users: dict[str, NatsUser]) -> None:
        body = {"users": {u.name: {"role": u.role, "nkey": u.nkey, **({"note": u.note} if u.note else {})}
                          for u in sorted(users.values(), key=lambda u: u.name)}}
        _write_private(self.registry, (json.dumps(body, indent=2, ensure_ascii=False) + "\n").encode())

    def _make(self, name: str, role: str, note: str = "") -> NatsUser:
        seed = new_seed()
        _write_private(self.seed_path(name), seed + b"\n")
        return NatsUser(name, role, public_key(seed), note)

    def ensure_builtin(self) -> dict[str, Path]:
        """The built-in users (each service, client, subscriber, operator), made on first use;
        a user whose seed file went missing gets a new one. Returns user → seed file."""
        users = self.all()
        changed = False
        for name in BUILTIN_USERS:
            u = users.get(name)
            path = self.seed_path(name)
            if u is None or not path.exists() or public_key(path.read_bytes()) != u.nkey:
                users[name] = self._make(name, name)
                changed = True
        if changed:
            self._save(users)
        return {name: self.seed_path(name) for name in BUILTIN_USERS}

    def add(self, name: str, role: str, note: str = "") -> Path:
        """A user for an integrator (role client or subscriber); again for a name that exists:
        a new seed (the old one stops working once the server has the new config)."""
        if not _USER_RE.match(name):
            raise ValueError("a user name is 2-40 of a-z, 0-9 and '-', starting with a letter")
        if name in BUILTIN_USERS:
            raise ValueError(f"{name} is a built-in user: rotate it instead")
        if role not in INTEGRATOR_ROLES:
            raise ValueError(f"an integrator's role is one of {', '.join(INTEGRATOR_ROLES)}")
        users = self.all()
        users[name] = self._make(name, role, note)
        self._save(users)
        return self.seed_path(name)

    def rotate(self, name: str) -> Path:
        users = self.all()
        if name not in users:
            raise KeyError(name)
        u = users[name]
        users[name] = self._make(name, u.role, u.note)
        self._save(users)
        return self.seed_path(name)

    def remove(self, name: str) -> bool:
        if name in BUILTIN_USERS:
            raise ValueError(f"{name} is a built-in user: rotate it instead")
        users = self.all()
        if users.pop(name, None) is None:
            return False
        self._save(users)
        self.seed_path(name).unlink(missing_ok=True)
        return True

    def accounts_config(self, extra_users: list[dict[str, Any]] | None = None) -> str:
        """The `accounts { … }` block of nats-server's configuration (JSON values, which its
        parser reads; quoted, so that `$JS…` subjects are not taken for variables)."""
        entries = [{"nkey": u.nkey, "permissions": permissions(u.role, u.name).as_config()}
                   for u in sorted(self.all().values(), key=lambda u: u.name)]
        entries += extra_users or []
        account = {"jetstream": "enabled", "users": entries}
        return "accounts: " + json.dumps({ACCOUNT: account}, indent=2) + "\n"


# --- connecting ---------------------------------------------------------------------------------------

def connect_options(user: str, *, secrets_dir: Path | None = None, creds: Path | str | None = None,
                    nats_user: str | None = None, nats_password: str | None = None,
                    inbox: str | None = None) -> dict[str, Any]:
    """Keyword arguments for `nats.connect` as `user`, from the first that applies:

    1. `creds`: a NATS `.creds` file (JWT and seed, for a server in operator/JWT mode) or an nkey
       seed file (`SU…`), told apart by their content;
    2. `nats_user` and `nats_password` (a server with plain user/password users);
    3. the embedded stack's seed, `<secrets_dir>/nats/<user>.nk`, if it exists;
    4. nothing: an anonymous connection (a server without authentication).

    The reply inbox is `_INBOX.<user>` unless `inbox` says otherwise."""
    opts: dict[str, Any] = {"inbox_prefix": inbox or inbox_prefix(user)}
    if creds:
        path = Path(creds)
        text = path.read_text(encoding="utf-8", errors="replace")
        if "BEGIN NATS USER JWT" in text:
            opts["user_credentials"] = str(path)
        elif text.strip().startswith("SU"):
            opts["nkeys_seed"] = str(path)
        else:
            raise ValueError(f"{path}: neither a NATS .creds file nor an nkey seed (SU…)")
    elif nats_user:
        opts["user"] = nats_user
        opts["password"] = nats_password or ""
    elif secrets_dir is not None and (seed := Path(secrets_dir) / "nats" / f"{user}.nk").exists():
        opts["nkeys_seed"] = str(seed)
    return opts


def env_connect_options(user: str, data_dir: Path | str | None = None, creds: Path | str | None = None) -> dict[str, Any]:
    """`connect_options` for a command-line tool from the environment: `CONGDOAN_NATS_CREDS`,
    `CONGDOAN_NATS_USER`/`CONGDOAN_NATS_PASSWORD`, `CONGDOAN_NATS_INBOX_PREFIX`, else the
    embedded stack's seed of `user` under `CONGDOAN_DATA_DIR` (default `var`)."""
    data = Path(data_dir or os.environ.get("CONGDOAN_DATA_DIR") or "var")
    return connect_options(user, secrets_dir=data / "secrets", creds=creds or os.environ.get("CONGDOAN_NATS_CREDS"),
                           nats_user=os.environ.get("CONGDOAN_NATS_USER"),
                           nats_password=os.environ.get("CONGDOAN_NATS_PASSWORD"),
                           inbox=os.environ.get("CONGDOAN_NATS_INBOX_PREFIX"))


async def connect(url: str, user: str, *, data_dir: Path | str | None = None, **kwargs: Any) -> Any:
    """A nats-py connection as `user` with the credentials `env_connect_options` finds."""
    import nats

    servers = [u.strip() for u in url.split(",") if u.strip()]  # NATS_URL may list a cluster's nodes
    return await nats.connect(servers, **{**env_connect_options(user, data_dir), **kwargs})
