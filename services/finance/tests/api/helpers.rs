//! Spawning the finance service and calling it like the gateway does.

use atrium_finance::{config::Config, domain::Clock, startup};
use atrium_kit::{db::StatementObserver, testing};
use chrono::NaiveDate;
use serde_json::Value;

/// The business date every test runs at: pinned, so answers relative to "today" (days
/// past due, contract activation) do not depend on the wall clock. `ATRIUM_TEST_TODAY`
/// (`YYYY-MM-DD`) moves it, to check that nothing depends on the pinned value either.
pub fn test_today() -> NaiveDate {
    match std::env::var("ATRIUM_TEST_TODAY") {
        Ok(text) => NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").expect("ATRIUM_TEST_TODAY is YYYY-MM-DD"),
        Err(_) => NaiveDate::from_ymd_opt(2026, 3, 14).expect("a valid date"),
    }
}

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
    let application =
        startup::build_with_clock(&config, observer, Clock::Fixed(test_today())).await.expect("finance starts");
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
