//! Database connections and the tenant-scoped transaction.
//!
//! Repositories accept only a [`TenantTransaction`]: it is the single way to reach a
//! service's tables, it always knows its tenant, and on PostgreSQL it has set the
//! transaction-local `app.tenant_id` that row-level security policies read. On SQLite (the
//! embedded default) there is no RLS, so the explicit `tenant_id` filter every repository
//! adds is the only guard; that is why no other door to the tables exists.

use std::time::Duration;

use sea_orm::{
    ColumnTrait, Condition, ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection,
    DatabaseTransaction, DbErr, Statement, TransactionTrait,
};
use uuid::Uuid;

use crate::tenant::TenantContext;

/// Where a service's data lives, parsed from its configured URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseTarget {
    Sqlite,
    Postgres,
}

impl DatabaseTarget {
    pub fn of_url(url: &str) -> Option<Self> {
        if url.starts_with("sqlite:") {
            Some(DatabaseTarget::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Some(DatabaseTarget::Postgres)
        } else {
            None
        }
    }
}

/// Opens a pool. SQLite files are created on first use and run in WAL mode so readers
/// never wait for the writer; `busy_timeout` turns writer contention into waiting
/// instead of an error.
/// Called with every SQL statement a connection runs (tests count statements with it);
/// every statement also becomes a span (`telemetry::StatementSpans`).
pub type StatementObserver = std::sync::Arc<dyn Fn(&sea_orm::metric::Info<'_>) + Send + Sync>;

pub async fn connect(
    url: &str,
    max_connections: u32,
    observer: Option<StatementObserver>,
) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(5))
        .sqlx_logging(false);
    if DatabaseTarget::of_url(url) == Some(DatabaseTarget::Sqlite) {
        create_sqlite_parent_directory(url);
        options.map_sqlx_sqlite_opts(|opts| {
            opts.create_if_missing(true)
                .journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(5))
                .foreign_keys(true)
        });
    }
    let mut connection = Database::connect(options).await?;
    let statement_spans = crate::telemetry::StatementSpans::new(connection.get_database_backend());
    connection.set_metric_callback(move |info| {
        statement_spans.record(info);
        if let Some(observer) = &observer {
            observer(info);
        }
    });
    Ok(connection)
}

/// The file behind a SQLite URL; `None` for other databases and in-memory ones.
pub(crate) fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    if !url.starts_with("sqlite:") {
        return None;
    }
    let (path, query) = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:").split_once('?').map_or_else(
        || (url.trim_start_matches("sqlite://").trim_start_matches("sqlite:"), ""),
        |(path, query)| (path, query),
    );
    if path.is_empty() || path == ":memory:" || query.split('&').any(|pair| pair == "mode=memory") {
        return None;
    }
    Some(std::path::PathBuf::from(path))
}

/// SQLite creates the file but not its directory; a fresh checkout has no data dir yet.
fn create_sqlite_parent_directory(url: &str) {
    let Some(path) = sqlite_file(url) else { return };
    if let Some(parent) = path.parent().filter(|parent| !parent.as_os_str().is_empty()) {
        // A failure here resurfaces, with a clearer message, when the pool opens the file.
        let _ = std::fs::create_dir_all(parent);
    }
}

/// A database transaction bound to one tenant. Dropping it without `commit` rolls back,
/// which is what read-only requests rely on.
pub struct TenantTransaction {
    transaction: DatabaseTransaction,
    context: TenantContext,
}

impl TenantTransaction {
    /// Opens a transaction and, on PostgreSQL, sets the tenant (and second-level scopes)
    /// for this transaction only. `set_config(..., true)` is transaction-local, unlike a
    /// session `SET`, so nothing survives on a pooled connection after commit/rollback.
    pub async fn begin(db: &DatabaseConnection, context: &TenantContext) -> Result<Self, DbErr> {
        Self::scoped(db.begin().await?, context).await
    }

    /// As [`TenantTransaction::begin`], for a transaction that will write. SQLite starts it
    /// `IMMEDIATE`, taking the write lock up front: a deferred transaction that reads and
    /// then writes fails at once with "database is locked" when another connection wrote
    /// in between (waiting cannot help it), which concurrent commands and event consumers
    /// on one file would meet. PostgreSQL is unaffected.
    pub async fn begin_write(db: &DatabaseConnection, context: &TenantContext) -> Result<Self, DbErr> {
        let transaction = match db.get_database_backend() {
            DatabaseBackend::Sqlite => {
                let options = sea_orm::TransactionOptions {
                    sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
                    ..Default::default()
                };
                db.begin_with_options(options).await?
            }
            _ => db.begin().await?,
        };
        Self::scoped(transaction, context).await
    }

    async fn scoped(transaction: DatabaseTransaction, context: &TenantContext) -> Result<Self, DbErr> {
        if transaction.get_database_backend() == DatabaseBackend::Postgres {
            let optional = |id: Option<Uuid>| id.map(|id| id.to_string()).unwrap_or_default();
            transaction
                .execute_raw(Statement::from_sql_and_values(
                    DatabaseBackend::Postgres,
                    "SELECT set_config('app.tenant_id', $1, true), \
                            set_config('app.channel_partner_id', $2, true), \
                            set_config('app.customer_account_id', $3, true)",
                    [
                        context.tenant_id.to_string().into(),
                        optional(context.channel_partner_id).into(),
                        optional(context.customer_account_id).into(),
                    ],
                ))
                .await?;
        }
        Ok(TenantTransaction { transaction, context: context.clone() })
    }

    pub fn tenant_id(&self) -> Uuid {
        self.context.tenant_id
    }

    pub fn context(&self) -> &TenantContext {
        &self.context
    }

    /// The caller's second-level scopes as a condition on a table's partner and customer
    /// columns (see [`crate::scopes`]); matches every row for unscoped callers.
    pub fn second_level_scope(&self, partner: impl ColumnTrait, customer: impl ColumnTrait) -> Condition {
        crate::scopes::condition(&self.context, partner, customer)
    }

    /// True when the caller holds a partner or customer scope.
    pub fn is_second_level_scoped(&self) -> bool {
        crate::scopes::is_scoped(&self.context)
    }

    /// The connection repositories run their statements on.
    pub fn connection(&self) -> &DatabaseTransaction {
        &self.transaction
    }

    pub async fn commit(self) -> Result<(), DbErr> {
        self.transaction.commit().await
    }
}
