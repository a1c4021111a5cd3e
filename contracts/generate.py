"""Write JSON Schema and AsyncAPI 3 documents from the pydantic contracts.

    python -m contracts.generate           # (re)write contracts/schemas/ and contracts/asyncapi/
    python -m contracts.generate --check   # exit 1 and list the files that differ (CI drift check)

Everything here is derived from `contracts.catalogue` (EVENTS, ENDPOINTS, CONSUMES), the envelope,
the stream settings and the naming scheme; the output is deterministic (sorted JSON keys, 2-space
indent, trailing newline; YAML in a fixed order) so that a test can compare it byte for byte.

Written files (paths relative to `contracts/`):

    schemas/<event type>.json                        the whole CloudEvent (envelope + data)
    schemas/<event type>.data.json                   the event's `data` alone
    schemas/api/<service>.<endpoint>.request.json    request body of an endpoint
    schemas/api/<service>.<endpoint>.reply.json      successful reply body
    schemas/api/error.json                           error reply body (`ErrorReply`)
    asyncapi/<service>.yaml                          AsyncAPI 3.0.0, one per service

Schema `$id`s are URNs (`urn:congdoan:schema:<path without .json, '/' → ':'>`): no host name.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from contracts import naming
from contracts.api.common import STATUS, ErrorReply
from contracts.catalogue import (
    ENDPOINTS,
    EVENTS,
    EndpointSpec,
    EventSpec,
    consumed_by,
    endpoints_of,
    produced_by,
)
from contracts.envelope import CONTENT_TYPE, TRACEPARENT, CloudEvent
from contracts.streams import STREAMS, StreamSpec

CONTRACTS_DIR = Path(__file__).resolve().parent
SCHEMAS_DIR = CONTRACTS_DIR / "schemas"
ASYNCAPI_DIR = CONTRACTS_DIR / "asyncapi"
# The directories this module owns: every *.json / *.yaml in them is generated.
OWNED = ((SCHEMAS_DIR, "*.json"), (ASYNCAPI_DIR, "*.yaml"))

DIALECT = "https://json-schema.org/draft/2020-12/schema"
URN_PREFIX = "urn:congdoan:schema:"
SCHEMA_REF = "#/components/schemas/"
ASYNCAPI_VERSION = "3.0.0"
NATS_BINDING_VERSION = "0.1.0"
MICRO_QUEUE_GROUP = "q"  # ADR-32: endpoints of a micro service share the queue group "q"
# CloudEvents 1.0: attribute names are lower-case ASCII letters and digits; extension values are
# strings, integers or booleans (null = absent, JSON format 1.0.2).
CE_ATTRIBUTE_NAME = "^[a-z0-9]+$"
EXTENSION_VALUE = {"type": ["string", "integer", "boolean", "null"]}


# --------------------------------------------------------------------------------------- helpers

def schema_id(rel_path: str) -> str:
    """`api/error.json` → `urn:congdoan:schema:api:error`."""
    return URN_PREFIX + rel_path.removesuffix(".json").replace("/", ":")


def event_schema_path(spec: EventSpec) -> str:
    return f"{spec.schema_name}.json"


def event_data_schema_path(spec: EventSpec) -> str:
    return f"{spec.schema_name}.data.json"


def endpoint_schema_path(spec: EndpointSpec, part: str) -> str:
    return f"api/{spec.service}.{spec.name}.{part}.json"


ERROR_SCHEMA_PATH = "api/error.json"


def _walk_refs(node: Any, rewrite: Any) -> Any:
    """A copy of `node` with every `$ref` string passed through `rewrite`."""
    if isinstance(node, dict):
        return {k: (rewrite(v) if k == "$ref" and isinstance(v, str) else _walk_refs(v, rewrite))
                for k, v in node.items()}
    if isinstance(node, list):
        return [_walk_refs(v, rewrite) for v in node]
    return node


def _stream(name: str) -> StreamSpec:
    return next(s for s in STREAMS if s.name == name)


def _project_version() -> str:
    pyproject = CONTRACTS_DIR.parent / "pyproject.toml"
    try:
        return str(tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "0.0.0"


def envelope_model(spec: EventSpec) -> type[BaseModel]:
    return CloudEvent[spec.model]  # type: ignore[name-defined]


def patch_envelope(schema: dict[str, Any], spec: EventSpec) -> dict[str, Any]:
    """Make pydantic's schema of `CloudEvent[Model]` say what goes on the wire for this type."""
    schema = copy.deepcopy(schema)
    props = schema["properties"]
    props["type"] = {**props["type"], "const": spec.type}
    props["source"] = {**props["source"], "const": naming.source_for(spec.producer), "format": "uri-reference"}
    # CloudEvents: an attribute that is present is non-empty; null means absent (JSON format).
    props["subject"] = {**props["subject"], "anyOf": [
        {**b, "minLength": 1} if b.get("type") == "string" else b for b in props["subject"]["anyOf"]]}
    props["dataschema"] = {**props["dataschema"], "anyOf": [
        {**b, "format": "uri"} if b.get("type") == "string" else b for b in props["dataschema"]["anyOf"]]}
    # The distributed-tracing extension: producers write the W3C format (consumers read leniently).
    props["traceparent"] = {**props["traceparent"], "anyOf": [
        {**b, "pattern": TRACEPARENT} if b.get("type") == "string" else b for b in props["traceparent"]["anyOf"]],
        "description": "CloudEvents distributed-tracing extension: the W3C traceparent active when the event "
                       "was recorded."}
    props["tracestate"] = {**props["tracestate"], "description": "CloudEvents distributed-tracing extension: "
                                                                 "the W3C tracestate going with traceparent."}
    required = list(schema.get("required", []))
    if "specversion" not in required:  # REQUIRED by CloudEvents; build_event always writes it
        required.insert(0, "specversion")
    schema["required"] = required
    schema["propertyNames"] = {"pattern": CE_ATTRIBUTE_NAME}
    schema["additionalProperties"] = EXTENSION_VALUE  # extension attributes
    schema["title"] = spec.type
    schema["description"] = (
        f"{spec.summary} CloudEvents 1.0, structured JSON mode ({CONTENT_TYPE}), "
        f"published on NATS subject {spec.subject} (JetStream stream {spec.stream}) "
        f"with header Nats-Msg-Id = id.")
    return schema


def _root_schema(model: type[BaseModel], mode: JsonSchemaMode) -> dict[str, Any]:
    return model.model_json_schema(mode=mode)  # refs are '#/$defs/…' within the same document


def _standalone(schema: dict[str, Any], rel_path: str, description: str | None = None) -> dict[str, Any]:
    out = {"$schema": DIALECT, "$id": schema_id(rel_path), **schema}
    if description:
        out["description"] = description
    return out


def _with_context(model: type[BaseModel], context: str) -> str:
    doc = (model.__doc__ or "").strip()  # a class's own docstring (not inherited)
    if doc:
        return f"{doc}\n\n{context}"
    return context


# ---------------------------------------------------------------------------------- JSON Schema

def json_schemas() -> dict[str, dict[str, Any]]:
    """Relative path under contracts/schemas → schema."""
    out: dict[str, dict[str, Any]] = {}
    for spec in EVENTS:
        env = patch_envelope(_root_schema(envelope_model(spec), "validation"), spec)
        out[event_schema_path(spec)] = _standalone(env, event_schema_path(spec))
        data_ctx = f"`data` of the CloudEvent {spec.type} (subject {spec.subject}). {spec.summary}"
        out[event_data_schema_path(spec)] = _standalone(
            _root_schema(spec.model, "validation"), event_data_schema_path(spec), _with_context(spec.model, data_ctx))
    for ep in ENDPOINTS:
        ctx = f"{ep.summary} Endpoint {ep.name} of micro service {naming.micro_name(ep.service)}, subject {ep.subject}"
        out[endpoint_schema_path(ep, "request")] = _standalone(
            _root_schema(ep.request, "validation"), endpoint_schema_path(ep, "request"),
            _with_context(ep.request, f"{ctx}: request body."))
        out[endpoint_schema_path(ep, "reply")] = _standalone(
            _root_schema(ep.reply, "serialization"), endpoint_schema_path(ep, "reply"),
            _with_context(ep.reply, f"{ctx}: successful reply body."))
    out[ERROR_SCHEMA_PATH] = _standalone(
        _root_schema(ErrorReply, "serialization"), ERROR_SCHEMA_PATH,
        _with_context(ErrorReply, "Error reply of every endpoint. " + _error_headers_text()))
    return out


def _error_headers_text() -> str:
    codes = ", ".join(f"{c.value}={s}" for c, s in STATUS.items())
    return ("Sent with the ADR-32 headers Nats-Service-Error (the message, one line) and "
            f"Nats-Service-Error-Code (HTTP-like status: {codes}).")


# ------------------------------------------------------------------------------------- AsyncAPI

def _components_schemas(events: Iterable[EventSpec], endpoints: Iterable[EndpointSpec],
                        ) -> tuple[dict[str, Any], dict[Any, str]]:
    """All pydantic schemas of one document, with refs rewritten to #/components/schemas/…, and the
    component name of each input model. Envelopes are named by their event type."""
    events, endpoints = list(events), list(endpoints)
    inputs: list[tuple[type[BaseModel], JsonSchemaMode]] = [(envelope_model(e), "validation") for e in events]
    for ep in endpoints:
        inputs += [(ep.request, "validation"), (ep.reply, "serialization")]
    inputs.append((ErrorReply, "serialization"))
    key_map, top = models_json_schema(inputs, ref_template=SCHEMA_REF + "{model}")
    names = {key: ref["$ref"].removeprefix(SCHEMA_REF) for key, ref in key_map.items()}
    renames = {names[(envelope_model(e), "validation")]: e for e in events}

    def rewrite(ref: str) -> str:
        name = ref.removeprefix(SCHEMA_REF)
        return SCHEMA_REF + renames[name].type if name in renames else ref

    defs: dict[str, Any] = _walk_refs(top.get("$defs", {}), rewrite)
    out = {(renames[n].type if n in renames else n): (patch_envelope(s, renames[n]) if n in renames else s)
           for n, s in defs.items()}
    names = {key: (renames[n].type if n in renames else n) for key, n in names.items()}
    return out, names


def _sref(name: str) -> dict[str, str]:
    return {"$ref": SCHEMA_REF + name}


def _mref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/messages/{name}"}


def _chref(channel: str, message: str | None = None) -> dict[str, str]:
    if message is None:
        return {"$ref": f"#/channels/{channel}"}
    return {"$ref": f"#/channels/{channel}/messages/{message}"}


def _event_channel_id(spec: EventSpec) -> str:
    return spec.subject.removeprefix(naming.SUBJECT_PREFIX + ".")  # reports.report.submitted.v1


def _endpoint_channel_id(ep: EndpointSpec) -> str:
    return ep.subject.removeprefix(naming.API_PREFIX + ".")  # reports.v1.submit_report


def _event_message_id(spec: EventSpec) -> str:
    return spec.type


def _event_headers_schema() -> dict[str, Any]:
    windows = sorted({s.duplicate_window_s for s in STREAMS})
    window = " or ".join(f"{w} s" for w in windows)
    return {
        "type": "object",
        "required": ["Nats-Msg-Id"],
        "properties": {
            "Nats-Msg-Id": {
                "type": "string",
                "minLength": 1,
                "maxLength": 128,
                "description": ("Equal to the CloudEvent `id`. JetStream drops a re-publish with the same "
                                f"id within the stream's duplicate window ({window}); consumers still "
                                "deduplicate by id in their inbox."),
            },
        },
    }


def _error_headers_schema() -> dict[str, Any]:
    statuses = sorted({str(s) for s in STATUS.values()})
    return {
        "type": "object",
        "required": ["Nats-Service-Error", "Nats-Service-Error-Code"],
        "properties": {
            "Nats-Service-Error": {
                "type": "string",
                "maxLength": 500,
                "description": "The error message on one line (ADR-32); the body carries the full ErrorReply.",
            },
            "Nats-Service-Error-Code": {
                "type": "string",
                "enum": statuses,
                "description": "HTTP-like status (ADR-32): " + ", ".join(
                    f"{s} = {c.value}" for c, s in sorted(STATUS.items(), key=lambda kv: (kv[1], kv[0].value))),
            },
        },
    }


PARKED_HEADERS: dict[str, str] = {
    "Nats-Msg-Id": "<stream>:<stream sequence>:<durable>, so that parking twice stores one copy",
    "Congdoan-Parked-Reason": "why the message was parked (one line)",
    "Congdoan-Parked-By": "<service>/<durable>",
    "Congdoan-Parked-At": "RFC 3339 time of parking",
    "Congdoan-Original-Subject": "subject the message was published on",
    "Congdoan-Original-Stream": "stream it was read from",
    "Congdoan-Original-Seq": "its sequence in that stream",
    "Congdoan-Original-Msg-Id": "its original Nats-Msg-Id (the event id)",
    "Congdoan-Deliveries": "how many times it was delivered",
}


def _parked_headers_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "The original message's headers, plus these.",
        "required": sorted(PARKED_HEADERS),
        "properties": {k: {"type": "string", "description": v} for k, v in PARKED_HEADERS.items()},
        "additionalProperties": {"type": "string"},
    }


def _service_description(service: str) -> str:
    produced = produced_by(service)
    consumed = consumed_by(service)
    eps = endpoints_of(service)
    lines = [
        f"The `{service}` service of congdoan, generated from the pydantic models in `contracts/` "
        "by `python -m contracts.generate` (do not edit by hand).",
        "",
        f"* Events are CloudEvents 1.0 in structured JSON mode (`{CONTENT_TYPE}`) published to NATS "
        "JetStream with the header `Nats-Msg-Id` = event id. Channel addresses are the real NATS subjects.",
        "* Requests use NATS request/reply through the NATS Services API (ADR-32): micro service "
        f"`{naming.micro_name(service)}` (discover it with `$SRV.INFO.{naming.micro_name(service)}`), "
        f"queue group `{MICRO_QUEUE_GROUP}`. The reply goes to the requester's inbox; errors carry the headers "
        "`Nats-Service-Error` and `Nats-Service-Error-Code` and an `ErrorReply` body.",
        "",
        "Naming scheme (`contracts/naming.py`):",
        "",
        *(naming.__doc__ or "").strip("\n").splitlines(),
        "",
        "Streams:",
        "",
    ]
    stream_names = [naming.stream_name(service)] if produced else []
    stream_names += sorted({e.stream for e in consumed} - set(stream_names))
    if consumed:
        stream_names.append(naming.DLQ_STREAM)
    for name in stream_names:
        s = _stream(name)
        role = ("events this service produces" if name == naming.stream_name(service)
                else "parked messages" if name == naming.DLQ_STREAM else "events this service consumes")
        lines.append(f"* `{s.name}` ({role}): subjects {', '.join(f'`{x}`' for x in s.subjects)}, "
                     f"max age {s.max_age_days} days, duplicate window {s.duplicate_window_s} s.")
    if not stream_names:
        lines.append("* none")
    lines += ["", "Durable consumers of this service (pull, explicit ack):", ""]
    by_producer: dict[str, list[EventSpec]] = {}
    for e in consumed:
        by_producer.setdefault(e.producer, []).append(e)
    for producer, evs in by_producer.items():
        durable = naming.durable_name(service, producer)
        lines.append(f"* `{durable}` on `{naming.stream_name(producer)}`, filter "
                     f"{', '.join(f'`{e.subject}`' for e in evs)}; parks to "
                     f"`{naming.dlq_subject(service, durable)}`.")
    if not by_producer:
        lines.append("* none")
    lines += ["", "Endpoints:", ""]
    lines += [f"* `{ep.subject}`: {ep.summary}" for ep in eps] or ["* none"]
    return "\n".join(lines) + "\n"


SECURITY_SCHEMES = {
    "bearerToken": {
        "type": "httpApiKey",
        "name": "Authorization",
        "in": "header",
        "description": ("`Authorization: Bearer <JWT>` in the NATS headers of every request but the public "
                        "ones (plans: login, refresh_token, logout, change_password, service_token). The token "
                        "is congdoan's own (EdDSA, issuer `congdoan`, audience `congdoan`: from plans' `login` "
                        "for a person, `service_token` for a machine identity) or, where configured, an "
                        "OpenID Connect provider's access token naming the person in a claim. Without a valid "
                        "one the reply is 401 `unauthenticated`; what a valid caller may do follows the "
                        "access policy (403 `forbidden`). README \"Security\"."),
    },
}


def asyncapi_document(service: str) -> dict[str, Any]:
    produced = produced_by(service)
    consumed = consumed_by(service)
    eps = endpoints_of(service)
    events = produced + [e for e in consumed if e not in produced]
    schemas, names = _components_schemas(events, eps)

    def add_schema(name: str, schema: dict[str, Any]) -> None:
        if name in schemas:
            raise RuntimeError(f"a contract model is named {name!r}, which the generator uses for headers")
        schemas[name] = schema

    if events:
        add_schema("JetStreamEventHeaders", _event_headers_schema())
    if eps:
        add_schema("ServiceErrorHeaders", _error_headers_schema())
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}

    for spec in events:
        mid = _event_message_id(spec)
        messages[mid] = {
            "name": spec.type,
            "title": spec.model.__name__,
            "summary": spec.summary,
            "contentType": CONTENT_TYPE,
            "headers": _sref("JetStreamEventHeaders"),
            "payload": _sref(spec.type),
            "x-cloudevents-type": spec.type,
            "x-json-schema": f"contracts/schemas/{event_schema_path(spec)}",
        }
        channels[_event_channel_id(spec)] = {
            "address": spec.subject,
            "title": spec.type,
            "summary": spec.summary,
            "description": (f"Events of type `{spec.type}` from the `{spec.producer}` service, stored in "
                            f"JetStream stream `{spec.stream}`."),
            "messages": {mid: _mref(mid)},
            "x-jetstream-stream": spec.stream,
        }

    for spec in produced:
        cid = _event_channel_id(spec)
        operations[f"send.{cid}"] = {
            "action": "send",
            "channel": _chref(cid),
            "title": f"Publish {spec.type}",
            "summary": spec.summary,
            "description": ("Written to the outbox in the transaction of the state change, then published "
                            "by the relay with `Nats-Msg-Id` = event id (at-least-once; duplicates are "
                            "dropped by JetStream within the window and by consumers' inboxes)."),
            "messages": [_chref(cid, _event_message_id(spec))],
            "x-jetstream-stream": spec.stream,
        }

    for spec in consumed:
        cid = _event_channel_id(spec)
        durable = naming.durable_name(service, spec.producer)
        operations[f"receive.{cid}"] = {
            "action": "receive",
            "channel": _chref(cid),
            "title": f"Consume {spec.type}",
            "summary": spec.summary,
            "description": (f"Durable pull consumer `{durable}` on stream `{spec.stream}` (explicit ack, "
                            "idempotent inbox by event id). Messages that cannot be handled are parked on "
                            f"`{naming.dlq_subject(service, durable)}`."),
            "messages": [_chref(cid, _event_message_id(spec))],
            "x-jetstream-stream": spec.stream,
            "x-durable": durable,
            "x-dead-letter-subject": naming.dlq_subject(service, durable),
        }

    if eps:
        messages["ErrorReply"] = {
            "name": "ErrorReply",
            "title": "Error reply",
            "summary": "The structured error every endpoint answers with when a request fails.",
            "contentType": "application/json",
            "headers": _sref("ServiceErrorHeaders"),
            "payload": _sref(names[(ErrorReply, "serialization")]),
        }
    for ep in eps:
        cid = _endpoint_channel_id(ep)
        reply_cid = f"{cid}.reply"
        req_id, rep_id = f"{service}.{ep.name}.request", f"{service}.{ep.name}.reply"
        messages[req_id] = {
            "name": req_id,
            "title": ep.request.__name__,
            "summary": f"Request: {ep.summary}",
            "contentType": "application/json",
            "payload": _sref(names[(ep.request, "validation")]),
            "x-json-schema": f"contracts/schemas/{endpoint_schema_path(ep, 'request')}",
        }
        messages[rep_id] = {
            "name": rep_id,
            "title": ep.reply.__name__,
            "summary": f"Reply: {ep.summary}",
            "contentType": "application/json",
            "payload": _sref(names[(ep.reply, "serialization")]),
            "x-json-schema": f"contracts/schemas/{endpoint_schema_path(ep, 'reply')}",
        }
        channels[cid] = {
            "address": ep.subject,
            "title": ep.subject,
            "summary": ep.summary,
            "description": (f"Endpoint `{ep.name}` of micro service `{naming.micro_name(service)}`: send a "
                            "NATS request (with a reply subject) carrying the JSON request body."),
            "messages": {"request": _mref(req_id)},
        }
        channels[reply_cid] = {
            "address": None,
            "title": f"{ep.subject} reply",
            "summary": "The requester's inbox.",
            "description": "Dynamic: the reply subject the requester put on its request (e.g. `_INBOX.…`).",
            "messages": {"reply": _mref(rep_id), "error": _mref("ErrorReply")},
        }
        operations[f"serve.{cid}"] = {
            "action": "receive",
            "channel": _chref(cid),
            "title": f"Serve {ep.name}",
            "summary": ep.summary,
            "description": (f"Request/reply. On success the reply is a `{ep.reply.__name__}`; on failure an "
                            "`ErrorReply` with the `Nats-Service-Error` / `Nats-Service-Error-Code` headers."),
            "messages": [_chref(cid, "request")],
            "reply": {
                "channel": _chref(reply_cid),
                "messages": [_chref(reply_cid, "reply"), _chref(reply_cid, "error")],
            },
            "bindings": {"nats": {"queue": MICRO_QUEUE_GROUP, "bindingVersion": NATS_BINDING_VERSION}},
            "x-micro-service": naming.micro_name(service),
            "x-endpoint": ep.name,
        }
        if not ep.public:
            operations[f"serve.{cid}"]["security"] = [{"$ref": "#/components/securitySchemes/bearerToken"}]

    durables = sorted({naming.durable_name(service, e.producer) for e in consumed})
    if durables:
        messages["ParkedMessage"] = {
            "name": "ParkedMessage",
            "title": "Parked message",
            "summary": "A message a consumer could not handle: the original bytes, headers and the reason.",
            "contentType": "application/octet-stream",
            "headers": _sref("ParkedMessageHeaders"),
            "payload": {"description": "The original message body, unchanged (usually a CloudEvent)."},
        }
        add_schema("ParkedMessageHeaders", _parked_headers_schema())
    for durable in durables:
        cid = f"dlq.{service}.{durable}"
        subject = naming.dlq_subject(service, durable)
        channels[cid] = {
            "address": subject,
            "title": subject,
            "summary": f"Messages parked by the durable consumer {durable}.",
            "messages": {"parked": _mref("ParkedMessage")},
            "x-jetstream-stream": naming.DLQ_STREAM,
        }
        operations[f"park.{cid}"] = {
            "action": "send",
            "channel": _chref(cid),
            "title": f"Park from {durable}",
            "summary": "Parks a malformed, invalid or repeatedly failing message instead of dropping it.",
            "messages": [_chref(cid, "parked")],
            "x-jetstream-stream": naming.DLQ_STREAM,
            "x-durable": durable,
        }

    return {
        "asyncapi": ASYNCAPI_VERSION,
        "id": f"urn:congdoan:asyncapi:{service}",
        "info": {
            "title": f"congdoan {service}",
            "version": _project_version(),
            "description": _service_description(service),
            "x-micro-service": naming.micro_name(service),
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "messages": dict(sorted(messages.items())),
            **({"securitySchemes": SECURITY_SCHEMES} if eps else {}),
        },
    }


# ------------------------------------------------------------------------------------ rendering

class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:  # no &anchors / *aliases: plain, diff-able YAML
        return True


def _str_representer(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    if "\n" in data:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


_Dumper.add_representer(str, _str_representer)


def render_json(obj: Any) -> str:
    return json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def render_yaml(obj: Any) -> str:
    return yaml.dump(obj, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100,
                     default_flow_style=False)


def render() -> dict[Path, str]:
    """Every generated file (absolute path) → its exact content."""
    files: dict[Path, str] = {}
    for rel, schema in json_schemas().items():
        files[SCHEMAS_DIR / rel] = render_json(schema)
    for service in naming.SERVICES:
        files[ASYNCAPI_DIR / f"{service}.yaml"] = render_yaml(asyncapi_document(service))
    return dict(sorted(files.items()))


def stale_files(files: dict[Path, str]) -> list[Path]:
    """Files in the generated directories that the generator would not write."""
    found = {p for d, pattern in OWNED if d.exists() for p in d.rglob(pattern)}
    return sorted(found - set(files))


def differences(files: dict[Path, str] | None = None) -> list[tuple[Path, str]]:
    """(path, 'missing' | 'differs' | 'stale') for every file not as the generator would write it."""
    files = render() if files is None else files
    out: list[tuple[Path, str]] = []
    for path, content in files.items():
        if not path.exists():
            out.append((path, "missing"))
        elif path.read_bytes() != content.encode("utf-8"):
            out.append((path, "differs"))
    out += [(p, "stale") for p in stale_files(files)]
    return out


def _rel(path: Path) -> str:
    try:
        return str(path.relative_to(CONTRACTS_DIR.parent))
    except ValueError:
        return str(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m contracts.generate", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 and list the files that differ from what would be written")
    args = parser.parse_args(argv)
    files = render()
    diffs = differences(files)
    if args.check:
        if diffs:
            print("contracts are out of date; run `make contracts` (python -m contracts.generate):")
            for path, why in diffs:
                print(f"  {why:8} {_rel(path)}")
            return 1
        print(f"contracts up to date ({len(files)} files)")
        return 0
    for path, why in diffs:
        if why == "stale":
            path.unlink()
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(files[path].encode("utf-8"))
        print(f"{'removed' if why == 'stale' else 'wrote':8} {_rel(path)}")
    print(f"{len(diffs)} file(s) changed, {len(files)} generated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
