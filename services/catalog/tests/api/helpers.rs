//! Spawning the catalog service and calling it like the gateway does.

use atrium_catalog::{config::Config, startup::Application};
use atrium_kit::{TenantContext, testing};
use serde_json::{Value, json};

pub struct TestCatalog {
    pub url: String,
    client: reqwest::Client,
}

pub async fn spawn(database_url: String, migration_url: Option<String>) -> TestCatalog {
    let config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        database_url,
        migration_database_url: migration_url,
        max_connections: 5,
        context_keys: vec![atrium_kit::ContextKey::development()],
        seed_demo_data: true,
        log_format: Default::default(),
    };
    let application = Application::build(config).await.expect("catalog starts");
    let url = format!("http://127.0.0.1:{}/graphql", application.port());
    tokio::spawn(application.run_until_stopped());
    TestCatalog { url, client: reqwest::Client::new() }
}

impl TestCatalog {
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
}
