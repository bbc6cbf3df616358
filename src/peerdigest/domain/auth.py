"""Who is calling the API, in each of the three `AUTH_MODE`s, and the API tokens of `token` mode.

- `dev`: the `X-User-Email` header names the user and is believed as sent, so
  it is refused at start outside development and tests.
- `token`: `Authorization: Bearer <token>`. A token is shown once when created;
  only its hash is stored, with an expiry and a revocation time.
- `proxy`: a reverse proxy that has signed the user in names them in a header
  (`AUTH_PROXY_HEADER`); the header counts only on a request whose direct peer
  is one of `TRUSTED_PROXIES`, since anyone else can send any header.

Only one mode is active: in `token` and `proxy` mode `X-User-Email` means nothing.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from ipaddress import ip_address

from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from peerdigest.config import AuthMode, Settings
from peerdigest.db.models import ApiToken, User, utcnow
from peerdigest.i18n import N_, Message

TOKEN_PREFIX = "pd_"
# Writing last_used_at on every request would turn each status poll into a write;
# once a minute is precise enough to see which tokens are still in use.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class NotAuthenticated(Exception):
    """The request does not prove who sent it; the message says what to send instead."""


class UnsafeAuthConfig(Exception):
    """The API must not start with this authentication configuration."""


def startup_problem(settings: Settings) -> str | None:
    """Why the API must not start with these settings, or None when it may."""
    if settings.auth_mode == AuthMode.dev and settings.environment not in ("development", "test"):
        return (
            f"AUTH_MODE=dev believes any X-User-Email header and is refused with ENVIRONMENT={settings.environment}. "
            "Set AUTH_MODE=token (API tokens) or AUTH_MODE=proxy (behind a signing-in reverse proxy); "
            "see docs/OPERATIONS.md."
        )
    if settings.auth_mode == AuthMode.proxy and not settings.trusted_proxy_networks:
        return "AUTH_MODE=proxy needs TRUSTED_PROXIES: the addresses of the reverse proxies allowed to name the user."
    return None


def check_startup(settings: Settings) -> None:
    problem = startup_problem(settings)
    if problem is not None:
        raise UnsafeAuthConfig(problem)


def user_by_email(session: Session, email: str | None, *, header: str) -> User:
    if not email or not email.strip():
        raise NotAuthenticated(Message("Not signed in: send the %(header)s header.", header=header))
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise NotAuthenticated(Message("No user with email %(email)r.", email=email.strip()))
    return refuse_disabled(user)


def refuse_disabled(user: User) -> User:
    """The user, unless their access was ended (`domain/users.disable`): then no credential of theirs counts."""
    if user.disabled_at is not None:
        raise NotAuthenticated(
            Message("%(email)s has had no access since %(date)s; ask an admin of your school.",
                    email=user.email, date=user.disabled_at.strftime("%Y-%m-%d"))
        )
    return user


def user_from_proxy(session: Session, settings: Settings, client_host: str | None, emails: list[str]) -> User:
    """The user the proxy names (`emails`: every value of its header), if the request really comes from a trusted proxy.

    A header sent more than once is refused rather than read: a proxy that adds its
    header instead of replacing the client's would otherwise let the client's own
    value through, whichever copy a reader happens to take.
    """
    if not is_trusted_proxy(settings, client_host):
        raise NotAuthenticated(N_("Requests must come through the signing-in reverse proxy."))
    if len(emails) > 1:
        raise NotAuthenticated(
            f"The {settings.auth_proxy_header} header was sent {len(emails)} times; a request may name one user only."
        )
    return user_by_email(session, emails[0] if emails else None, header=settings.auth_proxy_header)


def sees_installation(user: User, settings: Settings) -> bool:
    """Whether the user administers the installation (INSTALLATION_ADMINS) and so sees every school's queue."""
    return user.email in settings.installation_admin_emails


def is_trusted_proxy(settings: Settings, client_host: str | None) -> bool:
    try:
        address = ip_address(client_host or "")
    except ValueError:
        return False
    return any(address in network for network in settings.trusted_proxy_networks)


# --- API tokens -------------------------------------------------------------


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str  # the plain token: exists only now, shown once, never stored


def hash_token(secret: str) -> str:
    # A token is 256 random bits, so no dictionary attack can guess it: a fast
    # hash is as safe as a slow one here, and lets a request find its token by index.
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(session: Session, user: User, *, name: str = "", expires_in: timedelta | None) -> IssuedToken:
    """A new token for `user`; `expires_in=None` makes one that never expires."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    token = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=hash_token(secret),
        created_at=now,
        expires_at=now + expires_in if expires_in is not None else None,
    )
    session.add(token)
    session.flush()
    return IssuedToken(token, secret)


def user_by_token(session: Session, secret: str | None) -> User:
    """The owner of a valid (known, unexpired, unrevoked) token; records that it was used."""
    return valid_token(session, secret).user


def valid_token(session: Session, secret: str | None) -> ApiToken:
    """The known, unexpired, unrevoked token of this secret; records that it was used."""
    if not secret:
        raise NotAuthenticated(N_("Not signed in: send Authorization: Bearer <API token>."))
    # Its owner in the same statement: every request in token mode needs both, and a lazy load of the user
    # would be a second round trip on each.
    token = session.scalar(
        select(ApiToken).options(joinedload(ApiToken.user)).where(ApiToken.token_hash == hash_token(secret.strip()))
    )
    if token is None:
        raise NotAuthenticated(N_("Unknown API token."))
    refuse_disabled(token.user)  # first: why the owner has no access says more than the revoked token
    now = utcnow()
    state = token_state(token, now)
    if state == "revoked":
        raise NotAuthenticated(N_("This API token was revoked; ask for a new one."))
    if state == "expired":
        raise NotAuthenticated(Message("This API token expired on %(when)s UTC; ask for a new one.",
                                       when=format(token.expires_at, "%Y-%m-%d %H:%M")))
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        _record_use(session, token, now)
    return token


def _record_use(session: Session, token: ApiToken, now: datetime) -> None:
    """Write the token's `last_used_at` in a transaction of its own.

    The request's session is the request's to commit (a read commits nothing), so the
    use is recorded beside it, on the same engine; the request then sees the value too.
    """
    with Session(session.get_bind()) as own, own.begin():
        own.execute(update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now))
    set_committed_value(token, "last_used_at", now)


def tokens(session: Session, user: User | None = None) -> list[ApiToken]:
    """Every token (of one user, if given), oldest first."""
    query = select(ApiToken).order_by(ApiToken.id)
    if user is not None:
        query = query.where(ApiToken.user_id == user.id)
    return list(session.scalars(query))


def revoke_token(session: Session, token_id: int) -> ApiToken | None:
    """Revoke a token from now on; None when there is no such token. Revoking twice keeps the first time.

    The browser sessions signed in with it end too (`web_sessions.find` refuses them)."""
    token = session.get(ApiToken, token_id)
    if token is not None and token.revoked_at is None:
        token.revoked_at = utcnow()
    return token


def token_state(token: ApiToken, now: datetime | None = None) -> str:
    """active | expired | revoked"""
    now = now or utcnow()
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and token.expires_at <= now:
        return "expired"
    return "active"
