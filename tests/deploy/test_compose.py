"""deploy/compose.yaml against the Compose Specification's JSON Schema (the copy check-jsonschema
ships), and what it must hold: three JetStream nodes from the generated config, PostgreSQL with its
init script, every service and the web with a /readyz healthcheck and depends_on conditions,
nothing secret in the environment, every mounted file made by runtime.deploygen."""

from __future__ import annotations

import importlib.resources
import json
import re
from pathlib import Path

import jsonschema
import pytest

from contracts.naming import SERVICES
from runtime.deploygen import NODE_ENV, generate
from tests.deploy.compose import COMPOSE, ROOT, environment, interpolate, load

APPS = (*SERVICES, "web")
NATS_NODES = ("nats-1", "nats-2", "nats-3")


def compose_schema() -> dict:
    try:
        ref = importlib.resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    except ModuleNotFoundError:
        pytest.skip("check-jsonschema (test extras) ships the Compose Specification schema")
    return json.loads(ref.read_text())


@pytest.fixture(scope="module")
def doc() -> dict:
    return load()


def test_valid_against_the_compose_specification(doc: dict) -> None:
    schema = compose_schema()
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors)


def test_the_schema_catches_a_mistake(doc: dict) -> None:
    schema = compose_schema()
    bad = json.loads(json.dumps(doc))
    bad["services"]["plans"]["healthcheck"]["intervall"] = "5s"
    assert list(jsonschema.validators.validator_for(schema)(schema).iter_errors(bad))


def test_three_jetstream_nodes_from_one_generated_config(doc: dict) -> None:
    services = doc["services"]
    for node in NATS_NODES:
        s = services[node]
        assert s["configs"] == [{"source": "nats_conf", "target": "/etc/nats/nats.conf"}]
        assert s["command"] == ["--config", "/etc/nats/nats.conf"]
        env = environment(node, doc=doc)
        assert set(NODE_ENV) <= set(env), set(NODE_ENV) - set(env)
        assert env["NATS_SERVER_NAME"] == node
        assert env["NATS_HTTP"].endswith(":8222")
        routes = re.findall(r"nats-route://([\w-]+):6222", env["NATS_ROUTES"])
        assert sorted(routes) == list(NATS_NODES)
        assert "healthz" in " ".join(s["healthcheck"]["test"])
        assert any(v.endswith(":/data") for v in s["volumes"])
    assert doc["configs"]["nats_conf"]["file"] == "./generated/nats.conf"


def test_services_and_web(doc: dict) -> None:
    services = doc["services"]
    for app in APPS:
        s = services[app]
        assert s["command"] == ["python", "-m", f"services.{app}"]
        if app != "web" or (ROOT / "services" / "web").exists():
            assert (ROOT / "services" / app / "__main__.py").exists()
        assert s["healthcheck"]["test"][:4] == ["CMD", "python", "-m", "runtime.probe"]
        assert s["depends_on"] and all(d["condition"] == "service_healthy" for d in s["depends_on"].values())
        assert s["read_only"] is True and s["user"] == "10001:10001" and s["cap_drop"] == ["ALL"]
        env = environment(app, doc=doc)
        assert env["CONGDOAN_NATS_CREDS"] == "/run/secrets/nats.nk"
        assert env["CONGDOAN_STREAM_REPLICAS"] == "3"
        assert [u.split("//")[1].split(":")[0] for u in env["NATS_URL"].split(",")] == list(NATS_NODES)
        targets = {x["target"]: x["source"] for x in s["secrets"]}
        assert targets["nats.nk"] == ("nats_client" if app == "web" else f"nats_{app}")
        if app in SERVICES:
            assert targets["database_url"] == f"postgres_{app}_url"
            assert env[f"CONGDOAN_{app.upper()}_DATABASE_URL_FILE"] == "/run/secrets/database_url"
            assert set(s["depends_on"]) == {*NATS_NODES, "postgres"}
    assert set(services["web"]["depends_on"]) == set(SERVICES)
    assert services["mailcatcher"]["profiles"] == ["mail"]
    assert services["mailcatcher"]["command"][:3] == ["python", "-m", "services.notify.mailcatcher"]
    assert environment("notify", doc=doc)["CONGDOAN_NOTIFY_SMTP_URL"] == "smtp://mailcatcher:1025"
    assert environment("notify", {"CONGDOAN_NOTIFY_SMTP_URL": "smtps://mx"}, doc)["CONGDOAN_NOTIFY_SMTP_URL"] == "smtps://mx"


def test_postgres_one_database_per_service(doc: dict) -> None:
    pg = doc["services"]["postgres"]
    assert "./postgres/init-databases.sh:/docker-entrypoint-initdb.d/10-congdoan.sh:ro" in pg["volumes"]
    assert environment("postgres", doc=doc)["CONGDOAN_SERVICES"].split() == list(SERVICES)
    assert {f"postgres_{s}_password" for s in SERVICES} | {"postgres_admin"} == set(pg["secrets"])


def test_nothing_secret_in_the_environment(doc: dict) -> None:
    for name in doc["services"]:
        for key, value in environment(name, doc=doc).items():
            if re.search(r"PASSWORD|SECRET|TOKEN|_KEY$", key):
                assert key.endswith("_FILE") and value.startswith("/run/secrets/"), (name, key)
            assert "postgresql" not in value, (name, key)


def test_every_mounted_file_is_generated(tmp_path: Path, doc: dict) -> None:
    out = tmp_path / "generated"
    generate(out)
    for kind in ("secrets", "configs"):
        for name, spec in doc[kind].items():
            path = (tmp_path / spec["file"]).resolve()
            assert path.is_file(), f"{kind}.{name}: {spec['file']} is not made by runtime.deploygen"
    used = {x if isinstance(x, str) else x["source"] for s in doc["services"].values() for x in s.get("secrets", [])}
    assert used == set(doc["secrets"]), "declared and used secrets differ"
    assert (out / "secrets").stat().st_mode & 0o077 == 0
    # idempotent: a second run keeps every credential
    before = {p: p.read_bytes() for p in (out / "secrets").rglob("*") if p.is_file()}
    generate(out)
    assert before == {p: p.read_bytes() for p in (out / "secrets").rglob("*") if p.is_file()}


def test_interpolation() -> None:
    assert interpolate("${A:-x}", {}) == "x"
    assert interpolate("${A:-x}", {"A": "y"}) == "y"
    assert interpolate("a$$b", {}) == "a$b"
    assert COMPOSE.exists()
