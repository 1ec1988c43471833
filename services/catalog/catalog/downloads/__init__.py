"""Downloads, in one place.

* :mod:`catalog.downloads.paths` — what a ``/dl/`` path is and who may fetch it (catalog's own
  ``/dl/`` handler, the gateway's cached public-file decision, the log ingester's file lookup);
* :mod:`catalog.downloads.counter` — counting in the API process when it serves files itself
  (``DOWNLOAD_MODE=sendfile``), flushed in batches, and the counters both ways of counting add to;
* :mod:`catalog.downloads.log` — counting from the gateway's download log (``DOWNLOAD_MODE=accel``),
  in the worker, with the log offsets committed with the counts.

The HTTP side is :mod:`catalog.api.downloads`; the statistics read from the counters are
:mod:`catalog.queries.stats`.
"""

from catalog.downloads.counter import DOWNLOADS, DownloadCounter, add_counts, country_of
from catalog.downloads.log import DownloadLogIngester

__all__ = ["DOWNLOADS", "DownloadCounter", "DownloadLogIngester", "add_counts", "country_of"]
