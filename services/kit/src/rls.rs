//! PostgreSQL row-level security for migrations.
//!
//! Tables are owned by the migration role; services run as [`RUNTIME_ROLE`], a role
//! without SUPERUSER or BYPASSRLS that holds DML grants only. Every tenant table gets
//! `ENABLE` + `FORCE ROW LEVEL SECURITY` and one policy comparing `tenant_id` with the
//! transaction-local `app.tenant_id`; an unset setting compares with NULL, so a session
//! that forgot to set its tenant sees and writes nothing.

use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr};
use sea_orm_migration::SchemaManager;

/// The login role services use at runtime on PostgreSQL.
pub const RUNTIME_ROLE: &str = "atrium_app";

/// Policy name shared by every tenant table; the RLS coverage test looks for it.
pub const TENANT_POLICY: &str = "tenant_isolation";

/// Enables forced RLS with the tenant policy on `table` (no-op on SQLite).
pub async fn enable_tenant_isolation(manager: &SchemaManager<'_>, table: &str) -> Result<(), DbErr> {
    if manager.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(());
    }
    let connection = manager.get_connection();
    for statement in [
        format!("ALTER TABLE \"{table}\" ENABLE ROW LEVEL SECURITY"),
        format!("ALTER TABLE \"{table}\" FORCE ROW LEVEL SECURITY"),
        format!("DROP POLICY IF EXISTS {TENANT_POLICY} ON \"{table}\""),
        format!(
            "CREATE POLICY {TENANT_POLICY} ON \"{table}\" \
             USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid) \
             WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)"
        ),
    ] {
        connection.execute_unprepared(&statement).await?;
    }
    Ok(())
}

/// Creates the runtime role when missing and grants it DML on every table (no-op on
/// SQLite). Run it in the first migration: default privileges cover later tables.
pub async fn grant_runtime_role(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    if manager.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(());
    }
    let connection = manager.get_connection();
    // Roles are cluster-wide and services migrate concurrently in tests, so a concurrent
    // creator winning the race is fine.
    connection
        .execute_unprepared(&format!(
            "DO $$ BEGIN \
               IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{RUNTIME_ROLE}') THEN \
                 CREATE ROLE {RUNTIME_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE; \
               END IF; \
             EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; \
             END $$"
        ))
        .await?;
    for statement in [
        format!("GRANT USAGE ON SCHEMA public TO {RUNTIME_ROLE}"),
        format!("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {RUNTIME_ROLE}"),
        // Tables added by later migrations get the same grants without another step.
        format!(
            "ALTER DEFAULT PRIVILEGES IN SCHEMA public \
             GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {RUNTIME_ROLE}"
        ),
        format!("REVOKE ALL ON seaql_migrations FROM {RUNTIME_ROLE}"),
        format!("GRANT SELECT ON seaql_migrations TO {RUNTIME_ROLE}"),
    ] {
        connection.execute_unprepared(&statement).await?;
    }
    Ok(())
}

/// Rewrites a PostgreSQL owner URL into the runtime role's URL (same host and database).
pub fn runtime_url(owner_url: &str) -> Option<String> {
    let (scheme, rest) = owner_url.split_once("://")?;
    let host_part = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    Some(format!("{scheme}://{RUNTIME_ROLE}@{host_part}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_url_replaces_the_credentials_and_keeps_host_and_database() {
        assert_eq!(
            runtime_url("postgres://postgres:pw@127.0.0.1:5432/finance").as_deref(),
            Some("postgres://atrium_app@127.0.0.1:5432/finance")
        );
        assert_eq!(
            runtime_url("postgres://127.0.0.1/catalog").as_deref(),
            Some("postgres://atrium_app@127.0.0.1/catalog")
        );
    }
}
