"""Staff sign-in with limits on guessing (等保 2.0, login failure handling).

Failures are counted per account name and per client address, in PostgreSQL under advisory
locks, so the limits hold across API processes. Past its limit a name (or an address) is locked
for `SIGN_IN_LOCK_MINUTES`, and each further failure after a lock doubles the next one, up to a
day; a day without failures starts the count again, and signing in resets the name's count
(not the address's, or a guesser with one account of their own could reset it). While locked,
the password is not even checked. Names nobody holds are counted like real ones, so the answers
never tell which names exist. Every failed sign-in is audited (`sign_in_failed`, subject type
`sign_in`: apart from the account's own history), with the address but without the name typed
unless it is an account's."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.errors import ApiError
from services.api.people.security import verify_password
from services.db.audit import append_audit
from services.db.tables import Account, SignInLimit
from services.domain.identification.state import Actor
from services.domain.months import CHINA_TIME
from services.settings import Settings

_QUIET = timedelta(days=1)  # no failure for this long: the count starts again
_LONGEST_LOCK = timedelta(days=1)
_ROOT_AREA = text("SELECT code FROM areas WHERE parent_code IS NULL ORDER BY code LIMIT 1")


def account_key(username: str) -> str:
    return "account:" + hashlib.sha256(username.encode()).hexdigest()


def address_key(client_address: str) -> str:
    return f"address:{client_address}"


async def sign_in(
    session: AsyncSession, settings: Settings, username: str, password: str, client_address: str
) -> Account | ApiError:
    """The account these credentials open, or the refusal to raise once the caller has committed
    (the failure is counted and audited either way)."""
    now = datetime.now(UTC)
    allowed = {
        account_key(username): settings.sign_in_failures_per_account,
        address_key(client_address): settings.sign_in_failures_per_address,
    }
    for key in sorted(allowed):  # one order, so two sign-ins never wait on each other's lock
        await session.execute(select(func.pg_advisory_xact_lock(func.hashtext(key))))
    rows = (await session.scalars(select(SignInLimit).where(col(SignInLimit.key).in_(allowed)))).all()
    limits = {row.key: row for row in rows}
    account = await session.get(Account, username)
    locked = _latest([(row.locked_until, key) for key, row in limits.items()], now)
    if locked is not None:
        await _audit(session, account, client_address, "locked")
        return _refusal(429, "sign_in_locked", "登录失败次数过多，", locked, now)
    if verify_password(password, account.password_hash if account else None) and account is not None:
        if account.disabled:
            await _audit(session, account, client_address, "disabled")
            return ApiError(401, "account_disabled", "该账号已停用，请联系管理员")
        if account_key(username) in limits:
            await session.delete(limits[account_key(username)])
        return account
    counted = [
        (await _count_failure(session, settings, key, most, limits.get(key), now), key) for key, most in allowed.items()
    ]
    locks_now = _latest(counted, now)
    await _audit(session, account, client_address, "bad_credentials", locks_now[0] if locks_now else None)
    if locks_now is not None:
        return _refusal(401, "bad_credentials", "用户名或密码不正确；失败次数过多，", locks_now, now)
    return ApiError(401, "bad_credentials", "用户名或密码不正确")


def _latest(locks: list[tuple[datetime | None, str]], now: datetime) -> tuple[datetime, str] | None:
    """The lock that lasts longest among those still running (until when, and its key)."""
    running = [(until, key) for until, key in locks if until is not None and until > now]
    return max(running) if running else None


async def _count_failure(
    session: AsyncSession, settings: Settings, key: str, allowed: int, row: SignInLimit | None, now: datetime
) -> datetime | None:
    """Counts one failure; until when the key is locked, if this failure locks it."""
    failures = 1 if row is None or row.last_failure_at < now - _QUIET else row.failures + 1
    locked_until = None
    if failures >= allowed:
        lock = timedelta(minutes=settings.sign_in_lock_minutes) * 2 ** min(failures - allowed, 16)
        locked_until = now + min(lock, _LONGEST_LOCK)
    values = {"key": key, "failures": failures, "last_failure_at": now, "locked_until": locked_until}
    upsert = insert(SignInLimit).values(**values)
    await session.execute(upsert.on_conflict_do_update(index_elements=[col(SignInLimit.key)], set_=values))
    return locked_until


def _refusal(status: int, code: str, why: str, lock: tuple[datetime, str], now: datetime) -> ApiError:
    """Says when the person may try again, in Beijing time, and in seconds for programs (Retry-After)."""
    until, key = lock
    seconds = max(1, int((until - now).total_seconds()) + 1)
    what = "该网络地址已暂时锁定" if key.startswith("address:") else "该账号已暂时锁定"
    error = ApiError(
        status,
        code,
        f"{why}{what}，请于{until.astimezone(CHINA_TIME):%m月%d日 %H:%M}（北京时间）后再试",
        retry_after=seconds,
        locked_until=until.isoformat(),
    )
    error.headers = {"Retry-After": str(seconds)}
    return error


async def _audit(
    session: AsyncSession,
    account: Account | None,
    client_address: str,
    reason: str,
    locked_until: datetime | None = None,
) -> None:
    area_code = account.area_code if account else await session.scalar(_ROOT_AREA)
    data = {"reason": reason, "client_address": client_address, "known_account": account is not None}
    if locked_until is not None:
        data["locked_until"] = locked_until.isoformat()
    # Recorded by the service: who typed the password is not known.
    await append_audit(
        session,
        Actor.system(area_code or ""),
        "sign_in_failed",
        "sign_in",
        account.username if account else "",
        data,
    )
