#!/bin/sh
# First start of the compose PostgreSQL: one role and one database per Packyard service.
#
# Each service logs in as its own role, which owns its database and nothing else; other roles
# may not even connect to it, so no service can read another service's data (DESIGN §1).
# PACKYARD_SERVICES and PACKYARD_DB_PASSWORD come from docker-compose.yml (dev values).
set -eu

: "${PACKYARD_SERVICES:?list of service names}"
: "${PACKYARD_DB_PASSWORD:?password of the service roles}"

for service in $PACKYARD_SERVICES; do
    echo "packyard: creating role and database $service"
    psql --no-psqlrc --set=ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
         --set=service="$service" --set=password="$PACKYARD_DB_PASSWORD" <<'SQL'
CREATE ROLE :"service" LOGIN PASSWORD :'password';
CREATE DATABASE :"service" OWNER :"service";
REVOKE ALL ON DATABASE :"service" FROM PUBLIC;
SQL
done
