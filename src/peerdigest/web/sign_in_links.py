"""A one-time sign-in link from a mail: signs its user in, as the sign-in page does, and goes where the mail pointed.

Only in the `dev` and `token` modes: in `proxy` mode mail links point at the
pages themselves and the proxy signs people in. A used, expired or unknown link
is a page that says so in plain words, with the way to sign in.
"""

from __future__ import annotations

from fastapi import Request, status

from peerdigest.api.deps import SessionDep, SettingsDep
from peerdigest.config import AuthMode
from peerdigest.domain import sign_in_links
from peerdigest.i18n import _
from peerdigest.web.pages import page_router, redirect, render
from peerdigest.web.signin import _signed_in

router = page_router()


@router.get(sign_in_links.PATH + "{secret}")
def follow_link(secret: str, request: Request, db: SessionDep, settings: SettingsDep):
    if settings.auth_mode == AuthMode.proxy:
        return redirect("/sign-in")
    try:
        link = sign_in_links.redeem(db, secret)
    except sign_in_links.LinkRefused as exc:
        db.rollback()
        return render(request, "link_refused.html", status_code=status.HTTP_410_GONE, message=str(exc))
    return _signed_in(settings, link.user, link.next_path, db)
