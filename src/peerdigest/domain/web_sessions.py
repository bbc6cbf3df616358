"""Browser sign-ins: a session per signed-in browser, and the form token (CSRF) that goes with it.

The cookie carries a random secret; only its hash is stored, like an API
token's. Each session has its own CSRF token, which every form and every
state-changing request of the pages must send back: a page of another site can
make the browser send the cookie, but it cannot read the token.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from peerdigest.db.models import User, WebSession, utcnow
from peerdigest.domain.auth import hash_token

COOKIE = "peerdigest_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"


@dataclass(frozen=True)
class Started:
    session: WebSession
    secret: str  # for the cookie: exists only now, never stored


def start(session: Session, user: User, lifetime: timedelta) -> Started:
    """A new signed-in session for `user`, valid for `lifetime` unless ended earlier."""
    secret = secrets.token_urlsafe(32)
    now = utcnow()
    web_session = WebSession(
        user_id=user.id,
        secret_hash=hash_token(secret),
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + lifetime,
    )
    session.add(web_session)
    session.flush()
    return Started(web_session, secret)


def find(session: Session, secret: str | None) -> WebSession | None:
    """The live session the cookie's secret belongs to; None when unknown, ended, expired or its user's access ended."""
    if not secret:
        return None
    # The user and school come along: an error page is drawn after the request's session has closed.
    found = session.scalar(
        select(WebSession)
        .options(joinedload(WebSession.user).joinedload(User.school))
        .where(WebSession.secret_hash == hash_token(secret))
    )
    if found is None or found.ended_at is not None or found.expires_at <= utcnow() or found.user.disabled_at is not None:
        return None
    return found


def end(session: Session, secret: str | None) -> None:
    """Sign out: the session is refused from now on, whoever still holds its cookie."""
    found = find(session, secret)
    if found is not None:
        found.ended_at = utcnow()


def csrf_matches(web_session: WebSession, sent: str | None) -> bool:
    return bool(sent) and secrets.compare_digest(web_session.csrf_token, sent)
