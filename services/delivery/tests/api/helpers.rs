//! Spawning the delivery service and calling it like the gateway does.

use atrium_delivery::{calendar::BusinessCalendar, config::Config, startup};
use atrium_kit::{db::StatementObserver, testing};
use chrono::NaiveDate;
use serde_json::{Value, json};

/// The delivery subgraph under test; `data` queries as a `delivery_manager`.
pub type TestDelivery = testing::TestSubgraph;

pub async fn spawn(database_url: String, migration_url: Option<String>) -> TestDelivery {
    spawn_observed(database_url, migration_url, None).await
}

pub async fn spawn_observed(
    database_url: String,
    migration_url: Option<String>,
    observer: Option<StatementObserver>,
) -> TestDelivery {
    let config = Config::for_tests(database_url, migration_url);
    let calendar = BusinessCalendar::Fixed(test_today());
    let application = startup::build_with_calendar(&config, observer, calendar).await.expect("delivery starts");
    testing::TestSubgraph::serve(application, "delivery_manager")
}

/// The business date every tenant of a test service has: seeded dates and derived flags
/// count from it, so assertions hold whatever the wall clock says.
pub fn test_today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 6, 1).unwrap()
}

pub async fn sqlite_delivery() -> TestDelivery {
    spawn(testing::sqlite_url("delivery"), None).await
}

pub const ENTITIES_QUERY: &str = "query($representations: [_Any!]!) { _entities(representations: $representations) { \
    ... on CustomerAccount { id engagements(first: 100) { nodes { id number status goLiveVarianceDays \
    milestones { name status dueDate forecastDate late atRisk } } } } \
    ... on Engagement { number } ... on Milestone { name } } }";

pub fn customer_representations(slug: &str, ordinals: impl IntoIterator<Item = usize>) -> Value {
    let tenant = atrium_kit::demo::tenant_by_slug(slug).unwrap();
    Value::Array(
        ordinals
            .into_iter()
            .map(|ordinal| {
                let id = atrium_kit::demo::customer_id(tenant, ordinal);
                json!({ "__typename": "CustomerAccount", "id": id })
            })
            .collect(),
    )
}
