"""`peerdigest run --port N`: the links in the mails it writes lead to that port."""

from peerdigest.config import Settings
from peerdigest.dev.devserver import mail_links_to


def test_mail_links_lead_to_the_port_run_serves_on_unless_public_url_says_where(monkeypatch):
    monkeypatch.delenv("PUBLIC_URL", raising=False)
    assert mail_links_to(Settings(database_url="sqlite://"), 8731) == "http://localhost:8731"
    monkeypatch.setenv("PUBLIC_URL", "https://peerdigest.school.example")
    assert mail_links_to(Settings(database_url="sqlite://"), 8731) == "https://peerdigest.school.example"
