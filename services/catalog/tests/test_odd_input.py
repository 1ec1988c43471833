"""No endpoint answers 500: odd path values, bodies and query strings all get a 4xx (or a normal answer)."""

from __future__ import annotations

import itertools
import re

ODD_VALUES = ["x", "..", "a b", "%25", "ü", "x" * 300, "_latest", "-SNAPSHOT", "4294967297"]  # last: beyond int4 ids
ODD_BODIES = [None, {}, [], "text", 5, {"name": 5}, {"name": None}, {"name": ["x"]}, {"labels": [None]},
              {"licenses": [5]}, [{"name": "a", "values": [[1]]}], {"bintray": "x"}, {"team": 1, "permission": {}},
              {"released": "yesterday"}, {"discard": "x"}, {"desc": "x" * 10000}, {"name": "a", "desc": "\u0000"},
              {"target": "a/b/c", "reason": 5}, {"url": "ftp://%r/%p", "method": "delete"},
              {"from": "tomorrow", "to": 5}, {"decision": "maybe", "path_prefix": "../up"}]
PLAUSIBLE = {"repo": "main", "package": "tool", "version": "1.0", "file_path": "dir/a.jar",
             "rest": "tool/1.0/b.jar", "team": "devs", "source_subject": "alice", "source_repo": "main",
             "source_package": "tool", "request_id": "1", "claim_id": "1"}
ODD_QUERIES = ["", "?start_pos=-5", "?start_pos=abc", "?start_pos=99999999999", "?name=*", "?name=%25_",
               "?sha1=zz", "?created_after=never", "?attribute_values=2", "?include_unpublished=x", "?names=,,",
               "?publish=7", "?start_name=%25", "?status=lost", "?days=0", "?limit=1000", "?days=x"]


def test_no_endpoint_answers_500_to_odd_input(app, api, client, alice):
    api.upload("alice", "main", "tool", "1.0", "dir/a.jar", b"a", alice, publish=True)
    rules = [r for r in app.url_map.iter_rules() if not re.match(r"^/(livez|readyz|metrics|static|openapi)", r.rule)]
    failures = []
    odd_inputs = itertools.cycle(zip(ODD_BODIES, itertools.cycle(ODD_QUERIES)))
    # deletes last, so that everything else meets existing repositories, packages and versions
    calls = sorted(((rule, method) for rule in rules for method in rule.methods - {"HEAD", "OPTIONS"}),
                   key=lambda call: call[1] == "DELETE")
    for rule, method in calls:
        names = re.findall(r"<(?:[^:>]+:)?(\w+)>", rule.rule)
        for headers in ({}, alice):
            # every odd value once, then every odd body and query on a plausible path
            cases = [(value, *next(odd_inputs)) for value in ODD_VALUES]
            cases += [(None, body, query) for body, query in zip(ODD_BODIES, itertools.cycle(ODD_QUERIES))]
            for value, body, query in cases:
                path = rule.rule
                for name in names:
                    part = "alice" if name == "subject" else value if value is not None else PLAUSIBLE[name]
                    path = re.sub(r"<(?:[^:>]+:)?" + name + ">", part, path)
                response = client.open(path + query, method=method, json=body, headers=headers)
                if response.status_code >= 500:
                    failures.append((method, path + query, body, response.status_code))
    assert failures == []
