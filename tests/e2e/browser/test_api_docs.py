"""Swagger UI and ReDoc render in a browser that can reach nothing but this server (a filtering school network)."""

from urllib.parse import urlparse

from playwright.sync_api import expect


def test_the_api_documentation_renders_without_the_internet(web_app_without_worker, page, shot):
    app = web_app_without_worker
    elsewhere = []

    def only_this_server(route):
        if urlparse(route.request.url).netloc == urlparse(app.base_url).netloc:
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", only_this_server)
    page.goto(app.url("/docs"))
    # The bundles are large: on a busy machine rendering takes a while, so wait longer than expect's default.
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("peerdigest", timeout=30_000)
    expect(page.get_by_text("/api/v1/feedback-summaries/evaluation/{evaluation_id}/student/{student_id}/approve")).to_be_visible()
    shot(page, "swagger")
    page.goto(app.url("/redoc"))
    expect(page.get_by_role("heading", name="peerdigest", exact=False).first).to_be_visible(timeout=30_000)
    shot(page, "redoc")
    assert elsewhere == []
