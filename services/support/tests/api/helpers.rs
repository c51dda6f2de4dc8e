//! Spawning the support service and calling it like the gateway does.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use atrium_kit::{db::StatementObserver, testing};
use atrium_support::{config::Config, startup};
use serde_json::Value;

/// The support subgraph under test; `data` queries as a `support_agent`.
pub type TestSupport = testing::TestSubgraph;

pub async fn spawn(database_url: String, migration_url: Option<String>) -> TestSupport {
    spawn_observed(database_url, migration_url, None).await
}

pub async fn spawn_observed(
    database_url: String,
    migration_url: Option<String>,
    observer: Option<StatementObserver>,
) -> TestSupport {
    let config = Config::for_tests(database_url, migration_url);
    let application = startup::build_observed(&config, observer).await.expect("support starts");
    testing::TestSubgraph::serve(application, "support_agent")
}

pub async fn spawn_sqlite() -> TestSupport {
    spawn(testing::sqlite_url("support"), None).await
}

/// A SQLite-backed service whose every SQL statement bumps the returned counter.
pub async fn spawn_counting_statements() -> (TestSupport, Arc<AtomicUsize>) {
    let statements = Arc::new(AtomicUsize::new(0));
    let counter = statements.clone();
    let observer: StatementObserver = Arc::new(move |_info| {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    let service = spawn_observed(testing::sqlite_url("support"), None, Some(observer)).await;
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
