"""/docs and /redoc work on a network that reaches nothing but this server: every asset is served from here."""

import re

from tests.support.api import api_client


def test_swagger_ui_and_redoc_load_only_assets_this_server_serves(settings):
    client = api_client(settings)
    for page in ("/docs", "/redoc"):
        html = client.get(page)
        assert html.status_code == 200 and "/openapi.json" in html.text
        assert "default-src 'self'" in html.headers["content-security-policy"]
        sources = re.findall(r'(?:src|href)="([^"]+)"', html.text) + re.findall(r"url: '([^']+)'", html.text)
        assert sources and all(source.startswith("/") for source in sources), (page, sources)
        for source in sources:
            if source.startswith("/docs-assets/"):
                assert client.get(source).status_code == 200, source
    assert "fonts.googleapis" not in client.get("/redoc").text
    assert '"validatorUrl": null' in client.get("/docs").text
