"""Names are matched whole: a trailing newline (which ``$`` lets through) is refused like any other odd character."""

from __future__ import annotations

import pytest

from catalog.use_cases import names
from packyard.errors import Invalid


@pytest.mark.parametrize("check, good", [(names.check_repo_name, "main"), (names.check_package_name, "tool"),
                                         (names.check_version_name, "1.0")])
def test_a_trailing_newline_is_not_part_of_a_valid_name(check, good):
    assert check(good) == good
    for bad in (good + "\n", good + "\r\n", "\n" + good, good + "\x00"):
        with pytest.raises(Invalid):
            check(bad)


def test_names_with_a_trailing_newline_are_refused_with_400_and_change_nothing(api, client, alice):
    refused = client.post("/repos/alice/main%0A", json={"type": "generic"}, headers=alice)
    assert refused.status_code == 400 and "Invalid repository name" in refused.json["message"]
    refused = client.post("/repos/alice/x", json={"type": "generic", "name": "main\n"}, headers=alice)
    assert refused.status_code in (400, 409)
    assert client.post("/packages/alice/main", json={"name": "tool2\n"}, headers=alice).status_code == 400
    assert client.post("/packages/alice/main/tool/versions", json={"name": "1.0\n"}, headers=alice).status_code == 400
    assert client.post("/packages/alice/main%0A", json={"name": "tool3"}, headers=alice).status_code == 404
    assert [r["name"] for r in client.get("/repos/alice", headers=alice).json] == ["main"]
    assert [p["name"] for p in client.get("/repos/alice/main/packages", headers=alice).json] == ["tool"]
    assert api.events("catalog.version.created") == []


def test_a_search_by_sha1_with_a_trailing_newline_is_refused(client):
    assert client.get("/search/file?sha1=" + "a" * 40 + "%0A").status_code == 400
