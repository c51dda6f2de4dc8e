//! PostgreSQL row-level security for migrations.
//!
//! Tables are owned by the migration role; services run as [`RUNTIME_ROLE`], a role
//! without SUPERUSER or BYPASSRLS that holds DML grants only. Every tenant table gets
//! `ENABLE` + `FORCE ROW LEVEL SECURITY` and one policy comparing `tenant_id` with the
//! transaction-local `app.tenant_id`; an unset setting compares with NULL, so a session
//! that forgot to set its tenant sees and writes nothing.
//!
//! Second-level scopes (partner and customer-portal users) are restrictive policies on
//! top: they narrow what a tenant user sees when `app.channel_partner_id` or
//! `app.customer_account_id` is set and leave everyone else untouched.

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

/// Restrictive policy limiting partner users to their channel partner's rows.
pub const PARTNER_POLICY: &str = "partner_scope";

/// Restrictive policy limiting customer-portal users to their own account's rows.
pub const CUSTOMER_POLICY: &str = "customer_scope";

/// Restrictive policy limiting scoped users to rows whose parent row they can see.
pub const PARENT_POLICY: &str = "parent_scope";

/// The transaction-local partner scope; empty or unset means "not a partner user".
const PARTNER_SETTING: &str = "NULLIF(current_setting('app.channel_partner_id', true), '')";

/// The transaction-local customer scope; empty or unset means "not a customer user".
const CUSTOMER_SETTING: &str = "NULLIF(current_setting('app.customer_account_id', true), '')";

/// How the rows of a tenant table belong to a channel partner and a customer account, for
/// the second-level scopes (docs/domain.md#second-level-scopes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecondLevelScope<'a> {
    /// The table stores the partner and/or the customer itself. A missing column fails
    /// closed: users holding that scope see none of the table's rows.
    Columns { partner: Option<&'a str>, customer: Option<&'a str> },
    /// Rows belong to a parent row of the same database (`column` = `parent_table.id`,
    /// same tenant): a scoped user sees a row only when it sees the parent, so the parent
    /// table's own policies decide and nothing is copied.
    Parent { column: &'a str, parent_table: &'a str },
}

/// `(policy name, predicate)` of the restrictive policies `scope` puts on `table`. Each
/// predicate is true when its setting is unset, so ordinary tenant users are unaffected.
pub fn second_level_policies(table: &str, scope: SecondLevelScope<'_>) -> Vec<(&'static str, String)> {
    let column_rule = |setting: &str, column: Option<&str>| match column {
        Some(column) => format!("{setting} IS NULL OR \"{column}\" = {setting}::uuid"),
        None => format!("{setting} IS NULL"),
    };
    match scope {
        SecondLevelScope::Columns { partner, customer } => vec![
            (PARTNER_POLICY, column_rule(PARTNER_SETTING, partner)),
            (CUSTOMER_POLICY, column_rule(CUSTOMER_SETTING, customer)),
        ],
        SecondLevelScope::Parent { column, parent_table } => vec![(
            PARENT_POLICY,
            format!(
                "({PARTNER_SETTING} IS NULL AND {CUSTOMER_SETTING} IS NULL) OR EXISTS (\
                 SELECT 1 FROM \"{parent_table}\" parent \
                 WHERE parent.tenant_id = \"{table}\".tenant_id AND parent.id = \"{table}\".\"{column}\")"
            ),
        )],
    }
}

/// Adds the restrictive second-level policies of `scope` to `table` (no-op on SQLite).
/// Restrictive policies are AND-ed with [`TENANT_POLICY`], so they can only narrow what a
/// tenant sees; they apply to reads and writes alike.
pub async fn enable_second_level_scopes(
    manager: &SchemaManager<'_>,
    table: &str,
    scope: SecondLevelScope<'_>,
) -> Result<(), DbErr> {
    if manager.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(());
    }
    let connection = manager.get_connection();
    for (policy, predicate) in second_level_policies(table, scope) {
        connection.execute_unprepared(&format!("DROP POLICY IF EXISTS {policy} ON \"{table}\"")).await?;
        connection
            .execute_unprepared(&format!(
                "CREATE POLICY {policy} ON \"{table}\" AS RESTRICTIVE FOR ALL \
                 USING ({predicate}) WITH CHECK ({predicate})"
            ))
            .await?;
    }
    Ok(())
}

/// Drops the policies [`enable_second_level_scopes`] created (no-op on SQLite).
pub async fn disable_second_level_scopes(
    manager: &SchemaManager<'_>,
    table: &str,
    scope: SecondLevelScope<'_>,
) -> Result<(), DbErr> {
    if manager.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(());
    }
    for (policy, _) in second_level_policies(table, scope) {
        manager.get_connection().execute_unprepared(&format!("DROP POLICY IF EXISTS {policy} ON \"{table}\"")).await?;
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
    fn column_scopes_restrict_only_when_their_setting_is_present() {
        let policies = second_level_policies(
            "invoices",
            SecondLevelScope::Columns { partner: Some("channel_partner_id"), customer: Some("customer_account_id") },
        );
        assert_eq!(policies.len(), 2);
        assert_eq!(policies[0].0, PARTNER_POLICY);
        assert!(policies[0].1.starts_with(&format!("{PARTNER_SETTING} IS NULL OR")));
        assert!(policies[0].1.ends_with(&format!("\"channel_partner_id\" = {PARTNER_SETTING}::uuid")));
        assert_eq!(policies[1].0, CUSTOMER_POLICY);
        assert!(policies[1].1.ends_with(&format!("\"customer_account_id\" = {CUSTOMER_SETTING}::uuid")));
    }

    #[test]
    fn a_missing_scope_column_hides_every_row_from_users_holding_that_scope() {
        let policies = second_level_policies("notes", SecondLevelScope::Columns { partner: None, customer: None });
        assert_eq!(policies[0].1, format!("{PARTNER_SETTING} IS NULL"));
        assert_eq!(policies[1].1, format!("{CUSTOMER_SETTING} IS NULL"));
    }

    #[test]
    fn a_parent_scope_defers_to_the_parent_row_of_the_same_tenant() {
        let policies = second_level_policies(
            "milestones",
            SecondLevelScope::Parent { column: "engagement_id", parent_table: "engagements" },
        );
        assert_eq!(policies.len(), 1);
        assert_eq!(policies[0].0, PARENT_POLICY);
        assert!(policies[0].1.contains(
            "FROM \"engagements\" parent WHERE parent.tenant_id = \"milestones\".tenant_id \
             AND parent.id = \"milestones\".\"engagement_id\""
        ));
    }

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
