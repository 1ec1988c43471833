#!/bin/sh
# Runs from the nginx image's /docker-entrypoint.d before the template is rendered: writes the
# `set_real_ip_from` lines of WEB_TRUSTED_ADDRESSES (addresses, CIDRs or host names of the web app,
# separated by spaces or commas) to WEB_TRUSTED_FILE, which the gateway's configuration includes.
# Only from these addresses is X-Forwarded-For believed; with none set, from nobody.
set -eu
out="${WEB_TRUSTED_FILE:-/tmp/packyard-web-trusted.conf}"
echo "# The web app's addresses (WEB_TRUSTED_ADDRESSES): their X-Forwarded-For is believed." > "$out"
for address in $(echo "${WEB_TRUSTED_ADDRESSES:-}" | tr ',' ' '); do
    echo "set_real_ip_from $address;" >> "$out"
done
