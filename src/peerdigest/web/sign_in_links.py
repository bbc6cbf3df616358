"""One-time sign-in links: following one from a mail, and asking for one by mail.

Following a link signs its user in, as the sign-in page does, and goes where
the mail pointed; a used, expired or unknown link is a page that says so in
plain words, with the way to sign in. Anyone may ask for a link to an address
(`/sign-in/mail`, for people without an API token in `token` mode): the answer
is the same whether the address is known or not, and one address gets at most
one link every few minutes. Only in the `dev` and `token` modes: in `proxy`
mode mail links point at the pages themselves and the proxy signs people in.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request, status

from peerdigest.api.deps import RedisDep, SessionDep, SettingsDep
from peerdigest.config import AuthMode
from peerdigest.db.session import after_commit
from peerdigest.domain import mail, sign_in_links
from peerdigest.i18n import _, translate
from peerdigest.queue.mail import announce
from peerdigest.web.pages import local_path, page_router, redirect, render
from peerdigest.web.signin import _signed_in

router = page_router()


@router.get(sign_in_links.PATH + "{secret}")
def follow_link(secret: str, request: Request, db: SessionDep, settings: SettingsDep):
    if settings.auth_mode == AuthMode.proxy:
        return redirect("/sign-in")
    try:
        link = sign_in_links.redeem(db, secret)
    except sign_in_links.LinkRefused as exc:  # refused before anything was written
        return render(request, "link_refused.html", status_code=status.HTTP_410_GONE, message=translate(exc.args[0]))
    return _signed_in(settings, link.user, link.next_path, db)


@router.get("/sign-in/mail")
def ask_for_link(request: Request, settings: SettingsDep, next: str | None = None):
    if settings.auth_mode == AuthMode.proxy:
        return redirect("/sign-in")
    return render(request, "sign_in_mail.html", next=local_path(next) or "", can_mail=bool(settings.smtp_url))


@router.post("/sign-in/mail")
def mail_link(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    redis: RedisDep,
    email: Annotated[str, Form(max_length=320)] = "",
    next: Annotated[str, Form()] = "",
):
    if settings.auth_mode == AuthMode.proxy or not settings.smtp_url:
        return redirect("/sign-in/mail")
    # "/" without a page asked for: it sends each user on to their own start page.
    written = mail.sign_in(db, settings, email, local_path(next) or "/")
    if written is not None:
        after_commit(db, lambda: announce(redis, settings, [written]))
    return render(request, "sign_in_mail.html", sent=True, can_mail=True, hours=f"{settings.sign_in_link_hours:g}")
