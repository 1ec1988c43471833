#!/bin/sh
# Runs from the nginx image's /docker-entrypoint.d at every start: identity's answers about credentials
# kept by the previous run are dropped (a revocation may have happened while this gateway could not be
# told), and the socket of the authentication listener is removed so that nginx can bind it again.
set -eu
state="${GATEWAY_STATE_DIR:-/tmp}"
rm -rf "$state/authn" "$state/authn-epoch"
rm -f "$state/authn.sock"
