import sqlalchemy as sa
from sqlalchemy.orm import Session

from packyard.paging import PageArgs, page_of


def test_a_page_carries_bintray_range_headers(sqlite_engine, lib):
    with sqlite_engine.begin() as conn:
        conn.execute(lib.effects.insert(), [{"event_id": f"e{i}", "note": f"n{i:03d}"} for i in range(120)])
    with Session(sqlite_engine) as session:
        query = sa.select(lib.effects.c.note).order_by(lib.effects.c.note)
        first, last = page_of(session, query, 0), page_of(session, query, 100)
    assert len(first.items) == 50 and first.items[0] == "n000"
    assert first.headers() == {"X-RangeLimit-Total": "120", "X-RangeLimit-StartPos": "0", "X-RangeLimit-EndPos": "49"}
    assert last.items[-1] == "n119" and last.headers()["X-RangeLimit-EndPos"] == "119"
    items, status, headers = last.response()
    assert status == 200 and len(items) == 20 and headers == last.headers()


def test_start_pos_must_be_a_non_negative_integer():
    assert PageArgs().load({}) == {"start_pos": 0}
    assert PageArgs().validate({"start_pos": "-1"}) and PageArgs().validate({"start_pos": "x"})
