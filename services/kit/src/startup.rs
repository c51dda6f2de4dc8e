//! The startup steps every service shares: migrate with the owner role, connect the
//! runtime pool and refuse a runtime role that row-level security would not bind, bind a
//! listener (port 0 in tests) and serve until Ctrl-C/SIGTERM.

use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, Statement};
use sea_orm_migration::MigratorTrait;

pub use atrium_contract::server::{BindError, BoundServer, shutdown_signal};

use crate::db::{self, StatementObserver};

/// A configuration the service refuses to start with.
#[derive(Debug, thiserror::Error)]
pub enum ServiceConfigError {
    #[error("the production profile needs explicit context_keys (the development key is for the dev profile only)")]
    MissingContextKeys,
    #[error("the production profile refuses the development tenant-context key (context key `{key_id}`)")]
    DevelopmentContextKey { key_id: String },
    #[error(
        "the production profile on PostgreSQL needs a migration_database_url naming the owner role, \
         separate from database_url's runtime role"
    )]
    MissingMigrationRole,
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] ServiceConfigError),
    #[error("database: {0}")]
    Database(#[from] DbErr),
    #[error("refusing to run as database role `{role}`: {reason}")]
    UnsafeRuntimeRole { role: String, reason: String },
    #[error("seeding the demo tenants: {0}")]
    Seed(String),
    #[error("{0}")]
    Io(String),
    #[error(transparent)]
    Bind(#[from] BindError),
    #[error(transparent)]
    Telemetry(#[from] crate::telemetry::TelemetryError),
    #[error(transparent)]
    Changes(#[from] crate::changes::RelayError),
    #[error(transparent)]
    Events(#[from] crate::events::EventsConfigError),
}

/// Applies pending migrations as the owner, then opens the runtime pool. On PostgreSQL the
/// two URLs name different roles: the owner creates tables and policies, the runtime role
/// only reads and writes rows under RLS ([`check_runtime_role`] refuses one that would not
/// be bound by it, before anything, seeding included, runs as that role).
pub async fn prepare_database<M: MigratorTrait>(
    runtime_url: &str,
    migration_url: Option<&str>,
    max_connections: u32,
    observer: Option<StatementObserver>,
) -> Result<DatabaseConnection, StartupError> {
    let owner_url = migration_url.unwrap_or(runtime_url);
    match db::sqlite_file(owner_url).filter(|file| !file.exists()) {
        Some(file) => create_sqlite_database::<M>(owner_url, &file).await?,
        None => {
            let owner = db::connect(owner_url, 2, None).await?;
            M::up(&owner, None).await?;
            owner.close().await?;
        }
    }
    let runtime = db::connect(runtime_url, max_connections, observer).await?;
    check_runtime_role(&runtime).await?;
    Ok(runtime)
}

/// Creates a new SQLite database all at once: migrated in a file beside it, which takes its
/// name only when every migration succeeded. A first start that is interrupted (Ctrl-C, a
/// crash, a failing migration) leaves no half-migrated file for the next start to trip on.
async fn create_sqlite_database<M: MigratorTrait>(url: &str, file: &std::path::Path) -> Result<(), StartupError> {
    let mut building = file.as_os_str().to_owned();
    building.push(".building");
    let building = std::path::PathBuf::from(building);
    remove_sqlite_files(&building);
    let building_url = url.replacen(&*file.to_string_lossy(), &building.to_string_lossy(), 1);
    let owner = db::connect(&building_url, 1, None).await?;
    let mut migrated = M::up(&owner, None).await;
    if migrated.is_ok() {
        // Everything into the main file, so the file alone is the complete database.
        migrated = owner.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)").await.map(|_| ());
    }
    owner.close().await?;
    if let Err(error) = migrated {
        remove_sqlite_files(&building);
        return Err(error.into());
    }
    std::fs::rename(&building, file).map_err(|error| {
        StartupError::Io(format!("moving the new database {} into place: {error}", building.display()))
    })?;
    remove_sqlite_files(&building);
    Ok(())
}

/// A SQLite database file and its write-ahead-log companions, if present.
fn remove_sqlite_files(file: &std::path::Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut path = file.as_os_str().to_owned();
        path.push(suffix);
        let _ = std::fs::remove_file(std::path::PathBuf::from(path));
    }
}

/// Every role the runtime role is or may act as (membership) that RLS does not bind.
const ROLES_ABOVE_RLS: &str = "
    SELECT r.rolname::text AS name, r.rolsuper AS superuser, r.rolname = current_user AS itself
    FROM pg_roles r
    WHERE (r.rolsuper OR r.rolbypassrls) AND pg_has_role(current_user, r.oid, 'MEMBER')
    ORDER BY r.rolname = current_user DESC, r.rolsuper DESC, r.rolname";

/// Tenant tables owned by the runtime role or a role it is a member of.
const OWNED_TENANT_TABLES: &str = "
    SELECT c.relname::text AS name
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND pg_has_role(current_user, c.relowner, 'MEMBER')
    ORDER BY 1";

/// Refuses, on PostgreSQL, a runtime role that row-level security does not bind: a
/// superuser or a role with BYPASSRLS (RLS never applies to them), a member of such a
/// role (it may `SET ROLE`), or an owner of tenant tables (an owner may switch RLS off).
/// Isolation must not depend on which URL an operator happened to configure. SQLite has
/// no roles and nothing to check.
pub async fn check_runtime_role(runtime: &DatabaseConnection) -> Result<(), StartupError> {
    if runtime.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(());
    }
    let query = |sql: &str| Statement::from_string(DatabaseBackend::Postgres, sql);
    let role = runtime
        .query_one_raw(query("SELECT current_user::text AS name"))
        .await?
        .map(|row| row.try_get::<String>("", "name"))
        .transpose()?
        .unwrap_or_default();
    let refuse = |reason: String| Err(StartupError::UnsafeRuntimeRole { role: role.clone(), reason });
    if let Some(row) = runtime.query_all_raw(query(ROLES_ABOVE_RLS)).await?.into_iter().next() {
        let (name, superuser, itself) = (
            row.try_get::<String>("", "name")?,
            row.try_get::<bool>("", "superuser")?,
            row.try_get::<bool>("", "itself")?,
        );
        let attribute = if superuser { "a superuser" } else { "BYPASSRLS" };
        return refuse(if itself {
            format!(
                "it is {attribute}, which row-level security never binds; use the runtime role the migrations create"
            )
        } else {
            format!("it may act as `{name}`, which is {attribute} and never bound by row-level security")
        });
    }
    let owned: Vec<String> = runtime
        .query_all_raw(query(OWNED_TENANT_TABLES))
        .await?
        .into_iter()
        .map(|row| row.try_get::<String>("", "name"))
        .collect::<Result<_, _>>()?;
    if !owned.is_empty() {
        return refuse(format!(
            "it owns the tenant tables {} and could switch row-level security off; tables belong to the migration role",
            owned.join(", ")
        ));
    }
    Ok(())
}
