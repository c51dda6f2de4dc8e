//! Test support for service and system tests (feature `testing`): real PostgreSQL
//! databases per test, signed tenant contexts, and a small GraphQL client.
//!
//! PostgreSQL tests run for real: when the server is unreachable they are skipped
//! locally, but fail in CI ([`running_in_ci`]), so CI can never go green without
//! exercising RLS.

use sea_orm::{ConnectionTrait, Database};
use uuid::Uuid;

pub use atrium_contract::testing::{redis_url, running_in_ci};

use crate::{ClientKind, ContextKey, ContextSigner, TenantContext, context_token::CONTEXT_HEADER, demo};

/// Where the PostgreSQL server for tests is; `ATRIUM_TEST_POSTGRES_URL` overrides.
pub fn postgres_admin_url() -> String {
    std::env::var("ATRIUM_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A fresh database owned by the admin role, dropped when the value is dropped.
pub struct TestDatabase {
    pub name: String,
    /// URL of the owner (migrations, catalog inspection).
    pub owner_url: String,
    /// URL of the RLS-bound runtime role.
    pub runtime_url: String,
}

impl TestDatabase {
    /// Creates `atrium_test_<label>_<random>`. Returns `None` (test skipped) when no
    /// PostgreSQL answers, unless [`running_in_ci`], where that is a failure.
    pub async fn create(label: &str) -> Option<TestDatabase> {
        let admin_url = postgres_admin_url();
        let admin = match Database::connect(&admin_url).await {
            Ok(admin) => admin,
            Err(error) => {
                if running_in_ci() {
                    panic!("running in CI but PostgreSQL at {admin_url} is unreachable: {error}");
                }
                eprintln!("skipping: PostgreSQL at {admin_url} is unreachable ({error})");
                return None;
            }
        };
        let name = format!("atrium_test_{label}_{}", Uuid::new_v4().simple());
        admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create test database");
        let base = admin_url.rsplit_once('/').map_or(admin_url.as_str(), |(base, _)| base).to_owned();
        let owner_url = format!("{base}/{name}");
        let runtime_url = crate::rls::runtime_url(&owner_url).expect("runtime url");
        Some(TestDatabase { name, owner_url, runtime_url })
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Dropping needs async work; a short-lived thread with its own runtime keeps Drop
        // usable from any test runtime flavour.
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
            runtime.block_on(async move {
                if let Ok(admin) = Database::connect(&postgres_admin_url()).await {
                    let _ = admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
                }
            });
        })
        .join();
    }
}

/// A SQLite file in the system temp dir, unique per call.
pub fn sqlite_url(label: &str) -> String {
    let path = std::env::temp_dir().join(format!("atrium-test-{label}-{}.sqlite", Uuid::new_v4().simple()));
    format!("sqlite://{}?mode=rwc", path.display())
}

/// A context for a demo tenant with one role.
pub fn context_for(slug: &str, role: &str) -> TenantContext {
    TenantContext {
        tenant_id: demo::tenant_id(slug),
        subject: format!("test-{role}@{slug}"),
        roles: vec![role.to_owned()],
        client_kind: ClientKind::Dashboard,
        channel_partner_id: None,
        customer_account_id: None,
    }
}

/// `(header name, value)` of a context signed with the development key.
pub fn signed_context_header(context: &TenantContext) -> (&'static str, String) {
    let token = ContextSigner::new(&ContextKey::development(), 60).sign(context).expect("sign context");
    (CONTEXT_HEADER, token)
}

/// A subgraph under test, called like the gateway calls it.
pub struct TestSubgraph {
    pub url: String,
    /// Role used by [`TestSubgraph::data`].
    role: &'static str,
    client: reqwest::Client,
}

impl TestSubgraph {
    /// Serves `application` in the background and returns its client.
    pub fn serve(application: crate::service::SubgraphApplication, role: &'static str) -> Self {
        let url = format!("http://127.0.0.1:{}/graphql", application.port());
        tokio::spawn(application.run_until_stopped());
        TestSubgraph { url, role, client: reqwest::Client::new() }
    }

    /// POSTs a query with the given (signed) context; returns status and body.
    pub async fn query(
        &self,
        context: Option<&TenantContext>,
        query: &str,
        variables: serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let mut request = self
            .client
            .post(&self.url)
            .header("content-type", "application/json")
            .json(&serde_json::json!({ "query": query, "variables": variables }));
        if let Some(context) = context {
            let (name, value) = signed_context_header(context);
            request = request.header(name, value);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status().as_u16();
        (status, response.json().await.expect("json body"))
    }

    /// Queries as `slug`'s user with the subgraph's test role and insists on a clean 200.
    pub async fn data(&self, slug: &str, query: &str, variables: serde_json::Value) -> serde_json::Value {
        let context = context_for(slug, self.role);
        let (status, body) = self.query(Some(&context), query, variables).await;
        assert_eq!(status, 200, "{body}");
        assert!(body.get("errors").is_none(), "{body}");
        body["data"].clone()
    }
}

/// Records every SQL statement a service runs (statement-count tests).
#[derive(Clone, Default)]
pub struct StatementLog(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

impl StatementLog {
    pub fn observer(&self) -> crate::db::StatementObserver {
        let log = self.0.clone();
        std::sync::Arc::new(move |info| {
            if let Ok(mut statements) = log.lock() {
                statements.push(info.statement.sql.clone());
            }
        })
    }

    pub fn clear(&self) {
        if let Ok(mut statements) = self.0.lock() {
            statements.clear();
        }
    }

    pub fn statements(&self) -> Vec<String> {
        self.0.lock().map(|statements| statements.clone()).unwrap_or_default()
    }
}

/// The `field` (a string) of every node of a connection, in order.
pub fn node_strings(connection: &serde_json::Value, field: &str) -> Vec<String> {
    connection["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|node| node[field].as_str().expect("string field").to_owned())
        .collect()
}
