//! Spawning the analytics service and calling it like the gateway does.

use std::sync::{Arc, Mutex};

use atrium_analytics::{config::Config, startup::Application};
use atrium_kit::{TenantContext, db::StatementObserver, demo, testing};
use serde_json::{Value, json};

pub struct TestAnalytics {
    pub url: String,
    client: reqwest::Client,
}

fn config(database_url: String, migration_url: Option<String>) -> Config {
    Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        database_url,
        migration_database_url: migration_url,
        max_connections: 5,
        context_keys: vec![atrium_kit::ContextKey::development()],
        seed_demo_data: true,
        log_format: Default::default(),
    }
}

pub async fn spawn(database_url: String, migration_url: Option<String>) -> TestAnalytics {
    spawn_observed(database_url, migration_url, None).await
}

pub async fn spawn_observed(
    database_url: String,
    migration_url: Option<String>,
    observer: Option<StatementObserver>,
) -> TestAnalytics {
    let application =
        Application::build_observed(config(database_url, migration_url), observer).await.expect("analytics starts");
    let url = format!("http://127.0.0.1:{}/graphql", application.port());
    tokio::spawn(application.run_until_stopped());
    TestAnalytics { url, client: reqwest::Client::new() }
}

pub async fn sqlite_analytics() -> TestAnalytics {
    spawn(testing::sqlite_url("analytics"), None).await
}

/// Records the SQL of every statement the service's runtime pool runs.
#[derive(Clone, Default)]
pub struct StatementLog(Arc<Mutex<Vec<String>>>);

impl StatementLog {
    pub fn observer(&self) -> StatementObserver {
        let log = self.0.clone();
        Arc::new(move |info| log.lock().unwrap().push(info.statement.sql.clone()))
    }

    pub fn clear(&self) {
        self.0.lock().unwrap().clear();
    }

    pub fn statements(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

impl TestAnalytics {
    /// POSTs a query with the given (signed) context; returns status and body.
    pub async fn query(&self, context: Option<&TenantContext>, query: &str, variables: Value) -> (u16, Value) {
        let mut request = self
            .client
            .post(&self.url)
            .header("content-type", "application/json")
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(context) = context {
            let (name, value) = testing::signed_context_header(context);
            request = request.header(name, value);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status().as_u16();
        (status, response.json().await.expect("json body"))
    }

    /// As `query` for a demo tenant, asserting a 200 without errors; returns `data`.
    pub async fn data(&self, slug: &str, query: &str, variables: Value) -> Value {
        let context = testing::context_for(slug, "csm");
        let (status, body) = self.query(Some(&context), query, variables).await;
        assert_eq!(status, 200, "{body}");
        assert!(body.get("errors").is_none(), "{body}");
        body["data"].clone()
    }
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
