//! Spawning the catalog service and calling it like the gateway does.

use atrium_catalog::{config::Config, startup};
use atrium_kit::{db::StatementObserver, testing};

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
