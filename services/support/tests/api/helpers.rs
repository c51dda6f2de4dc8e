//! Spawning the support service and calling it like the gateway does.

use atrium_kit::{db::StatementObserver, testing};
use atrium_support::{config::Config, startup};

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
    spawn_configured(&config, observer).await
}

pub async fn spawn_configured(config: &Config, observer: Option<StatementObserver>) -> TestSupport {
    let application = startup::build_observed(config, observer).await.expect("support starts");
    testing::TestSubgraph::serve(application, "support_agent")
}

pub async fn spawn_sqlite() -> TestSupport {
    spawn(testing::sqlite_url("support"), None).await
}

pub use atrium_kit::testing::node_strings as strings;
