"""Read models of catalog: the Bintray JSON shapes, built straight from the tables.

Key order and value types follow recorded responses of the real service, because that is what
clients were written against (``ordinal`` a float, ``released`` ``""`` when unset, ...).
"""

from catalog.queries.files import file_json, file_owner, list_files, search_files
from catalog.queries.packages import (
    document_json,
    get_attributes,
    get_document,
    get_package,
    get_version,
    linked_to_repos,
    list_packages,
    moved_package,
    package_json,
    search_packages,
    version_json,
)
from catalog.queries.repos import get_permission, get_repo, list_permissions, list_repos, repo_json, search_repos

__all__ = ["document_json", "file_json", "file_owner", "get_attributes", "get_document", "get_package",
           "get_permission", "get_repo", "get_version", "linked_to_repos", "list_files", "list_packages",
           "list_permissions", "moved_package",
           "list_repos", "package_json", "repo_json", "search_files", "search_packages", "search_repos",
           "version_json"]
