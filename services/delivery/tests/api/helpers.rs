//! Spawning the delivery service and calling it like the gateway does.

use std::sync::{Arc, Mutex};

use atrium_delivery::{config::Config, startup::Application};
use atrium_kit::{TenantContext, db::StatementObserver, testing};
use serde_json::{Value, json};

pub struct TestDelivery {
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

pub async fn spawn(database_url: String, migration_url: Option<String>) -> TestDelivery {
    spawn_observed(database_url, migration_url, None).await
}

pub async fn spawn_observed(
    database_url: String,
    migration_url: Option<String>,
    observer: Option<StatementObserver>,
) -> TestDelivery {
    let application =
        Application::build_observed(config(database_url, migration_url), observer).await.expect("delivery starts");
    let url = format!("http://127.0.0.1:{}/graphql", application.port());
    tokio::spawn(application.run_until_stopped());
    TestDelivery { url, client: reqwest::Client::new() }
}

pub async fn sqlite_delivery() -> TestDelivery {
    spawn(testing::sqlite_url("delivery"), None).await
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

impl TestDelivery {
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
        let context = testing::context_for(slug, "delivery_manager");
        let (status, body) = self.query(Some(&context), query, variables).await;
        assert_eq!(status, 200, "{body}");
        assert!(body.get("errors").is_none(), "{body}");
        body["data"].clone()
    }
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
