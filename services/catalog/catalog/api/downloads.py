"""Downloads: ``GET /dl/:subject/:repo/:file_path``, and the gateway's question about public files.

Catalog decides who may download what and never pushes the bytes through Python. In ``accel``
mode (behind the gateway):

* unconditional downloads (anonymous ones, and those with credentials once identity has
  authenticated them) first ask ``/internal/downloads/decision``; when the path is a public file
  the gateway serves the blob itself and caches the answer for ``DOWNLOAD_DECISION_TTL`` seconds,
  so the hottest files cost catalog no Python request at all;
* everything else reaches ``/dl/`` here, which answers with no body and ``X-Accel-Redirect`` into
  the blob store (nginx then serves it, with Range support), or 401/404, or a redirect;
* the gateway logs every download it served and the worker counts them from that log
  (:mod:`catalog.downloads.log`), so this view counts nothing.

In ``sendfile`` mode (no gateway) this view hands the file to the WSGI server's file wrapper (the
kernel's sendfile under gunicorn) and counts the download in memory (:mod:`catalog.downloads.counter`).
"""

from __future__ import annotations

import mimetypes
import unicodedata
from typing import Any
from urllib.parse import quote

import flask
from flask.views import MethodView
from flask_smorest import Blueprint
from werkzeug.http import dump_options_header, http_date

from catalog.api import catalog
from catalog.downloads import DOWNLOADS, country_of
from catalog.downloads.paths import Download, Moved, public_download, resolve_download
from catalog.storage import blob_key
from packyard.errors import NotFound
from packyard.web import ErrorSchema, current_principal

blp = Blueprint("downloads", __name__, description="Downloads")

# Names the gateway can put in a quoted Content-Disposition filename as they are.
_PLAIN_NAME = frozenset(chr(c) for c in range(0x20, 0x7F)) - {'"', "\\"}


def _content_type(name: str) -> str:
    return mimetypes.guess_type(name, strict=False)[0] or "application/octet-stream"


def _disposition(name: str) -> str:
    try:
        name.encode("ascii")
    except UnicodeEncodeError:
        simple = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
        return dump_options_header("attachment", {"filename": simple,
                                                  "filename*": f"UTF-8''{quote(name, safe='!#$&+^`|~')}"})
    return dump_options_header("attachment", {"filename": name})


def _checksums(response: flask.Response, download: Download) -> flask.Response:
    response.headers["X-Checksum-Sha1"] = download.sha1
    response.headers["X-Checksum-Sha2"] = download.sha256
    return response


def _is_a_download(download: Download) -> bool:
    """A GET fetching the whole file: not a revalidation, not a piece of a resumed or split transfer (a range
    counts only when it is one range covering every byte, so that many small ranges cannot inflate the count)."""
    request = flask.request
    if request.method != "GET":
        return False
    if request.if_none_match and request.if_none_match.contains(download.sha256):
        return False
    ranges = request.range
    if ranges is None or not ranges.ranges:
        return True
    if len(ranges.ranges) != 1:
        return False
    start, stop = ranges.ranges[0]  # stop is exclusive, None for "to the end"
    return start == 0 and (stop is None or stop >= download.size)


ERROR_BODY = {"content": {"application/json": {"schema": ErrorSchema}}}


@blp.route("/dl/<subject>/<repo>/<path:file_path>")
class DownloadFile(MethodView):
    @blp.doc(responses={"200": {"description": "the file (Range and conditional requests supported)"},
                        "206": {"description": "the part of the file a Range asked for"},
                        "301": {"description": "the package moved: its file is at Location now"},
                        "304": {"description": "not modified: the file still has the ETag (or date) the request sent"},
                        "401": {"description": "credentials needed", **ERROR_BODY},
                        "404": {"description": "not found", **ERROR_BODY}})
    def get(self, subject: str, repo: str, file_path: str) -> Any:
        """Download a file (anonymous for published files of public repositories, and of packages linked into them)."""
        cat = catalog()
        with cat.read_connection() as conn:
            download = resolve_download(conn, current_principal(), subject, repo, file_path)
        if isinstance(download, Moved):
            query = flask.request.query_string.decode("latin-1")
            return flask.redirect(download.location + (f"?{query}" if query else ""), code=301)
        settings = cat.settings
        if settings.download_mode == "sendfile":
            path = cat.storage.local_path(download.sha256)
            if not path.is_file():
                flask.current_app.logger.error("blob %s of %s/%s/%s is missing", download.sha256, subject, repo,
                                               file_path)
                raise NotFound(f"File '{file_path}' was not found")
            response = flask.send_file(path, mimetype=_content_type(download.name), as_attachment=True,
                                       download_name=download.name, etag=download.sha256,
                                       last_modified=download.created, conditional=True, max_age=0)
            if response.status_code in (200, 206) and _is_a_download(download):
                cat.downloads.count(download.file_id, download.version_id, download.package_id,
                                    country_of(flask.request.headers.get(settings.country_header)))
                DOWNLOADS.labels(settings.download_mode).inc()
            return _checksums(response, download)
        # The gateway sends the blob and logs the download, which the worker counts.
        response = flask.Response(status=200, content_type=_content_type(download.name))
        response.headers["X-Accel-Redirect"] = f"{settings.accel_prefix.rstrip('/')}/{blob_key(download.sha256)}"
        response.headers["Content-Disposition"] = _disposition(download.name)
        response.headers["ETag"] = f'"{download.sha256}"'
        response.headers["Last-Modified"] = http_date(download.created)
        DOWNLOADS.labels(settings.download_mode).inc()
        return _checksums(response, download)


@blp.route("/internal/downloads/decision")
class DownloadDecision(MethodView):
    @blp.doc(parameters=[{"name": "X-Original-URI", "in": "header", "required": True, "schema": {"type": "string"},
                          "description": "the /dl/ request URI as the client sent it"}],
             responses={"200": {"description": "a public file: the gateway may send the blob named by X-Packyard-Blob"},
                        "403": {"description": "not a public download: let catalog's own /dl/ handler answer"}})
    def get(self) -> Any:
        """The gateway's question for an unconditional download: may it serve the file itself (a public file)?

        Never routed publicly. Both answers carry ``X-Accel-Expires``: how long the gateway may reuse them.
        """
        cat = catalog()
        with cat.read_connection() as conn:
            found = public_download(conn, flask.request.headers.get("X-Original-URI", ""))
        ttl = str(cat.settings.download_decision_ttl)
        if found is None or not set(found.name) <= _PLAIN_NAME:
            return flask.Response(status=403, headers={"X-Accel-Expires": ttl})
        return flask.Response(status=200, headers={
            "X-Packyard-Blob": blob_key(found.sha256), "X-Checksum-Sha1": found.sha1, "X-Checksum-Sha2": found.sha256,
            "X-Packyard-Filename": found.name, "X-Accel-Expires": ttl})
