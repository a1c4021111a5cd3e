#!/bin/sh
# One role and one database per congdoan service, each role owning only its own database.
# Run once by the official postgres image on an empty data folder (/docker-entrypoint-initdb.d/);
# by hand elsewhere:  CONGDOAN_SECRETS=… PGHOST=… PGUSER=postgres sh init-databases.sh
# Passwords come from files: $CONGDOAN_SECRETS/postgres_<service>_password (default /run/secrets).
set -eu
secrets="${CONGDOAN_SECRETS:-/run/secrets}"
services="${CONGDOAN_SERVICES:-plans reports notify awards}"
for svc in $services; do
  password="$(cat "$secrets/postgres_${svc}_password")"
  psql -v ON_ERROR_STOP=1 --no-psqlrc --username "${POSTGRES_USER:-${PGUSER:-postgres}}" --dbname postgres \
       -v svc="$svc" -v password="$password" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'svc', :'password')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'svc') \gexec
SELECT format('ALTER ROLE %I LOGIN PASSWORD %L', :'svc', :'password') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'svc', :'svc')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'svc') \gexec
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'svc') \gexec
SQL
done
