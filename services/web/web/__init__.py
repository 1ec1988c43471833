"""Packyard's web pages: server-rendered with Flask and Jinja, a client of the public API.

The app owns no data. Every page calls the gateway with the visitor's own credentials (the
bearer token of their login, kept in an encrypted cookie), so it has no path to any service
that another API client does not have.
"""
