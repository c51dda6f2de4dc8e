//! Spawning the support service and calling it like the gateway does.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use atrium_kit::{TenantContext, db::StatementObserver, testing};
use atrium_support::{config::Config, startup::Application};
use serde_json::{Value, json};

pub struct TestSupport {
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

async fn start(config: Config, observer: Option<StatementObserver>) -> TestSupport {
    let application = Application::build_observed(config, observer).await.expect("support starts");
    let url = format!("http://127.0.0.1:{}/graphql", application.port());
    tokio::spawn(application.run_until_stopped());
    TestSupport { url, client: reqwest::Client::new() }
}

pub async fn spawn(database_url: String, migration_url: Option<String>) -> TestSupport {
    start(config(database_url, migration_url), None).await
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
    let support = start(config(testing::sqlite_url("support"), None), Some(observer)).await;
    (support, statements)
}

impl TestSupport {
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

    /// Queries as `slug`'s support agent and insists on a clean 200 response.
    pub async fn data_for(&self, slug: &str, query: &str, variables: Value) -> Value {
        let context = testing::context_for(slug, "support_agent");
        let (status, body) = self.query(Some(&context), query, variables).await;
        assert_eq!(status, 200, "{body}");
        assert!(body.get("errors").is_none(), "{body}");
        body["data"].clone()
    }
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
