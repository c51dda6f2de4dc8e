//! Spawning the analytics service and calling it like the gateway does.

use atrium_analytics::{config::Config, startup};
use atrium_kit::demo;
use atrium_kit::{db::StatementObserver, testing};
use sea_orm::DatabaseConnection;
use serde_json::{Value, json};

/// The analytics subgraph under test; `data` queries as a `csm`.
pub type TestAnalytics = testing::TestSubgraph;

pub async fn spawn(database_url: String, migration_url: Option<String>) -> TestAnalytics {
    spawn_observed(database_url, migration_url, None).await
}

pub async fn spawn_observed(
    database_url: String,
    migration_url: Option<String>,
    observer: Option<StatementObserver>,
) -> TestAnalytics {
    let config = Config::for_tests(database_url, migration_url);
    let application = startup::build_observed(&config, observer).await.expect("analytics starts");
    testing::TestSubgraph::serve(application, "csm")
}

pub async fn sqlite_analytics() -> TestAnalytics {
    spawn(testing::sqlite_url("analytics"), None).await
}

/// The subgraph plus its runtime database, for tests that feed the event consumer.
pub async fn spawn_with_database(
    database_url: String,
    migration_url: Option<String>,
) -> (TestAnalytics, DatabaseConnection) {
    let config = Config::for_tests(database_url, migration_url);
    let application = startup::build(&config).await.expect("analytics starts");
    let database = application.database().clone();
    (testing::TestSubgraph::serve(application, "csm"), database)
}

pub const HEALTH_QUERY: &str = "query($representations: [_Any!]!) { _entities(representations: $representations) { \
    ... on CustomerAccount { id health { score band coverage modelVersion \
    measures { code group rawValue score weight } } } } }";

/// A representation as the router sends it when `health` is selected: the key plus the
/// `@requires` fields fetched from support and finance.
pub fn representation(slug: &str, story: demo::Story, open_urgent_high: i32, ar_over_60_share: Option<f64>) -> Value {
    let tenant = demo::tenant_by_slug(slug).unwrap();
    let ordinal = tenant.customers.iter().position(|customer| customer.story == Some(story)).unwrap();
    json!({
        "__typename": "CustomerAccount",
        "id": demo::customer_id(tenant, ordinal),
        "openUrgentHighTicketCount": open_urgent_high,
        "arOver60Share": ar_over_60_share,
    })
}

/// The measure with `code` in a health result.
pub fn measure<'a>(health: &'a Value, code: &str) -> &'a Value {
    health["measures"].as_array().unwrap().iter().find(|m| m["code"] == code).unwrap()
}
