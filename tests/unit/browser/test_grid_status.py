"""The Grid's /status as popool reads it, Grid endpoints without credentials, and cookie domain matching."""

from __future__ import annotations

from popool_gui.browser.cookie_transfer import PortalCookie, domain_matches
from popool_gui.browser.grid import endpoint, parse_status

STATUS = {
    "value": {
        "ready": True,
        "message": "Selenium Grid ready.",
        "nodes": [
            {
                "uri": "http://10.0.0.5:5555",
                "availability": "UP",
                "slots": [
                    {"session": None, "stereotype": {"browserName": "chrome", "se:downloadsEnabled": True}},
                    {"session": {"sessionId": "abc"}, "stereotype": {"browserName": "chrome"}},
                ],
            },
            {"uri": "http://10.0.0.6:5555", "availability": "DOWN", "slots": []},
        ],
    }
}


def test_status_gives_slots_sessions_and_the_node_of_a_session() -> None:
    status = parse_status(STATUS)
    assert status.ready and status.sessions == 1
    assert [s.downloads for s in status.nodes[0].slots] == [True, False]
    assert status.node_of("abc") == "http://10.0.0.5:5555" and status.node_of("other") == ""
    assert not status.nodes[1].available
    assert parse_status({"value": None}).nodes == () and parse_status([]).sessions == 0


def test_endpoints_drop_credentials_query_and_keep_the_hub_path() -> None:
    assert endpoint("http://ann:pw@hub:4444/wd/hub/?k=1", "/status") == "http://hub:4444/wd/hub/status"
    assert endpoint(" http://hub:4444 ", "/session/x") == "http://hub:4444/session/x"


def test_cookies_go_only_where_the_browser_would_send_them() -> None:
    assert domain_matches("acme.coupahost.com", ".coupahost.com")
    assert domain_matches("coupahost.com", ".coupahost.com")
    assert not domain_matches("evilcoupahost.com", ".coupahost.com")
    assert domain_matches("127.0.0.1", "127.0.0.1") and not domain_matches("sub.acme.com", "acme.com")
    cookie = PortalCookie.from_browser({"name": "s", "value": "secret", "domain": "Acme.com", "expires": -1})
    assert cookie.host_only and cookie.expiry is None and cookie.domain == "acme.com" and "secret" not in repr(cookie)
