//! Spawning the catalog service and calling it like the gateway does.

use atrium_catalog::{config::Config, startup};
use atrium_kit::{
    TenantTransaction,
    db::StatementObserver,
    events::DomainEvent,
    testing::{self, TestDatabase},
};
use sea_orm::{ConnectionTrait, Database, DatabaseBackend, QueryResult, Statement};

/// The catalog subgraph under test; `data` queries as a `csm`.
pub type TestCatalog = testing::TestSubgraph;

pub async fn spawn(database_url: String, migration_url: Option<String>) -> TestCatalog {
    spawn_observed(database_url, migration_url, None).await
}

pub async fn spawn_observed(
    database_url: String,
    migration_url: Option<String>,
    observer: Option<StatementObserver>,
) -> TestCatalog {
    let config = Config::for_tests(database_url, migration_url);
    let application = startup::build_observed(&config, observer).await.expect("catalog starts");
    testing::TestSubgraph::serve(application, "csm")
}

pub async fn spawn_sqlite() -> TestCatalog {
    spawn(testing::sqlite_url("catalog"), None).await
}

/// A catalog service with direct access to its database, on SQLite or PostgreSQL.
pub struct Backend {
    pub catalog: TestCatalog,
    /// The runtime role's URL (RLS-bound on PostgreSQL).
    pub database_url: String,
    migration_url: Option<String>,
    _postgres: Option<TestDatabase>,
}

impl Backend {
    pub async fn sqlite(label: &str) -> Backend {
        let url = testing::sqlite_url(label);
        Backend { catalog: spawn(url.clone(), None).await, database_url: url, migration_url: None, _postgres: None }
    }

    /// `None` when PostgreSQL is unavailable outside CI (the test is skipped).
    pub async fn postgres(label: &str) -> Option<Backend> {
        let database = TestDatabase::create(label).await?;
        let catalog = spawn(database.runtime_url.clone(), Some(database.owner_url.clone())).await;
        Some(Backend {
            catalog,
            database_url: database.runtime_url.clone(),
            migration_url: Some(database.owner_url.clone()),
            _postgres: Some(database),
        })
    }

    /// Starts the service again on the same database: migrations and the seed run again.
    pub async fn restart(&self) -> TestCatalog {
        spawn(self.database_url.clone(), self.migration_url.clone()).await
    }

    /// The domain events in `slug`'s outbox, in recording order.
    pub async fn events(&self, slug: &str) -> Vec<DomainEvent> {
        let rows = self
            .tenant_rows(
                slug,
                "SELECT envelope FROM change_outbox WHERE envelope IS NOT NULL AND tenant_id = ? ORDER BY id",
            )
            .await;
        rows.iter()
            .map(|row| {
                let envelope: String = row.try_get("", "envelope").expect("envelope text");
                serde_json::from_str(&envelope).expect("a domain event envelope")
            })
            .collect()
    }

    pub async fn events_of_type(&self, slug: &str, event_type: &str) -> Vec<DomainEvent> {
        self.events(slug).await.into_iter().filter(|event| event.event_type == event_type).collect()
    }

    /// Rows of `sql`, whose one `?` is bound to `slug`'s tenant id, run in that tenant's
    /// transaction (so RLS applies on PostgreSQL; the `?` filters on SQLite).
    pub async fn tenant_rows(&self, slug: &str, sql: &str) -> Vec<QueryResult> {
        let database = Database::connect(&self.database_url).await.expect("database connects");
        let context = testing::context_for(slug, "tenant_admin");
        let tx = TenantTransaction::begin(&database, &context).await.unwrap();
        let backend = tx.connection().get_database_backend();
        let statement = Statement::from_sql_and_values(backend, placeholders(backend, sql), [context.tenant_id.into()]);
        tx.connection().query_all_raw(statement).await.expect("query runs")
    }

    /// Runs `sql` with `values` bound to its `?`s in `slug`'s tenant transaction and
    /// commits (test setup).
    pub async fn execute_as_tenant(&self, slug: &str, sql: &str, values: Vec<sea_orm::Value>) {
        let database = Database::connect(&self.database_url).await.expect("database connects");
        let tx = TenantTransaction::begin(&database, &testing::context_for(slug, "tenant_admin")).await.unwrap();
        let backend = tx.connection().get_database_backend();
        let statement = Statement::from_sql_and_values(backend, placeholders(backend, sql), values);
        tx.connection().execute_raw(statement).await.expect("statement runs");
        tx.commit().await.unwrap();
    }

    /// How many rows `table` holds for `slug`.
    pub async fn count(&self, slug: &str, table: &str) -> i64 {
        let rows = self.tenant_rows(slug, &format!("SELECT COUNT(*) AS n FROM {table} WHERE tenant_id = ?")).await;
        rows[0].try_get::<i64>("", "n").expect("a count")
    }
}

/// `?` placeholders as the backend numbers them (`$1`, `$2`, … on PostgreSQL).
fn placeholders(backend: DatabaseBackend, sql: &str) -> String {
    if backend != DatabaseBackend::Postgres {
        return sql.to_owned();
    }
    let mut numbered = String::new();
    for (index, part) in sql.split('?').enumerate() {
        if index > 0 {
            numbered.push_str(&format!("${index}"));
        }
        numbered.push_str(part);
    }
    numbered
}
