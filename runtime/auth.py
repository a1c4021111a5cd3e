"""Who is calling: signed tokens (JWT), made by plans at login and checked by every service.

A request carries `Authorization: Bearer <JWT>` in its NATS headers — never an identity in the
body. Every service verifies the signature, expiry, issuer and audience and derives the caller
(a `Principal`) from the token alone:

* **congdoan's own tokens** (the embedded default): EdDSA (Ed25519), issued by plans when a person
  logs in (`sub` = person id) or when a machine caller presents its client credentials
  (`sub` = `svc:<name>`, with the narrow roles of that service identity in `roles`). Verifiers read
  the public keys from a JWKS file; the signing key lives only with plans.
* **an external OpenID Connect provider** (production, optional): its issuer, JWKS URL and audience
  come from settings, and one claim of its tokens names the person (`congdoan_person_id` by
  default). Asymmetric algorithms only.

Libraries: PyJWT (with `cryptography`) makes and checks the tokens; argon2-cffi hashes passwords
and client secrets. Nothing here is hand-rolled crypto.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import secrets
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

AUDIENCE = "congdoan"
ISSUER = "congdoan"
SERVICE_PREFIX = "svc:"
# Algorithms accepted from an external provider: asymmetric only (never "none" or a shared secret).
OIDC_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"]


class Unauthenticated(Exception):
    """No token, or one that does not verify: the request is answered 401. The reason (English,
    `str()`) goes to the log; the reply says it in Vietnamese — `vietnamese` for the whole, `detail`
    for the Authorization header — with `kind` (missing, expired, invalid) as the stable type."""

    _VI = {
        "missing": "Cần đăng nhập: yêu cầu không kèm mã xác thực (Authorization: Bearer …).",
        "expired": "Phiên đăng nhập đã hết hạn; xin đăng nhập lại.",
        "invalid": "Mã xác thực không hợp lệ; xin đăng nhập lại.",
    }

    def __init__(self, reason: str, kind: str = "invalid", detail: str | None = None) -> None:
        super().__init__(reason)
        self.kind = kind
        self._detail = detail

    @property
    def detail(self) -> str:
        return self._detail or self.vietnamese

    @property
    def vietnamese(self) -> str:
        return self._VI.get(self.kind, self._VI["invalid"])


@dataclass(frozen=True)
class Principal:
    """The verified caller: a person (id = person id) or a machine identity (id = service name)."""

    kind: Literal["person", "service"]
    id: str
    roles: frozenset[str] = frozenset()  # service roles (a person's roles come from the directory)
    issuer: str = ISSUER
    expires_at: float = 0.0
    token_id: str = ""

    @property
    def person_id(self) -> str | None:
        return self.id if self.kind == "person" else None

    @property
    def label(self) -> str:
        """What is written down as the actor of a change (`svc:<name>` for machines)."""
        return self.id if self.kind == "person" else SERVICE_PREFIX + self.id


# --- keys -----------------------------------------------------------------------------------------

def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def _public_jwk(key: Ed25519PrivateKey, kid: str) -> dict[str, Any]:
    jwk = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(key.public_key()))
    return {**jwk, "kid": kid, "alg": "EdDSA", "use": "sig"}


def generate_signing_key(key_file: Path, jwks_file: Path, *, keep_old: bool = True) -> str:
    """A new Ed25519 signing key (private PEM, 0600) and its public key added to the JWKS file.
    Old public keys stay in the JWKS (`keep_old`) so tokens signed before a rotation verify until
    they expire. Returns the new key id."""
    key = Ed25519PrivateKey.generate()
    kid = f"cd-{time.strftime('%Y%m%d')}-{secrets.token_hex(4)}"
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    _write_private(key_file, pem)
    Path(str(key_file) + ".kid").write_text(kid + "\n")
    keys = []
    if keep_old and jwks_file.exists():
        keys = [k for k in json.loads(jwks_file.read_text()).get("keys", []) if k.get("kid") != kid][-4:]
    jwks_file.parent.mkdir(parents=True, exist_ok=True)
    jwks_file.write_text(json.dumps({"keys": [*keys, _public_jwk(key, kid)]}, indent=2) + "\n")
    return kid


def ensure_signing_key(secrets_dir: Path) -> tuple[Path, Path]:
    """The embedded stack's token keys under `<data_dir>/secrets/jwt/` (made on first run)."""
    key_file, jwks_file = secrets_dir / "jwt" / "signing-key.pem", secrets_dir / "jwt" / "jwks.json"
    if not key_file.exists() or not jwks_file.exists():
        generate_signing_key(key_file, jwks_file, keep_old=False)
    return key_file, jwks_file


# --- issuing (plans) ------------------------------------------------------------------------------

class TokenIssuer:
    """Signs congdoan's access tokens with the private key (held by plans only)."""

    def __init__(self, key_file: Path, *, issuer: str = ISSUER, audience: str = AUDIENCE, ttl_s: int = 900) -> None:
        self._key = serialization.load_pem_private_key(Path(key_file).read_bytes(), password=None)
        kid_file = Path(str(key_file) + ".kid")
        self.kid = kid_file.read_text().strip() if kid_file.exists() else "cd-default"
        self.issuer, self.audience, self.ttl_s = issuer, audience, ttl_s

    def issue(self, principal_kind: Literal["person", "service"], subject: str, *, now: float | None = None,
              roles: frozenset[str] | set[str] = frozenset(), ttl_s: int | None = None) -> tuple[str, int]:
        """(token, lifetime in seconds). Expiry is real time: tokens are checked against the
        wall clock by every verifier, never the movable demo clock."""
        iat = int(time.time() if now is None else now)
        ttl = self.ttl_s if ttl_s is None else ttl_s
        claims: dict[str, Any] = {
            "iss": self.issuer, "aud": self.audience, "iat": iat, "nbf": iat - 5, "exp": iat + ttl,
            "jti": uuid.uuid4().hex,
            "sub": subject if principal_kind == "person" else SERVICE_PREFIX + subject,
        }
        if principal_kind == "service":
            claims["roles"] = sorted(roles)
        token = jwt.encode(claims, self._key, algorithm="EdDSA", headers={"kid": self.kid})  # type: ignore[arg-type]
        return token, ttl


# --- verifying (every service) --------------------------------------------------------------------

@dataclass
class OidcProvider:
    """An external OpenID Connect provider whose access tokens are accepted."""

    issuer: str
    jwks_url: str
    audience: str = AUDIENCE
    person_claim: str = "congdoan_person_id"
    _client: Any = field(default=None, repr=False)

    def client(self) -> jwt.PyJWKClient:
        if self._client is None:
            # Keys cached for 5 minutes; an unknown `kid` refetches (key rotation at the provider).
            self._client = jwt.PyJWKClient(self.jwks_url, cache_keys=True, lifespan=300, timeout=5)
        return self._client


class TokenVerifier:
    """Checks a bearer token and returns who it names. Accepts congdoan's own tokens (public keys
    from a JWKS file, re-read when the file changes: key rotation without a restart) and, when
    configured, tokens of an external OIDC provider."""

    def __init__(self, jwks_file: Path | None, *, issuer: str = ISSUER, audience: str = AUDIENCE,
                 oidc: OidcProvider | None = None, leeway_s: int = 30) -> None:
        self.jwks_file = Path(jwks_file) if jwks_file else None
        self.issuer, self.audience, self.oidc, self.leeway_s = issuer, audience, oidc, leeway_s
        self._keys: dict[str, Any] = {}
        self._mtime: float | None = None
        # Tokens already verified → who they name: the signature check (~0.3 ms) is the largest
        # single cost of a request, and a session sends the same token for 15 minutes. Bounded;
        # an entry is good until the token's expiry; emptied when the key set changes.
        self._verified: OrderedDict[str, Principal] = OrderedDict()
        self.cache_size = 10_000

    def _local_keys(self) -> dict[str, Any]:
        if self.jwks_file is None:
            return {}
        try:
            mtime = self.jwks_file.stat().st_mtime
        except FileNotFoundError:
            return {}
        if mtime != self._mtime:
            keyset = jwt.PyJWKSet.from_dict(json.loads(self.jwks_file.read_text()))
            self._keys = {k.key_id: k for k in keyset.keys if k.key_id}
            self._mtime = mtime
            self._verified.clear()  # a key withdrawn: what it signed is checked again
        return self._keys

    def _cached(self, token: str) -> Principal | None:
        hit = self._verified.get(token)
        if hit is None:
            return None
        if time.time() >= hit.expires_at + self.leeway_s:  # as PyJWT's exp check with the same leeway
            del self._verified[token]
            return None
        self._verified.move_to_end(token)
        return hit

    def _remember(self, token: str, who: Principal) -> Principal:
        self._verified[token] = who
        if len(self._verified) > self.cache_size:
            self._verified.popitem(last=False)
        return who

    async def verify(self, token: str | None) -> Principal:
        if not token:
            raise Unauthenticated("missing bearer token", "missing",
                                  "Yêu cầu không có tiêu đề Authorization: Bearer kèm mã xác thực.")
        self._local_keys()  # a rotated key set empties the cache first
        hit = self._cached(token)
        if hit is not None:
            return hit
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"malformed token: {exc}", detail="Mã xác thực không đúng định dạng JWT.") from None
        iss = unverified.get("iss")
        if iss == self.issuer:
            return self._remember(token, self._verify_local(token, header))
        if self.oidc is not None and iss == self.oidc.issuer:
            return self._remember(token, await self._verify_oidc(token))
        raise Unauthenticated("token from an unknown issuer", detail="Mã xác thực do một bên không được tin cậy phát hành.")

    def _verify_local(self, token: str, header: dict[str, Any]) -> Principal:
        key = self._local_keys().get(header.get("kid", ""))
        if key is None:
            raise Unauthenticated("token signed by an unknown key", detail="Mã xác thực được ký bằng một khóa không rõ.")
        claims = self._decode(token, key.key, ["EdDSA"], self.issuer, self.audience)
        sub = str(claims.get("sub") or "")
        if sub.startswith(SERVICE_PREFIX):
            return Principal("service", sub.removeprefix(SERVICE_PREFIX), frozenset(claims.get("roles") or ()),
                             self.issuer, float(claims["exp"]), str(claims.get("jti", "")))
        if not sub:
            raise Unauthenticated("token names nobody", detail="Mã xác thực không ghi danh tính người dùng.")
        return Principal("person", sub, frozenset(), self.issuer, float(claims["exp"]), str(claims.get("jti", "")))

    async def _verify_oidc(self, token: str) -> Principal:
        oidc = self.oidc
        assert oidc is not None
        try:
            key = await asyncio.to_thread(oidc.client().get_signing_key_from_jwt, token)
        except jwt.PyJWKClientError as exc:
            raise Unauthenticated(f"provider key not found: {exc}",
                                  detail="Không tìm thấy khóa của nhà cung cấp đăng nhập để kiểm tra mã xác thực.") from None
        claims = self._decode(token, key.key, OIDC_ALGORITHMS, oidc.issuer, oidc.audience)
        person = claims.get(oidc.person_claim)
        if not isinstance(person, str) or not person:
            raise Unauthenticated(f"token has no {oidc.person_claim} claim naming a person",
                                  detail=f"Mã xác thực không có trường {oidc.person_claim} ghi danh tính người dùng.")
        return Principal("person", person, frozenset(), oidc.issuer, float(claims["exp"]), str(claims.get("jti", "")))

    def _decode(self, token: str, key: Any, algorithms: list[str], issuer: str, audience: str) -> dict[str, Any]:
        try:
            return jwt.decode(token, key, algorithms=algorithms, issuer=issuer, audience=audience,
                              leeway=self.leeway_s, options={"require": ["exp", "iat", "iss", "aud", "sub"]})
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("token expired", "expired", "Mã xác thực đã hết hạn.") from None
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"token rejected: {exc}", detail="Mã xác thực bị từ chối (chữ ký, bên phát hành, "
                                                                   "đối tượng nhận hoặc thời hạn không đúng).") from None


def bearer(headers: dict[str, str] | None) -> str | None:
    """The token of an `Authorization: Bearer …` header (case-insensitive name), or None."""
    for name, value in (headers or {}).items():
        if name.lower() == "authorization":
            scheme, _, token = value.strip().partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    return None


def auth_headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- secrets at rest ------------------------------------------------------------------------------

# argon2id with one of OWASP's recommended settings (12 MiB, 3 passes, 1 lane): ~30 ms a hash on
# the 2-core machines this runs on, so that a morning's logins of a province do not queue.
_hasher = PasswordHasher(time_cost=3, memory_cost=12 * 1024, parallelism=1)


def hash_secret(secret: str) -> str:
    return _hasher.hash(secret)


def verify_secret(stored_hash: str, secret: str) -> bool:
    try:
        return _hasher.verify(stored_hash, secret)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    try:
        return _hasher.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


@functools.cache
def dummy_hash() -> str:
    """A hash of a password nobody has: unknown user names cost the same time as wrong passwords."""
    return _hasher.hash(secrets.token_urlsafe(16))


def new_secret(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


# --- machine identities (client credentials) --------------------------------------------------------

@dataclass(frozen=True)
class Client:
    client_id: str
    secret_hash: str
    roles: frozenset[str]
    note: str = ""


class ClientRegistry:
    """The machine identities plans accepts, kept in a JSON file the operator manages
    (`python -m runtime.authctl add-client …`; a mounted Secret in Kubernetes): client id, the
    argon2 hash of its secret, its roles. Re-read when the file changes."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._mtime: float | None = None
        self._clients: dict[str, Client] = {}

    def _load(self) -> dict[str, Client]:
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            return {}
        if mtime != self._mtime:
            raw = json.loads(self.path.read_text()).get("clients", {})
            self._clients = {cid: Client(cid, c["secret_hash"], frozenset(c.get("roles", ())), c.get("note", ""))
                             for cid, c in raw.items()}
            self._mtime = mtime
        return self._clients

    def get(self, client_id: str) -> Client | None:
        return self._load().get(client_id)

    def all(self) -> list[Client]:
        return sorted(self._load().values(), key=lambda c: c.client_id)

    def put(self, client_id: str, roles: set[str] | frozenset[str], secret: str | None = None, note: str = "") -> str:
        """Add or replace a client; returns its secret (made here unless given). The file keeps
        only the hash."""
        from runtime.access import SERVICE_ROLES

        unknown = set(roles) - set(SERVICE_ROLES)
        if unknown:
            raise ValueError(f"unknown service roles {sorted(unknown)}; known: {sorted(SERVICE_ROLES)}")
        secret = secret or new_secret()
        raw = json.loads(self.path.read_text()) if self.path.exists() else {"clients": {}}
        raw.setdefault("clients", {})[client_id] = {"secret_hash": hash_secret(secret), "roles": sorted(roles),
                                                    "note": note}
        _write_private(self.path, (json.dumps(raw, indent=2, ensure_ascii=False) + "\n").encode())
        self._mtime = None
        return secret

    def remove(self, client_id: str) -> bool:
        if not self.path.exists():
            return False
        raw = json.loads(self.path.read_text())
        found = raw.get("clients", {}).pop(client_id, None) is not None
        _write_private(self.path, (json.dumps(raw, indent=2, ensure_ascii=False) + "\n").encode())
        self._mtime = None
        return found


# The embedded stack's own machine identity: loads the demo directory and the seed plan.
LOADER_CLIENT = "loader"
LOADER_ROLES = frozenset({"directory_admin", "plan_issuer"})


def ensure_embedded_identities(secrets_dir: Path) -> dict[str, Path]:
    """First run of the embedded stack: the token signing key, its JWKS, and the `loader` client
    (secret in `secrets/clients/loader.secret`, 0600). Idempotent."""
    key_file, jwks_file = ensure_signing_key(secrets_dir)
    clients_file = secrets_dir / "clients.json"
    secret_file = secrets_dir / "clients" / f"{LOADER_CLIENT}.secret"
    registry = ClientRegistry(clients_file)
    if registry.get(LOADER_CLIENT) is None or not secret_file.exists():
        _write_private(secret_file, registry.put(LOADER_CLIENT, LOADER_ROLES,
                                                 note="the embedded stack's loader (make run)").encode())
    return {"signing_key": key_file, "jwks": jwks_file, "clients": clients_file, "loader_secret": secret_file}


def client_credentials(secrets_dir: Path, client_id: str = LOADER_CLIENT) -> tuple[str, str] | None:
    """(client id, secret) of a machine identity from the environment (`CONGDOAN_CLIENT_ID`,
    `CONGDOAN_CLIENT_SECRET_FILE`) or the embedded stack's secrets folder."""
    cid = os.environ.get("CONGDOAN_CLIENT_ID") or client_id
    path = os.environ.get("CONGDOAN_CLIENT_SECRET_FILE") or str(secrets_dir / "clients" / f"{cid}.secret")
    try:
        return cid, Path(path).read_text().strip()
    except FileNotFoundError:
        return None


def ensure_demo_password(secrets_dir: Path) -> str:
    """The password of the demo logins of the embedded stack (`make run` prints it), made on
    first use and kept in `secrets/demo-password` (0600). Demo data only: never used in
    production, where people get their logins from an administrator."""
    path = secrets_dir / "demo-password"
    if not path.exists():
        words = ["sen", "hong", "lua", "que", "bien", "nui", "song", "may", "trang", "xanh", "vang", "dao"]
        _write_private(path, ("-".join(secrets.choice(words) for _ in range(3)) + f"-{secrets.randbelow(9000) + 1000}")
                       .encode())
    return path.read_text().strip()
