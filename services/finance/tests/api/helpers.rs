//! Spawning the finance service and calling it like the gateway does.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use atrium_finance::{config::Config, startup};
use atrium_kit::{db::StatementObserver, testing};
use serde_json::Value;

/// The finance subgraph under test; `data` queries as a `finance`.
pub type TestFinance = testing::TestSubgraph;

pub async fn spawn(database_url: String, migration_url: Option<String>) -> TestFinance {
    spawn_observed(database_url, migration_url, None).await
}

pub async fn spawn_observed(
    database_url: String,
    migration_url: Option<String>,
    observer: Option<StatementObserver>,
) -> TestFinance {
    let config = Config::for_tests(database_url, migration_url);
    let application = startup::build_observed(&config, observer).await.expect("finance starts");
    testing::TestSubgraph::serve(application, "finance")
}

pub async fn spawn_sqlite() -> TestFinance {
    spawn(testing::sqlite_url("finance"), None).await
}

/// A SQLite-backed service whose every SQL statement bumps the returned counter.
pub async fn spawn_counting_statements() -> (TestFinance, Arc<AtomicUsize>) {
    let statements = Arc::new(AtomicUsize::new(0));
    let counter = statements.clone();
    let observer: StatementObserver = Arc::new(move |_info| {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    let service = spawn_observed(testing::sqlite_url("finance"), None, Some(observer)).await;
    (service, statements)
}

/// The `name` (or other string field) of every node of a connection.
pub fn strings(connection: &Value, field: &str) -> Vec<String> {
    connection["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|node| node[field].as_str().expect("string field").to_owned())
        .collect()
}

/// A decimal scalar (served as a string) as f64, for numeric comparisons.
pub fn decimal(value: &Value) -> f64 {
    value.as_str().expect("decimal string").parse().expect("decimal")
}
