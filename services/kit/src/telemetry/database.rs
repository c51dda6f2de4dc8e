//! Database telemetry: one client span per SQL statement, parented on whatever span runs
//! the statement (resolver, DataLoader batch), and the pool's connection gauges.
//!
//! sea-orm reports each statement after it ran, with its duration, through the connection's
//! metric callback; the span is created then with its real start and end times. Only the
//! parameterised SQL text is recorded, never the bound values.

use std::time::SystemTime;

use opentelemetry::{
    KeyValue,
    metrics::ObservableGauge,
    trace::{Span as _, SpanKind, Status, TraceContextExt as _, Tracer as _},
};
use sea_orm::{DatabaseBackend, DatabaseConnection, metric::Info};

use super::Metrics;

/// Turns statement reports into spans for one database backend.
#[derive(Debug, Clone, Copy)]
pub struct StatementSpans {
    backend: DatabaseBackend,
}

impl StatementSpans {
    pub fn new(backend: DatabaseBackend) -> Self {
        StatementSpans { backend }
    }

    /// Records `info` as a finished span below the current one. Statements outside a
    /// sampled trace (startup, migrations, unsampled requests) cost one check.
    pub fn record(&self, info: &Info<'_>) {
        let parent = opentelemetry::Context::current();
        if !parent.span().span_context().is_sampled() {
            return;
        }
        let end = SystemTime::now();
        let start = end.checked_sub(info.elapsed).unwrap_or(end);
        let summary = QuerySummary::of(&info.statement.sql);
        let mut attributes = vec![
            KeyValue::new("db.system.name", system_name(self.backend)),
            KeyValue::new("db.query.text", info.statement.sql.clone()),
        ];
        if let Some(operation) = summary.operation {
            attributes.push(KeyValue::new("db.operation.name", operation));
        }
        if let Some(collection) = summary.collection.clone() {
            attributes.push(KeyValue::new("db.collection.name", collection));
        }
        let tracer = opentelemetry::global::tracer("atrium.database");
        let mut span = tracer
            .span_builder(summary.span_name(self.backend))
            .with_kind(SpanKind::Client)
            .with_start_time(start)
            .with_attributes(attributes)
            .start_with_context(&tracer, &parent);
        if info.failed {
            span.set_attribute(KeyValue::new("error.type", "database_error"));
            span.set_status(Status::error("statement failed"));
        }
        span.end_with_timestamp(end);
    }
}

fn system_name(backend: DatabaseBackend) -> &'static str {
    match backend {
        DatabaseBackend::Postgres => "postgresql",
        DatabaseBackend::Sqlite => "sqlite",
        DatabaseBackend::MySql => "mysql",
        _ => "other_sql",
    }
}

/// `{operation} {table}` for a span name, read off the statement's first words.
#[derive(Debug, PartialEq, Eq)]
struct QuerySummary {
    operation: Option<&'static str>,
    collection: Option<String>,
}

impl QuerySummary {
    fn of(sql: &str) -> Self {
        let mut words = sql.split_whitespace();
        let first = words.next().unwrap_or_default().to_ascii_uppercase();
        let (operation, table_after) = match first.as_str() {
            "SELECT" => (Some("SELECT"), Some("FROM")),
            "INSERT" => (Some("INSERT"), Some("INTO")),
            "UPDATE" => (Some("UPDATE"), None),
            "DELETE" => (Some("DELETE"), Some("FROM")),
            "WITH" => (Some("WITH"), None),
            _ => (None, None),
        };
        let collection = match (operation, table_after) {
            (Some("UPDATE"), _) => words.next(),
            (_, Some(keyword)) => {
                let mut words = sql.split_whitespace();
                words.find(|word| word.eq_ignore_ascii_case(keyword)).and_then(|_| words.next())
            }
            _ => None,
        }
        .map(|table| table.trim_matches(|character| matches!(character, '"' | '`' | '(' | ')' | ',')).to_owned())
        .filter(|table| !table.is_empty());
        QuerySummary { operation, collection }
    }

    fn span_name(&self, backend: DatabaseBackend) -> String {
        match (self.operation, &self.collection) {
            (Some(operation), Some(collection)) => format!("{operation} {collection}"),
            (Some(operation), None) => operation.to_owned(),
            (None, _) => system_name(backend).to_owned(),
        }
    }
}

/// Publishes the pool's open and idle connections (`db.client.connection.count` by
/// `db.client.connection.state`) and its maximum, read at every collection.
pub fn observe_pool(
    metrics: &Metrics,
    database: &DatabaseConnection,
    max_connections: u32,
) -> Vec<ObservableGauge<i64>> {
    let pool = database.clone();
    let count = metrics
        .meter()
        .i64_observable_gauge("db.client.connection.count")
        .with_description("Connections of the runtime pool, by state")
        .with_unit("{connection}")
        .with_callback(move |observer| {
            let (size, idle) = pool_usage(&pool);
            observer.observe(i64::from(size) - idle as i64, &[KeyValue::new("db_client_connection_state", "used")]);
            observer.observe(idle as i64, &[KeyValue::new("db_client_connection_state", "idle")]);
        })
        .build();
    let max = metrics
        .meter()
        .i64_observable_gauge("db.client.connection.max")
        .with_description("Largest number of connections the runtime pool opens")
        .with_unit("{connection}")
        .with_callback(move |observer| observer.observe(i64::from(max_connections), &[]))
        .build();
    vec![count, max]
}

/// (open connections, idle connections) of the pool behind `database`.
fn pool_usage(database: &DatabaseConnection) -> (u32, usize) {
    match database.get_database_backend() {
        DatabaseBackend::Postgres => {
            let pool = database.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        }
        DatabaseBackend::Sqlite => {
            let pool = database.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle())
        }
        _ => (0, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summarises_statements_as_operation_and_table() {
        let summary = QuerySummary::of(r#"SELECT "invoice"."id" FROM "invoice" WHERE "invoice"."tenant_id" = $1"#);
        assert_eq!(summary.span_name(DatabaseBackend::Postgres), "SELECT invoice");
        let insert = QuerySummary::of(r#"INSERT INTO "ticket" ("id") VALUES (?)"#);
        assert_eq!(insert.span_name(DatabaseBackend::Sqlite), "INSERT ticket");
        let update = QuerySummary::of(r#"UPDATE "milestone" SET "status" = $1"#);
        assert_eq!(update.span_name(DatabaseBackend::Postgres), "UPDATE milestone");
        let other = QuerySummary::of("SELECT set_config('app.tenant_id', $1, true)");
        assert_eq!(other.span_name(DatabaseBackend::Postgres), "SELECT");
        assert_eq!(QuerySummary::of("PRAGMA foreign_keys").span_name(DatabaseBackend::Sqlite), "sqlite");
    }
}
