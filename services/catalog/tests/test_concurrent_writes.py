"""Concurrent writers of one row on real PostgreSQL: each gets a correct answer (success or 404), never a 500.

A write waits for a concurrent writer of the same row and then sees the row as that one left it: a
version (package, repository) deleted meanwhile answers 404 instead of failing the write with
SQLAlchemy's StaleDataError or ObjectDeletedError, a second delete answers 404 instead of
announcing the deletion twice, and changes of one row are applied one after the other, none lost.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import sqlalchemy as sa

from catalog.use_cases import metadata, packages, repos, versions
from packyard.auth import Principal
from packyard.testing import wait_for

ALICE = Principal(username="alice", user_id="uid-alice")


def _someone_waits_on_a_lock(catalog) -> bool:
    with catalog.platform.engine.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                    "AND datname = current_database()")).scalar_one() > 0


def race(catalog, first, second):
    """Run ``first(uow)`` in a transaction left open until ``second()`` (a request in another thread)
    waits for its locks, then commit it; return what ``second()`` answered."""
    answers, failures = [], []

    def call():
        try:
            answers.append(second())
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            failures.append(exc)

    with catalog.uow() as uow:
        first(uow)
        uow.session.flush()
        thread = threading.Thread(target=call)
        thread.start()
        wait_for(lambda: _someone_waits_on_a_lock(catalog) or not thread.is_alive(), timeout=10,
                 message="the concurrent request waiting for the first transaction")
        uow.commit()
    thread.join(30)
    assert not failures, failures
    [answer] = answers
    return answer


def _now():
    return datetime.now(UTC)


def _version(api, alice, name="1.0"):
    response = api.client.post("/packages/alice/main/tool/versions", headers=alice, json={"name": name})
    assert response.status_code == 201, response.json


def test_release_notes_removed_while_the_version_is_deleted_answer_404(api, client, alice, catalog):
    _version(api, alice)
    client.post("/packages/alice/main/tool/versions/1.0/release_notes", headers=alice,
                json={"bintray": {"syntax": "markdown", "content": "notes"}})
    answer = race(catalog, lambda uow: versions.delete_version(uow, ALICE, "alice", "main", "tool", "1.0"),
                  lambda: client.delete("/packages/alice/main/tool/versions/1.0/release_notes", headers=alice))
    assert answer.status_code == 404, answer.json
    assert answer.json == {"message": "Version '1.0' was not found"}


def test_a_version_changed_while_it_is_deleted_answers_404(api, client, alice, catalog):
    _version(api, alice)
    answer = race(catalog, lambda uow: versions.delete_version(uow, ALICE, "alice", "main", "tool", "1.0"),
                  lambda: client.patch("/packages/alice/main/tool/versions/1.0", headers=alice,
                                       json={"desc": "too late"}))
    assert answer.status_code == 404, answer.json
    assert client.get("/packages/alice/main/tool/versions/1.0").status_code == 404


def test_attributes_set_while_the_version_is_deleted_answer_404(api, client, alice, catalog):
    _version(api, alice)
    answer = race(catalog, lambda uow: versions.delete_version(uow, ALICE, "alice", "main", "tool", "1.0"),
                  lambda: client.patch("/packages/alice/main/tool/versions/1.0/attributes", headers=alice,
                                       json=[{"name": "a", "values": ["x"]}]))
    assert answer.status_code == 404, answer.json


def test_two_deletes_of_one_version_delete_it_once(api, client, alice, catalog):
    _version(api, alice)
    answer = race(catalog, lambda uow: versions.delete_version(uow, ALICE, "alice", "main", "tool", "1.0"),
                  lambda: client.delete("/packages/alice/main/tool/versions/1.0", headers=alice))
    assert answer.status_code == 404, answer.json
    assert len(api.events("catalog.version.deleted")) == 1


def test_attributes_changed_at_the_same_time_are_all_kept(api, client, alice, catalog):
    _version(api, alice)

    def first(uow):
        metadata.set_attributes(uow, ALICE, "alice", "main", "tool", "1.0", [{"name": "a", "values": ["x"]}],
                                replace=False, now=_now())

    answer = race(catalog, first, lambda: client.patch("/packages/alice/main/tool/versions/1.0/attributes",
                                                       headers=alice, json=[{"name": "b", "values": ["y"]}]))
    assert answer.status_code == 200, answer.json
    assert [a["name"] for a in answer.json] == ["a", "b"]
    stored = client.get("/packages/alice/main/tool/versions/1.0/attributes").json
    assert [a["name"] for a in stored] == ["a", "b"]


def test_a_package_changed_while_it_is_deleted_answers_404(api, client, alice, catalog):
    answer = race(catalog, lambda uow: packages.delete_package(uow, ALICE, "alice", "main", "tool"),
                  lambda: client.patch("/packages/alice/main/tool", headers=alice, json={"desc": "too late"}))
    assert answer.status_code == 404, answer.json


def test_a_package_readme_set_while_the_package_is_deleted_answers_404(api, client, alice, catalog):
    answer = race(catalog, lambda uow: packages.delete_package(uow, ALICE, "alice", "main", "tool"),
                  lambda: client.post("/packages/alice/main/tool/readme", headers=alice,
                                      json={"bintray": {"syntax": "markdown", "content": "hello"}}))
    assert answer.status_code == 404, answer.json


def test_two_deletes_of_one_package_delete_it_once(api, client, alice, catalog):
    answer = race(catalog, lambda uow: packages.delete_package(uow, ALICE, "alice", "main", "tool"),
                  lambda: client.delete("/packages/alice/main/tool", headers=alice))
    assert answer.status_code == 404, answer.json
    assert len(api.events("catalog.package.deleted")) == 1


def test_a_repository_changed_while_it_is_deleted_answers_404(api, client, alice, catalog):
    answer = race(catalog, lambda uow: repos.delete_repo(uow, ALICE, "alice", "main"),
                  lambda: client.patch("/repos/alice/main", headers=alice, json={"desc": "too late"}))
    assert answer.status_code == 404, answer.json


def test_two_deletes_of_one_repository_delete_it_once(api, client, alice, catalog):
    answer = race(catalog, lambda uow: repos.delete_repo(uow, ALICE, "alice", "main"),
                  lambda: client.delete("/repos/alice/main", headers=alice))
    assert answer.status_code == 404, answer.json
    assert len(api.events("catalog.repo.deleted")) == 1


def test_two_deletes_of_one_file_delete_it_once(api, client, alice, catalog):
    from catalog.use_cases import content

    assert api.upload("alice", "main", "tool", "1.0", "a.jar", b"a", alice, publish=True).status_code == 201
    answer = race(catalog, lambda uow: content.delete_content(uow, ALICE, "alice", "main", "a.jar"),
                  lambda: client.delete("/content/alice/main/a.jar", headers=alice))
    assert answer.status_code == 404, answer.json
    assert len(api.events("catalog.file.deleted")) == 1
