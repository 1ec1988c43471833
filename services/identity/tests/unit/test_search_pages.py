"""Identity's user search pages the way every Packyard list does (packyard.paging)."""

from packyard.paging import Page


def test_an_empty_search_page_carries_the_same_range_headers_as_every_other_list(client):
    response = client.get("/search/users?name=nobody")
    assert response.status_code == 200 and response.json == []
    assert {k: v for k, v in response.headers.items() if k.startswith("X-RangeLimit")} == Page([], 0, 0).headers()
    assert response.headers["X-RangeLimit-EndPos"] == "-1"


def test_a_search_page_past_the_end_is_empty_and_says_where_it_starts(api, client):
    api.signup("alice")
    response = client.get("/search/users?name=alice&start_pos=5")
    assert response.json == []
    assert (response.headers["X-RangeLimit-Total"], response.headers["X-RangeLimit-StartPos"],
            response.headers["X-RangeLimit-EndPos"]) == ("1", "5", "4")
