"""Downloads: ``GET /dl/:subject/:repo/:file_path``.

Catalog decides (who may download what, and counts it) and never pushes the bytes through Python:
in ``accel`` mode it answers with no body and ``X-Accel-Redirect`` into the blob store, which the
gateway (nginx) serves with sendfile and Range support; in ``sendfile`` mode (no gateway) it hands
the file to the WSGI server's file wrapper (the kernel's sendfile under gunicorn). What an
anonymous download resolved to is remembered for two seconds (see
:class:`catalog.downloads.AnonymousDecisions`), so the hottest files cost no query at all.
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
from catalog.storage import blob_key
from catalog.use_cases.content import Download, resolve_download
from packyard.errors import NotFound
from packyard.web import current_principal

blp = Blueprint("downloads", __name__, description="Downloads")


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
    """A GET fetching the file from its start, not a revalidation or the rest of a resumed transfer."""
    request = flask.request
    if request.method != "GET":
        return False
    if request.if_none_match and request.if_none_match.contains(download.sha256):
        return False
    ranges = request.range
    return ranges is None or not ranges.ranges or ranges.ranges[0][0] == 0


@blp.route("/dl/<subject>/<repo>/<path:file_path>")
class DownloadFile(MethodView):
    @blp.doc(responses={"200": {"description": "the file (Range and conditional requests supported)"},
                        "401": {"description": "credentials needed"}, "404": {"description": "not found"}})
    def get(self, subject: str, repo: str, file_path: str) -> Any:
        """Download a file (anonymous for published files of public repositories)."""
        cat = catalog()
        caller = current_principal()
        key = (subject, repo, file_path)
        download = cat.anonymous_downloads.get(key) if caller is None else None
        if download is None:
            with cat.read_connection() as conn:
                download = resolve_download(conn, caller, subject, repo, file_path)
            if caller is None:
                cat.anonymous_downloads.put(key, download)
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
            counted = response.status_code in (200, 206) and _is_a_download(download)
        else:
            response = flask.Response(status=200, content_type=_content_type(download.name))
            response.headers["X-Accel-Redirect"] = f"{settings.accel_prefix.rstrip('/')}/{blob_key(download.sha256)}"
            response.headers["Content-Disposition"] = _disposition(download.name)
            response.headers["ETag"] = f'"{download.sha256}"'
            response.headers["Last-Modified"] = http_date(download.created)
            counted = _is_a_download(download)
        if counted:
            cat.downloads.count(download.file_id, download.version_id, download.package_id,
                                country_of(flask.request.headers.get(settings.country_header)))
            DOWNLOADS.labels(settings.download_mode).inc()
        return _checksums(response, download)
