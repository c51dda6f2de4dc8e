//! Spawning the finance service and calling it like the gateway does.

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

pub use atrium_kit::testing::node_strings as strings;

/// A decimal scalar (served as a string) as f64, for numeric comparisons.
pub fn decimal(value: &Value) -> f64 {
    value.as_str().expect("decimal string").parse().expect("decimal")
}
