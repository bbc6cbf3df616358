"""One-time sign-in links: following one from a mail, and asking for one by mail.

Opening a link shows whom it signs in and a Sign in button; only pressing it
(a POST) uses the link up, signs its user in as the sign-in page does, and goes
where the mail pointed. Mail scanners (Outlook's Safe Links and the like) fetch
every link in a mail before its reader does, so a link used up by a GET would
be spent before anyone clicked it. The button's form is an anonymous browser's,
so it carries the sign-in page's double-submit token (`signin.render_sign_in_form`):
another site that knows a link (its own, say) cannot sign a browser in with it.
A used, expired or unknown link is a page that says so in plain words, with
the way to sign in.

Anyone may ask for a link to an address
(`/sign-in/mail`, for people without an API token in `token` mode): the answer
is the same whether the address is known or not, and one address gets at most
one link every few minutes. Only in the `dev` and `token` modes: in `proxy`
mode mail links point at the pages themselves and the proxy signs people in.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request, status

from peerdigest.api.deps import RedisDep, SessionDep, SettingsDep
from peerdigest.config import AuthMode, Settings
from peerdigest.db.models import SignInLink
from peerdigest.db.session import after_commit
from peerdigest.domain import mail, sign_in_links
from peerdigest.i18n import N_, translate
from peerdigest.queue.mail import announce
from peerdigest.web.pages import local_path, page_router, redirect, render
from peerdigest.web.signin import _signed_in, render_sign_in_form, sign_in_token_matches

router = page_router(signed_in=False)


@router.get(sign_in_links.PATH + "{secret}")
def open_link(secret: str, request: Request, db: SessionDep, settings: SettingsDep):
    if settings.auth_mode == AuthMode.proxy:
        return redirect("/sign-in")
    try:
        link = sign_in_links.usable(db, secret)
    except sign_in_links.LinkRefused as exc:
        return _refused(request, exc)
    return _confirm(request, settings, link, secret)


@router.post(sign_in_links.PATH.rstrip("/"))
def follow_link(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    secret: Annotated[str, Form(max_length=100)] = "",
    sign_in_token: Annotated[str, Form(max_length=100)] = "",
):
    if settings.auth_mode == AuthMode.proxy:
        return redirect("/sign-in")
    try:
        if not sign_in_token_matches(request, sign_in_token):
            expired = N_("The sign-in form had expired; please try again.")
            return _confirm(request, settings, sign_in_links.usable(db, secret), secret, expired)
        link = sign_in_links.redeem(db, secret)
    except sign_in_links.LinkRefused as exc:
        return _refused(request, exc)
    return _signed_in(settings, link.user, link.next_path, db)


def _confirm(request: Request, settings: Settings, link: SignInLink, secret: str, problem: str | None = None):
    """The page that asks for the click, with a fresh double-submit token; never kept in a cache (it holds the secret)."""
    response = render_sign_in_form(request, settings, "sign_in_link.html", status_code=403 if problem else 200,
                                   person=link.user, secret=secret, problem=problem)
    response.headers["Cache-Control"] = "no-store"
    return response


def _refused(request: Request, exc: sign_in_links.LinkRefused):
    return render(request, "link_refused.html", status_code=status.HTTP_410_GONE, message=translate(exc.args[0]))


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
