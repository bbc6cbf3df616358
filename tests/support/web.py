"""Signing a test client in to the web app, as a browser does: the sign-in form, then the session cookie."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient


def form_token(html: str, field: str = "csrf_token") -> str:
    """The hidden form token a page carries (`sign_in_token` on the sign-in page)."""
    found = re.search(rf'name="{field}" value="([^"]*)"', html)
    assert found, f"the page has no {field} field"
    return found.group(1)


def page_csrf(html: str) -> str:
    """The token a page hands its scripts for state-changing requests."""
    found = re.search(r'<meta name="csrf-token" content="([^"]*)"', html)
    assert found and found.group(1), "the page carries no CSRF token"
    return found.group(1)


def sign_in(client: TestClient, email: str | None = None, token: str | None = None) -> str:
    """Sign in (dev mode by email, token mode by token); the CSRF token of the new session."""
    form = client.get("/sign-in")
    data = {"sign_in_token": form_token(form.text, "sign_in_token"), "email": email or "", "token": token or ""}
    answer = client.post("/sign-in", data=data)
    assert answer.status_code == 200, answer.text
    return page_csrf(answer.text)
