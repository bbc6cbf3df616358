"""Signing in and out of the web app, in each AUTH_MODE; `/` sends a signed-in user to their start page.

- `dev`: pick one of the users in the database (a banner says this is development sign-in);
- `token`: paste a personal API token once (`peerdigest tokens create`);
- `proxy`: the reverse proxy has signed the user in; opening the sign-in page starts the session at once.

Each ends in a browser session (`domain/web_sessions.py`) in an HttpOnly,
SameSite=Lax cookie. The sign-in form itself has no session yet, so it carries
a token that must match a cookie set with the form ("double submit"): another
site cannot sign a browser in as someone else.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Annotated

from fastapi import Form, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select

from peerdigest.api.deps import CurrentUser, Identity, SessionDep, SettingsDep, is_staff
from peerdigest.config import AuthMode, Settings
from peerdigest.db.models import ApiToken, School, User
from peerdigest.domain import auth, web_sessions
from peerdigest.i18n import N_
from peerdigest.web.pages import SignedIn, local_path, page_router, redirect, render

router = page_router(signed_in=False)

SIGN_IN_CSRF_COOKIE = "peerdigest_sign_in"
DEV_USERS_SHOWN = 200


def start_page(user: User) -> str:
    return "/evaluations" if is_staff(user) else "/my-evaluations"


@router.get("/", dependencies=[SignedIn])
def home(user: CurrentUser) -> RedirectResponse:
    return RedirectResponse(start_page(user), status_code=status.HTTP_303_SEE_OTHER)


def _signed_in(settings: Settings, user: User, target: str | None, db, token: ApiToken | None = None) -> RedirectResponse:
    started = web_sessions.start(db, user, timedelta(hours=settings.web_session_hours), settings.auth_mode, token)
    response = redirect(local_path(target) or start_page(user))
    response.set_cookie(
        web_sessions.COOKIE,
        started.secret,
        max_age=int(settings.web_session_hours * 3600),
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.web_cookie_secure,
    )
    response.delete_cookie(SIGN_IN_CSRF_COOKIE, path="/sign-in")
    return response


def _form(request: Request, db, settings: Settings, target: str | None, problem: str | None = None):
    """The sign-in page of the current mode."""
    users = []
    if settings.auth_mode == AuthMode.dev:
        users = db.scalars(
            select(User).join(School).where(User.disabled_at.is_(None))
            .order_by(School.name, User.role.desc(), User.name).limit(DEV_USERS_SHOWN)
        ).all()
    return render_sign_in_form(
        request,
        settings,
        "sign_in.html",
        status_code=status.HTTP_401_UNAUTHORIZED if problem else status.HTTP_200_OK,
        mode=settings.auth_mode.value,
        users=users,
        next=local_path(target) or "",
        problem=problem,
    )


def render_sign_in_form(request: Request, settings: Settings, template: str, **context) -> HTMLResponse:
    """A page with a form that signs a browser in: rendered with a fresh double-submit token (`sign_in_token`),
    the same one set in its cookie, which `sign_in_token_matches` checks when the form comes back."""
    token = secrets.token_urlsafe(24)
    response = render(request, template, sign_in_token=token, **context)
    response.set_cookie(SIGN_IN_CSRF_COOKIE, token, path="/sign-in", httponly=True, samesite="lax",
                        secure=settings.web_cookie_secure)
    return response


def sign_in_token_matches(request: Request, sent: str) -> bool:
    expected = request.cookies.get(SIGN_IN_CSRF_COOKIE)
    # As bytes: compare_digest raises on a str with other than ASCII in it, and anyone can send one.
    return bool(expected) and secrets.compare_digest(expected.encode(), sent.encode())


@router.get("/sign-in")
def sign_in_page(request: Request, identity: Identity, db: SessionDep, settings: SettingsDep, next: str | None = None):
    browser = getattr(request.state, "web_session", None)
    if isinstance(identity, User) and browser is not None and browser.user_id == identity.id:
        return redirect(local_path(next) or start_page(identity))
    if settings.auth_mode == AuthMode.proxy:
        # The proxy has signed the user in already; if it has not (or the request bypassed it), say so.
        if isinstance(identity, auth.NotAuthenticated):
            return render(request, "error.html", status_code=401, title=N_("Please sign in"), message=identity.args[0])
        return _signed_in(settings, identity, next, db)
    return _form(request, db, settings, next)


@router.post("/sign-in")
def sign_in(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    sign_in_token: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
):
    if not sign_in_token_matches(request, sign_in_token):
        return _form(request, db, settings, next, N_("The sign-in form had expired; please try again."))
    api_token = None
    try:
        if settings.auth_mode == AuthMode.token:
            api_token = auth.valid_token(db, token)
            user = api_token.user
        elif settings.auth_mode == AuthMode.dev:
            user = auth.user_by_email(db, email, header="email")
        else:
            return redirect("/sign-in")  # proxy mode signs in on the page itself
    except auth.NotAuthenticated as exc:
        return _form(request, db, settings, next, exc.args[0])
    return _signed_in(settings, user, next, db, api_token)


@router.post("/sign-out")
def sign_out(request: Request, db: SessionDep, settings: SettingsDep) -> RedirectResponse:
    web_sessions.end(db, request.cookies.get(web_sessions.COOKIE), settings.auth_mode)
    response = RedirectResponse("/signed-out", status_code=status.HTTP_303_SEE_OTHER)
    response.delete_cookie(web_sessions.COOKIE, path="/")
    return response


@router.get("/signed-out")
def signed_out(request: Request, settings: SettingsDep):
    return render(request, "signed_out.html", proxy=settings.auth_mode == AuthMode.proxy)
