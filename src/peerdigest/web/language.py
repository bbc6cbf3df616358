"""The language chooser in every page's header: a signed-in user's choice is saved as their own setting
(`user.language`, which counts before the browser's), anyone's is also kept in a cookie, so the
sign-in page after signing out speaks the same language."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, HTTPException, Request, status

from peerdigest import i18n
from peerdigest.api.deps import Identity
from peerdigest.db.models import User
from peerdigest.i18n import N_
from peerdigest.web.pages import LANGUAGE_COOKIE, local_path, page_router, redirect

router = page_router(signed_in=False)

COOKIE_DAYS = 365


@router.post("/language")
def choose_language(
    request: Request,
    identity: Identity,
    language: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
):
    """Write the interface in `language` from now on; back to the page the choice was made on."""
    if language not in i18n.LANGUAGES:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, N_("That language is not offered."))
    browser = getattr(request.state, "web_session", None)
    if isinstance(identity, User) and browser is not None and browser.user_id == identity.id:
        identity.language = language  # the user came from the request's session: its unit of work saves this
    response = redirect(local_path(next) or "/")
    response.set_cookie(LANGUAGE_COOKIE, language, max_age=COOKIE_DAYS * 24 * 3600, path="/", httponly=True,
                        samesite="lax")
    return response
