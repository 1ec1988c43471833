"""The pages, by area."""

from web.views import auth, catalog, inbox, people, settings

BLUEPRINTS = [auth.blp, people.blp, settings.blp, catalog.blp, inbox.blp]
