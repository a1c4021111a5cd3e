"""An outside observer of congdoan's event streams.

Deliberately imports nothing of the project: only nats-py, the official CloudEvents SDK and
jsonschema, and the JSON Schemas published in contracts/schemas/ — what another system
subscribing to congdoan would have. It reads every event of the CONGDOAN_* streams (not the
dead-letter stream) and checks that each is a valid CloudEvent whose `type` has a schema, that the
whole event validates against that schema, and that the JetStream header Nats-Msg-Id equals the
event id.

    python tests/observer/observer.py nats://127.0.0.1:4223 contracts/schemas
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import nats
from cloudevents.core.formats.json import JSONFormat
from jsonschema import Draft202012Validator, FormatChecker


@dataclass
class Findings:
    events: int = 0
    by_type: Counter = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)


def load_validators(schema_dir: Path) -> dict[str, Draft202012Validator]:
    validators = {}
    for path in schema_dir.glob("vn.congdoan.*.json"):
        if path.name.endswith(".data.json"):
            continue
        schema = json.loads(path.read_text(encoding="utf-8"))
        validators[path.name.removesuffix(".json")] = Draft202012Validator(schema, format_checker=FormatChecker())
    return validators


async def observe(url: str, schema_dir: Path, **connect_options) -> Findings:  # type: ignore[no-untyped-def]
    """Read every event stream; `connect_options` go to nats.connect (credentials: congdoan
    refuses anonymous connections; another system reads as a subscriber user)."""
    validators = load_validators(schema_dir)
    found = Findings()
    nc = await nats.connect(url, **connect_options)
    js = nc.jetstream()
    try:
        streams = [s.config.name for s in await js.streams_info()
                   if s.config.name.startswith("CONGDOAN_") and s.config.name != "CONGDOAN_DLQ"]
        for stream in sorted(streams):
            info = await js.stream_info(stream)
            if info.state.messages == 0:
                continue
            # An ephemeral ordered read of the whole stream, acknowledging nothing on anyone's behalf.
            sub = await js.subscribe(f"{stream_subject(info)}", ordered_consumer=True, deliver_policy="all")
            try:
                for _ in range(info.state.messages):
                    msg = await sub.next_msg(timeout=10)
                    check(msg, validators, found)
            finally:
                await sub.unsubscribe()
    finally:
        await nc.close()
    return found


def stream_subject(info) -> str:  # type: ignore[no-untyped-def]
    subjects = info.config.subjects or []
    return subjects[0] if len(subjects) == 1 else ">"


def check(msg, validators: dict[str, Draft202012Validator], found: Findings) -> None:  # type: ignore[no-untyped-def]
    found.events += 1
    where = f"{msg.subject} seq {msg.metadata.sequence.stream}"
    try:
        event = JSONFormat().read(None, msg.data)
    except Exception as exc:
        found.problems.append(f"{where}: not a CloudEvent: {exc}")
        return
    attrs = event.get_attributes()
    found.by_type[attrs["type"]] += 1
    if (msg.headers or {}).get("Nats-Msg-Id") != attrs["id"]:
        found.problems.append(f"{where}: Nats-Msg-Id {(msg.headers or {}).get('Nats-Msg-Id')!r} != id {attrs['id']!r}")
    validator = validators.get(attrs["type"])
    if validator is None:
        found.problems.append(f"{where}: no schema for type {attrs['type']}")
        return
    errors = sorted(validator.iter_errors(json.loads(msg.data)), key=lambda e: list(e.absolute_path))
    for e in errors[:3]:
        found.problems.append(f"{where}: {attrs['type']}: {'/'.join(map(str, e.absolute_path))}: {e.message}")


def main() -> int:
    url = sys.argv[1] if len(sys.argv) > 1 else "nats://127.0.0.1:4223"
    schema_dir = Path(sys.argv[2] if len(sys.argv) > 2 else "contracts/schemas")
    found = asyncio.run(observe(url, schema_dir))
    for t, n in sorted(found.by_type.items()):
        print(f"{n:8d}  {t}")
    print(f"{found.events} events, {len(found.problems)} problems")
    for p in found.problems[:50]:
        print("  " + p)
    return 1 if found.problems else 0


if __name__ == "__main__":
    sys.exit(main())
