"""Tokens (runtime/auth.py): made with PyJWT, checked for signature, expiry, issuer and audience;
an external OpenID Connect provider's tokens accepted from its JWKS; login backoff and the
password policy (services/plans/domain/logins.py)."""

from __future__ import annotations

import json
import os
import time
from datetime import timedelta
from pathlib import Path

import jwt
import pytest
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

from runtime.auth import (
    ClientRegistry,
    OidcProvider,
    TokenIssuer,
    TokenVerifier,
    Unauthenticated,
    bearer,
    generate_signing_key,
    verify_secret,
)
from services.plans.domain.logins import password_problems, wait_after


@pytest.fixture
def keys(tmp_path: Path) -> tuple[TokenIssuer, TokenVerifier]:
    key, jwks = tmp_path / "k.pem", tmp_path / "jwks.json"
    generate_signing_key(key, jwks)
    return TokenIssuer(key, ttl_s=600), TokenVerifier(jwks)


async def test_a_person_token_names_the_person(keys) -> None:  # type: ignore[no-untyped-def]
    issuer, verifier = keys
    token, ttl = issuer.issue("person", "p-1")
    who = await verifier.verify(token)
    assert (who.kind, who.id, who.person_id, ttl) == ("person", "p-1", "p-1", 600)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert {"iss", "aud", "exp", "iat", "sub", "jti"} <= set(claims) and jwt.get_unverified_header(token)["alg"] == "EdDSA"


async def test_a_service_token_carries_its_roles(keys) -> None:  # type: ignore[no-untyped-def]
    issuer, verifier = keys
    who = await verifier.verify(issuer.issue("service", "loader", roles={"directory_admin"})[0])
    assert (who.kind, who.id, who.roles, who.person_id, who.label) == (
        "service", "loader", frozenset({"directory_admin"}), None, "svc:loader")


@pytest.mark.parametrize("case", ["missing", "expired", "other key", "other audience", "other issuer", "garbage",
                                  "alg none", "tampered"])
async def test_bad_tokens_are_refused(keys, tmp_path: Path, case: str) -> None:  # type: ignore[no-untyped-def]
    issuer, verifier = keys
    good = issuer.issue("person", "p-1")[0]
    if case == "missing":
        token = None
    elif case == "expired":
        token = issuer.issue("person", "p-1", now=time.time() - 3600)[0]
    elif case == "other key":
        generate_signing_key(tmp_path / "o.pem", tmp_path / "o.json")
        other = TokenIssuer(tmp_path / "o.pem")
        other.kid = issuer.kid  # even claiming our key id
        token = other.issue("person", "p-1")[0]
    elif case == "other audience":
        token = TokenIssuer(tmp_path / "k.pem", audience="elsewhere").issue("person", "p-1")[0]
    elif case == "other issuer":
        token = TokenIssuer(tmp_path / "k.pem", issuer="evil").issue("person", "p-1")[0]
    elif case == "garbage":
        token = "not.a.token"
    elif case == "alg none":
        token = jwt.encode({**jwt.decode(good, options={"verify_signature": False})}, key=None, algorithm="none",
                           headers={"kid": issuer.kid})
    else:
        head, body, sig = good.split(".")
        claims = jwt.decode(good, options={"verify_signature": False}) | {"sub": "chair-of-everything"}
        token = ".".join([head, jwt.utils.base64url_encode(json.dumps(claims).encode()).decode(), sig])
    with pytest.raises(Unauthenticated) as e:
        await verifier.verify(token)
    assert e.value.vietnamese.endswith(".")
    if case == "expired":
        assert e.value.kind == "expired"


async def test_a_rotated_key_keeps_old_tokens_valid(keys, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    issuer, verifier = keys
    old = issuer.issue("person", "p-1")[0]
    generate_signing_key(tmp_path / "k.pem", tmp_path / "jwks.json", keep_old=True)
    new = TokenIssuer(tmp_path / "k.pem").issue("person", "p-2")[0]
    assert (await verifier.verify(old)).id == "p-1"
    assert (await verifier.verify(new)).id == "p-2"  # the verifier re-read the JWKS


async def test_tokens_of_an_external_oidc_provider(tmp_path: Path, keys) -> None:  # type: ignore[no-untyped-def]
    """A locally generated RSA key set stands for the provider; its JWKS is served over HTTP on
    loopback, as a provider serves it."""
    idp_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(idp_key.public_key())) | {"kid": "idp-1", "use": "sig"}
    app = web.Application()
    app.router.add_get("/certs", lambda _: web.json_response({"keys": [jwk]}))
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    provider = OidcProvider("https://sso.example.vn/realms/ldld", f"http://127.0.0.1:{port}/certs", "congdoan",
                            "congdoan_person_id")
    verifier = TokenVerifier(tmp_path / "jwks.json", oidc=provider)
    now = int(time.time())
    claims = {"iss": provider.issuer, "aud": "congdoan", "sub": "f3b1-uuid", "iat": now, "exp": now + 300,
              "congdoan_person_id": "p-000123"}
    token = jwt.encode(claims, idp_key, algorithm="RS256", headers={"kid": "idp-1"})
    who = await verifier.verify(token)
    assert (who.kind, who.id, who.issuer) == ("person", "p-000123", provider.issuer)
    for bad in ({**claims, "aud": "other"}, {k: v for k, v in claims.items() if k != "congdoan_person_id"},
                {**claims, "exp": now - 600}):
        with pytest.raises(Unauthenticated):
            await verifier.verify(jwt.encode(bad, idp_key, algorithm="RS256", headers={"kid": "idp-1"}))
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(Unauthenticated):
        await verifier.verify(jwt.encode(claims, stranger, algorithm="RS256", headers={"kid": "idp-1"}))
    # Our own tokens still verify beside the provider's.
    assert (await verifier.verify(keys[0].issue("person", "p-9")[0])).id == "p-9"
    await runner.cleanup()


def test_bearer_header() -> None:
    assert bearer({"authorization": "Bearer abc"}) == "abc"
    assert bearer({"Authorization": "bearer  xyz "}) == "xyz"
    assert bearer({"Authorization": "Basic abc"}) is None and bearer(None) is None and bearer({}) is None


def test_client_registry_keeps_only_hashes(tmp_path: Path) -> None:
    reg = ClientRegistry(tmp_path / "clients.json")
    secret = reg.put("hr-sync", {"directory_admin"}, note="HR")
    text = (tmp_path / "clients.json").read_text()
    assert secret not in text and "$argon2id$" in text
    assert (tmp_path / "clients.json").stat().st_mode & 0o077 == 0
    client = reg.get("hr-sync")
    assert client is not None and verify_secret(client.secret_hash, secret) and not verify_secret(client.secret_hash, "x")
    with pytest.raises(ValueError, match="unknown service roles"):
        reg.put("bad", {"superuser"})
    assert reg.remove("hr-sync") and reg.get("hr-sync") is None


def test_login_backoff() -> None:
    assert [wait_after(n).total_seconds() for n in range(1, 8)] == [0, 0, 1, 2, 4, 8, 16]
    assert wait_after(40) == timedelta(minutes=15)


def test_password_policy() -> None:
    assert password_problems("Sen-hong-nở-2026", "nhung.nth") == []
    assert password_problems("short", "x")
    assert password_problems("nhung.nth-2026!", "nhung.nth")
    assert password_problems("aaaaaaaaaaaa", "x")


async def test_a_verified_token_is_remembered_until_its_expiry_or_a_new_key_set(keys, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    issuer, verifier = keys
    token = issuer.issue("person", "p-1")[0]
    who = await verifier.verify(token)
    calls = []
    real = verifier._verify_local
    monkeypatch.setattr(verifier, "_verify_local", lambda *a: calls.append(a) or real(*a))
    assert await verifier.verify(token) == who and calls == []  # from the cache: no signature check
    # past its expiry (and the leeway) the cache lets go of it
    monkeypatch.setattr("runtime.auth.time.time", lambda: who.expires_at + verifier.leeway_s + 1)
    assert verifier._cached(token) is None
    monkeypatch.undo()
    # a rotated key set that no longer holds the signing key: the cached token is refused
    await verifier.verify(token)
    other_key, jwks = tmp_path / "other.pem", tmp_path / "jwks.json"
    generate_signing_key(other_key, jwks, keep_old=False)
    os.utime(jwks, (time.time() + 5, time.time() + 5))  # a new mtime even within the same second
    with pytest.raises(Unauthenticated):
        await verifier.verify(token)
