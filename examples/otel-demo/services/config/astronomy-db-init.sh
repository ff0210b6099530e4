# Sourced by the postgres image's entrypoint on the first start (empty data directory).
# Roles, database and schemas for the astronomy shop; passwords are read from the mounted
# secret, never written here. The catalog's rows are loaded by the team's data migration.
secrets=/var/run/secrets/astronomy-db
# docker_process_sql: the entrypoint's psql against its temporary, socket-only server.
docker_process_sql --dbname postgres \
  -v app_password="$(cat "$secrets/astronomy-password")" \
  -v monitoring_password="$(cat "$secrets/monitoring-password")" <<'SQL'
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
CREATE USER astronomy_user WITH PASSWORD :'app_password';
CREATE DATABASE astronomy_db OWNER astronomy_user;
CREATE USER monitoring_user WITH PASSWORD :'monitoring_password';
GRANT pg_monitor TO monitoring_user;
\connect astronomy_db
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
CREATE SCHEMA accounting AUTHORIZATION astronomy_user;
CREATE SCHEMA catalog AUTHORIZATION astronomy_user;
SQL
