#!/usr/bin/env python3
"""Write the configuration reference (every service's environment variables) into README.md.

    python deploy/config_reference.py           # rewrite the section between the config markers
    python deploy/config_reference.py --check   # exit 1 when README.md is out of date

The tables come from each service's ``Settings`` dataclass, so the README lists exactly the
variables the code reads, with their defaults and whether a process refuses to start without them.
"""

from __future__ import annotations

import dataclasses
import importlib
import sys

from readme_section import main

# web reads only LOG_LEVEL of the common settings
SERVICES = ("identity", "social", "catalog", "notifier", "signing", "web")
BEGIN, END = "<!-- config:begin -->", "<!-- config:end -->"


def _rows(settings_cls: type) -> list[tuple[str, str, str, str]]:
    rows = []
    for field in dataclasses.fields(settings_cls):
        var = field.metadata.get("packyard_env")
        if var is None:
            continue
        if var.default is dataclasses.MISSING:
            default = "**required**"
        elif var.default is None or var.default == "":
            default = "*(unset)*"
        elif isinstance(var.default, tuple):
            default = f"`{','.join(var.default)}`" if var.default else "*(empty)*"
        else:
            default = f"`{var.default}`"
        rows.append((var.name, default, "secret" if var.secret else "", var.help.replace("|", "\\|")))
    return rows


def render() -> str:
    from packyard.service import BaseSettings

    common = {r[0] for r in _rows(BaseSettings)}
    out = ["Common to every service (`packyard.service.BaseSettings`):", "",
           "| variable | default | | meaning |", "|---|---|---|---|"]
    out += [f"| `{n}` | {d} | {s} | {h} |" for n, d, s, h in _rows(BaseSettings)]
    for svc in SERVICES:
        settings_cls = importlib.import_module(f"{svc}.config").Settings
        own = [r for r in _rows(settings_cls) if r[0] not in common]
        out += ["", f"**{svc}**:", ""]
        if not own:
            out.append("(nothing beyond the common settings)")
            continue
        out += ["| variable | default | | meaning |", "|---|---|---|---|"]
        out += [f"| `{n}` | {d} | {s} | {h} |" for n, d, s, h in own]
    out += ["", "`make run` derives every value for a local run (ports, SQLite URLs, generated secrets in "
                "`var/secrets.env`); `deploy/local/launcher.py` shows how."]
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main(render, begin=BEGIN, end=END, what="configuration reference", script="deploy/config_reference.py",
                  description=__doc__.splitlines()[0]))
