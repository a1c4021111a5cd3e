"""Use cases of logins: a person logs in (access + refresh token), refreshes, logs out, changes
a password; an administrator gives a login or resets a password; a machine identity exchanges its
client credentials for a token. Logins live with the directory (README "Security").

The refusals of logging in keep their own codes (unauthenticated, too_many_attempts,
password_change_required: ApiError); every other refusal is a rule kind of runtime/errors.py.

Password and secret hashing (argon2, ~50 ms) runs on a worker thread so that one login does not
stall the service's other requests.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from contracts.api import plans as api
from contracts.api.common import ErrorCode
from runtime.access import Action
from runtime.auth import ClientRegistry, Principal, TokenIssuer, dummy_hash, hash_secret, needs_rehash, verify_secret
from runtime.clock import wall_now
from runtime.errors import ApiError, Invalid, conflict, forbidden, not_found
from services.plans.domain.logins import Login, RefreshRecord, normalize_username, password_problems, wait_after
from services.plans.service_layer.common import authorize, today
from services.plans.service_layer.unit_of_work import PlansUnitOfWork

WRONG = "Tên đăng nhập hoặc mật khẩu không đúng."


@dataclass
class Identity:
    """What the login use cases need beyond a unit of work (built once, in the entrypoint)."""

    issuer: TokenIssuer
    clients: ClientRegistry
    refresh_ttl_s: int = 12 * 3600


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _unauthenticated(message: str = WRONG) -> ApiError:
    return ApiError(ErrorCode.UNAUTHENTICATED, message, [{"field": "password", "message": message}])


async def _person(uow: PlansUnitOfWork, person_id: str) -> api.LoginPerson | None:
    row = await uow.directory.person(person_id)
    if row is None or not row.active:
        return None
    return api.LoginPerson(person_id=row.person_id, full_name=row.full_name, unit_id=row.unit_id, roles=list(row.roles))


async def _tokens(uow: PlansUnitOfWork, ident: Identity, person: api.LoginPerson,
                  family_id: str | None = None) -> api.TokenReply:
    access, ttl = ident.issuer.issue("person", person.person_id)
    refresh = secrets.token_urlsafe(32)
    now = wall_now()
    await uow.logins.add_refresh(RefreshRecord(
        token_hash=_digest(refresh), family_id=family_id or uuid.uuid4().hex, person_id=person.person_id,
        issued_at=now, expires_at=now + timedelta(seconds=ident.refresh_ttl_s), used_at=None, revoked_at=None))
    return api.TokenReply(access_token=access, expires_in=ttl, refresh_token=refresh,
                          refresh_expires_in=ident.refresh_ttl_s, person=person)


async def _check_password(uow: PlansUnitOfWork, username: str, password: str) -> Login:
    """The login whose password this is; failed attempts counted and backed off (wall clock)."""
    login = await uow.logins.by_username(normalize_username(username))
    now = wall_now()
    if login is not None and login.locked_until is not None and login.locked_until > now:
        wait = int((login.locked_until - now).total_seconds()) + 1
        raise ApiError(ErrorCode.TOO_MANY_ATTEMPTS,
                       f"Đăng nhập sai nhiều lần; xin thử lại sau {wait} giây.",
                       [{"field": "username", "message": f"Thử lại sau {wait} giây.", "type": "retry_after"}])
    ok = await asyncio.to_thread(verify_secret, login.password_hash if login else dummy_hash(), password)
    if login is None:
        raise _unauthenticated()
    if not ok:
        login.failed_attempts += 1
        login.locked_until = now + wait_after(login.failed_attempts) if wait_after(login.failed_attempts) else None
        await uow.logins.save(login)
        await uow.commit()
        raise _unauthenticated()
    return login


async def login(cmd: api.Login, who: Principal | None, uow: PlansUnitOfWork, ident: Identity) -> api.TokenReply:
    async with uow:
        found = await _check_password(uow, cmd.username, cmd.password)
        person = await _person(uow, found.person_id)
        if person is None:
            raise forbidden("Tài khoản đã ngừng hoạt động.", "username")
        if found.must_change:
            raise ApiError(ErrorCode.PASSWORD_CHANGE_REQUIRED,
                           "Đồng chí cần đổi mật khẩu tạm thời trước khi đăng nhập.",
                           [{"field": "password", "message": "Cần đổi mật khẩu tạm thời trước."}])
        found.failed_attempts, found.locked_until, found.last_login_at = 0, None, wall_now()
        if needs_rehash(found.password_hash):
            found.password_hash = await asyncio.to_thread(hash_secret, cmd.password)
        await uow.logins.save(found)
        reply = await _tokens(uow, ident, person)
        await uow.commit()
        return reply


async def refresh_token(cmd: api.RefreshToken, who: Principal | None, uow: PlansUnitOfWork,
                        ident: Identity) -> api.TokenReply:
    async with uow:
        now = wall_now()
        record = await uow.logins.refresh(_digest(cmd.refresh_token), for_update=True)
        if record is None or record.revoked_at is not None or record.expires_at <= now:
            raise _unauthenticated("Phiên đăng nhập đã hết hạn; xin đăng nhập lại.")
        if not await uow.logins.use_refresh(record.token_hash, now):
            # Used before: a copy is in someone else's hands. End the whole session.
            await uow.logins.revoke_family(record.family_id, now)
            await uow.commit()
            raise _unauthenticated("Phiên đăng nhập đã bị thu hồi; xin đăng nhập lại.")
        person = await _person(uow, record.person_id)
        if person is None:
            await uow.logins.revoke_family(record.family_id, now)
            await uow.commit()
            raise _unauthenticated("Tài khoản đã ngừng hoạt động.")
        reply = await _tokens(uow, ident, person, record.family_id)
        await uow.logins.drop_expired(now - timedelta(days=1))
        await uow.commit()
        return reply


async def logout(cmd: api.Logout, who: Principal | None, uow: PlansUnitOfWork, ident: Identity) -> api.LogoutReply:
    async with uow:
        record = await uow.logins.refresh(_digest(cmd.refresh_token))
        if record is None or record.revoked_at is not None:
            return api.LogoutReply(revoked=False)
        await uow.logins.revoke_family(record.family_id, wall_now())
        await uow.commit()
        return api.LogoutReply(revoked=True)


async def change_password(cmd: api.ChangePassword, who: Principal | None, uow: PlansUnitOfWork,
                          ident: Identity) -> api.ChangePasswordReply:
    async with uow:
        found = await _check_password(uow, cmd.username, cmd.current_password)
        problems = password_problems(cmd.new_password, found.username)
        if cmd.new_password == cmd.current_password:
            problems.append("Mật khẩu mới phải khác mật khẩu hiện tại.")
        if problems:
            raise Invalid(" ".join(problems), "new_password", [{"field": "new_password", "message": p} for p in problems])
        now = wall_now()
        found.password_hash = await asyncio.to_thread(hash_secret, cmd.new_password)
        found.must_change, found.failed_attempts, found.locked_until = False, 0, None
        found.password_changed_at, found.updated_by = now, found.person_id
        await uow.logins.save(found)
        await uow.logins.revoke_person(found.person_id, now)  # other sessions end with the old password
        await uow.commit()
        return api.ChangePasswordReply(changed=True)


def _view(login: Login, temporary: str | None = None) -> api.LoginView:
    return api.LoginView(person_id=login.person_id, username=login.username, must_change_password=login.must_change,
                         failed_attempts=login.failed_attempts, locked_until=login.locked_until,
                         last_login_at=login.last_login_at, temporary_password=temporary)


def _temporary_password() -> str:
    # Readable aloud or over the phone: no look-alike characters.
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(4))


async def _administered(uow: PlansUnitOfWork, who: Principal, person_id: str):
    row = await uow.directory.person(person_id)
    if row is None:
        raise not_found(f"cá nhân {person_id}", "person_id")
    actor = await authorize(uow, who, Action.ADMINISTER, row.unit_id, field="person_id")
    return row, actor


async def set_login(cmd: api.SetLogin, who: Principal, uow: PlansUnitOfWork, ident: Identity) -> api.LoginView:
    async with uow:
        _, actor = await _administered(uow, who, cmd.person_id)
        username = normalize_username(cmd.username)
        taken = await uow.logins.by_username(username)
        if taken is not None and taken.person_id != cmd.person_id:
            raise conflict(f"Tên đăng nhập {username} đã có người dùng.", field="username")
        if cmd.password is not None:
            problems = password_problems(cmd.password, username)
            if problems:
                raise Invalid(" ".join(problems), "password", [{"field": "password", "message": p} for p in problems])
        temporary = None if cmd.password is not None else _temporary_password()
        now = wall_now()
        existing = await uow.logins.by_person(cmd.person_id)
        login = Login(person_id=cmd.person_id, username=username,
                      password_hash=await asyncio.to_thread(hash_secret, cmd.password or temporary or ""),
                      must_change=cmd.must_change_password or temporary is not None, failed_attempts=0,
                      locked_until=None, last_login_at=existing.last_login_at if existing else None,
                      password_changed_at=now, updated_by=actor.label)
        await uow.logins.save(login)
        await uow.logins.revoke_person(cmd.person_id, now)
        await uow.commit()
        return _view(login, temporary)


async def reset_password(cmd: api.ResetPassword, who: Principal, uow: PlansUnitOfWork,
                         ident: Identity) -> api.LoginView:
    async with uow:
        _, actor = await _administered(uow, who, cmd.person_id)
        login = await uow.logins.by_person(cmd.person_id)
        if login is None:
            raise not_found(f"tài khoản đăng nhập của {cmd.person_id} (cần cấp tài khoản trước)", "person_id")
        temporary = _temporary_password()
        now = wall_now()
        login.password_hash = await asyncio.to_thread(hash_secret, temporary)
        login.must_change, login.failed_attempts, login.locked_until = True, 0, None
        login.password_changed_at, login.updated_by = now, actor.label
        await uow.logins.save(login)
        await uow.logins.revoke_person(cmd.person_id, now)
        await uow.commit()
        return _view(login, temporary)


async def get_login(cmd: api.GetLogin, who: Principal, uow: PlansUnitOfWork, ident: Identity) -> api.LoginView:
    async with uow:
        if who.person_id != cmd.person_id:
            await _administered(uow, who, cmd.person_id)
        login = await uow.logins.by_person(cmd.person_id)
        if login is None:
            raise not_found(f"tài khoản đăng nhập của {cmd.person_id}", "person_id")
        return _view(login)


async def service_token(cmd: api.ServiceToken, who: Principal | None, uow: PlansUnitOfWork,
                        ident: Identity) -> api.TokenReply:
    client = ident.clients.get(cmd.client_id)
    ok = await asyncio.to_thread(verify_secret, client.secret_hash if client else dummy_hash(), cmd.client_secret)
    if client is None or not ok:
        raise ApiError(ErrorCode.UNAUTHENTICATED, "Định danh dịch vụ hoặc khóa bí mật không đúng.",
                       [{"field": "client_secret", "message": "Định danh dịch vụ hoặc khóa bí mật không đúng."}])
    token, ttl = ident.issuer.issue("service", client.client_id, roles=client.roles)
    return api.TokenReply(access_token=token, expires_in=ttl, roles=sorted(client.roles))


async def whoami(cmd: api.WhoAmI, who: Principal, uow: PlansUnitOfWork, ident: Identity) -> api.WhoAmIReply:
    async with uow:
        if who.kind == "service":
            return api.WhoAmIReply(kind="service", id=who.id, roles=sorted(who.roles))
        person = await _person(uow, who.id)
        if person is None:
            await authorize(uow, who, Action.OWN, None, owner=who.id, on=today(uow))  # unknown or inactive: 403
        return api.WhoAmIReply(kind="person", id=who.id, person=person, roles=list(person.roles) if person else [])
