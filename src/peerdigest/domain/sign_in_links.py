"""One-time sign-in links: what a mail carries so its reader lands signed in on the right page.

The link holds a random secret; only its hash is stored (like an API token's
and a browser session's), so the table alone signs nobody in. A link works
once and for a limited time (SIGN_IN_LINK_HOURS): a forwarded or leaked mail
stops being a key once it was used or is old. Redeeming is a compare-and-set on
`used_at`, so two clicks racing each other sign in only one browser. Only
`redeem` uses a link up; looking at one (`usable`) does not, so the page a GET
of the link shows can ask for a click first (mail scanners fetch links).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from peerdigest.db.models import SignInLink, User, utcnow
from peerdigest.domain.auth import hash_token
from peerdigest.i18n import _

PATH = "/sign-in/link/"


class LinkRefused(Exception):
    """The link signs nobody in; the message says why, in words for the person who clicked it."""


@dataclass(frozen=True)
class Created:
    link: SignInLink
    secret: str  # for the mail: exists only now, never stored

    @property
    def path(self) -> str:
        return PATH + self.secret


def create(session: Session, user: User, next_path: str, lifetime: timedelta) -> Created:
    """A new link that signs `user` in once within `lifetime` and then goes to `next_path` (a path of this site)."""
    secret = secrets.token_urlsafe(32)
    now = utcnow()
    link = SignInLink(
        user_id=user.id, secret_hash=hash_token(secret), next_path=next_path, created_at=now, expires_at=now + lifetime
    )
    session.add(link)
    session.flush()
    return Created(link, secret)


def usable(session: Session, secret: str, now: datetime | None = None) -> SignInLink:
    """The link, with the user it signs in, while it can be used; `LinkRefused` otherwise. Uses nothing up."""
    now = now or utcnow()
    link = session.scalar(select(SignInLink).where(SignInLink.secret_hash == hash_token(secret)))
    if link is None:
        raise LinkRefused(_("This sign-in link is not known here. Check that the whole link was copied, or sign in."))
    if link.used_at is not None:
        raise LinkRefused(_("This sign-in link was used already; each link works once. Please sign in."))
    if link.expires_at <= now:
        raise LinkRefused(_("This sign-in link has expired. Please sign in."))
    if link.user.disabled_at is not None:
        raise LinkRefused(_("This account is disabled; ask your school if that is a mistake."))
    return link


def redeem(session: Session, secret: str, now: datetime | None = None) -> SignInLink:
    """Use the link: its row, now marked used, with the user to sign in; `LinkRefused` when it cannot be used."""
    now = now or utcnow()
    link = usable(session, secret, now)
    claimed = session.execute(
        update(SignInLink)
        .where(SignInLink.id == link.id, SignInLink.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # another click took it a moment ago
        raise LinkRefused(_("This sign-in link was used already; each link works once. Please sign in."))
    link.used_at = now
    return link
