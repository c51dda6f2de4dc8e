//! Whole-system test harness: starts the five subgraph services and the gateway
//! in-process on port 0 — on SQLite files or on fresh PostgreSQL databases — and talks to
//! the gateway over HTTP like a portal would.

use std::path::PathBuf;

mod proxy;
pub use proxy::SubgraphCalls;

use atrium_gateway::auth::DevSigningKey;
use atrium_kit::testing::TestDatabase;
use serde_json::{Value, json};

/// Which database backend the services run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The services the harness starts, in the order of `services/subgraphs.list` (checked by
/// `tests/tests/system/subgraph_list.rs`).
pub const SERVICES: [&str; 5] = ["catalog", "delivery", "finance", "support", "analytics"];

/// One row of `services/subgraphs.list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubgraphEntry {
    pub name: String,
    /// The port `make run` gives it.
    pub port: u16,
}

impl SubgraphEntry {
    /// Its URL in the committed supergraph (`make schema`).
    pub fn local_url(&self) -> String {
        format!("http://127.0.0.1:{}/graphql", self.port)
    }
}

/// The platform's subgraphs from the one list, `services/subgraphs.list`.
pub fn subgraph_list() -> Vec<SubgraphEntry> {
    let path = repository_root().join("services/subgraphs.list");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("reading {}: {error}", path.display()));
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let mut columns = line.split_whitespace();
            let (Some(name), Some(port), None) = (columns.next(), columns.next(), columns.next()) else {
                panic!("services/subgraphs.list: `{line}` is not `<name> <port>`")
            };
            let port = port.parse().unwrap_or_else(|_| panic!("services/subgraphs.list: `{port}` is not a port"));
            SubgraphEntry { name: name.to_owned(), port }
        })
        .collect()
}

/// The repository root (for `schema/`).
pub fn repository_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Database URLs of one service: runtime and owner (migrations).
struct DatabaseUrls {
    runtime: String,
    owner: Option<String>,
}

/// A running platform. Dropping it leaves the servers to die with the test runtime and
/// drops the PostgreSQL databases.
pub struct Stack {
    pub gateway_url: String,
    pub subgraph_urls: Vec<(&'static str, String)>,
    signing_key: DevSigningKey,
    key_path: PathBuf,
    client: reqwest::Client,
    /// The PostgreSQL databases per service (empty on SQLite).
    pub databases: Vec<(&'static str, TestDatabase)>,
}

impl Stack {
    /// Starts everything; `None` when PostgreSQL is requested but unavailable outside CI.
    pub async fn start(backend: Backend) -> Option<Stack> {
        Self::start_with(backend, |_| {}).await
    }

    /// Starts everything, with `configure_gateway` applied to the first gateway (the one
    /// the services' outbox relays deliver change events to).
    pub async fn start_with(
        backend: Backend,
        configure_gateway: impl FnOnce(&mut atrium_gateway::config::Config),
    ) -> Option<Stack> {
        let mut databases = Vec::new();
        let mut urls = Vec::new();
        for service in SERVICES {
            match backend {
                Backend::Sqlite => {
                    urls.push(DatabaseUrls { runtime: atrium_kit::testing::sqlite_url(service), owner: None })
                }
                Backend::Postgres => {
                    let database = TestDatabase::create(service).await?;
                    urls.push(DatabaseUrls {
                        runtime: database.runtime_url.clone(),
                        owner: Some(database.owner_url.clone()),
                    });
                    databases.push((service, database));
                }
            }
        }
        let [catalog, delivery, finance, support, analytics]: [DatabaseUrls; 5] =
            urls.try_into().unwrap_or_else(|_| unreachable!("five services"));
        // The first gateway's listener is bound before the services start, so their
        // outbox relays deliver change events to it (as in `make run`).
        let gateway_listener = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("a gateway port");
        let gateway_port = gateway_listener.local_addr().expect("gateway address").port();
        let changes_to = format!("http://127.0.0.1:{gateway_port}");
        let events = EventWiring::for_backend(backend).await;
        let (catalog, delivery, finance, support, analytics) = tokio::join!(
            start_catalog(catalog, &changes_to, &events),
            start_delivery(delivery, &changes_to, &events),
            start_finance(finance, &changes_to, &events),
            start_support(support, &changes_to, &events),
            start_analytics(analytics, &changes_to, &events),
        );
        let subgraph_urls = vec![
            ("catalog", catalog),
            ("delivery", delivery),
            ("finance", finance),
            ("support", support),
            ("analytics", analytics),
        ];

        let key_path = std::env::temp_dir().join(format!("atrium-test-key-{}.pem", uuid::Uuid::new_v4().simple()));
        let signing_key = DevSigningKey::load_or_create(&key_path).expect("dev key");
        let mut stack = Stack {
            gateway_url: String::new(),
            subgraph_urls,
            signing_key,
            key_path,
            client: reqwest::Client::new(),
            databases,
        };
        let mut config = stack.gateway_config();
        configure_gateway(&mut config);
        stack.gateway_url = serve_gateway(config, Some(gateway_listener)).await.graphql;
        Some(stack)
    }

    /// The configuration of a gateway in front of this stack's subgraphs, on port 0.
    pub fn gateway_config(&self) -> atrium_gateway::config::Config {
        let mut config: atrium_gateway::config::Config = serde_json::from_value(json!({
            "listen": "127.0.0.1:0",
            "supergraph_path": repository_root().join("schema/supergraph.graphql"),
            "auth": { "dev_key_path": self.key_path },
        }))
        .expect("gateway config");
        config.subgraph_urls = self.subgraph_urls.iter().map(|(name, url)| ((*name).to_owned(), url.clone())).collect();
        // Tests send bursts no client would; rate-limit tests switch limits back on.
        config.rate_limits.enabled = false;
        config
    }

    /// Starts one more gateway (a replica) in front of the same subgraphs, configured by
    /// `configure`; returns its GraphQL URL.
    pub async fn start_gateway(&self, configure: impl FnOnce(&mut atrium_gateway::config::Config)) -> String {
        self.start_gateway_serving(configure).await.graphql
    }

    /// Like [`Stack::start_gateway`], also returning the internal listener's address.
    pub async fn start_gateway_serving(
        &self,
        configure: impl FnOnce(&mut atrium_gateway::config::Config),
    ) -> GatewayUrls {
        let mut config = self.gateway_config();
        configure(&mut config);
        serve_gateway(config, None).await
    }

    /// POSTs a GraphQL query to any gateway URL; returns status, headers and JSON body.
    pub async fn post_to(&self, url: &str, token: &str, query: &str) -> (u16, reqwest::header::HeaderMap, Value) {
        self.post_json(url, token, json!({ "query": query })).await
    }

    /// POSTs any JSON body to a gateway URL; returns status, headers and JSON body.
    pub async fn post_json(&self, url: &str, token: &str, body: Value) -> (u16, reqwest::header::HeaderMap, Value) {
        let request = self.client.post(url).header("content-type", "application/json").bearer_auth(token).json(&body);
        Self::answer(request).await
    }

    /// GETs a gateway URL with `query_string` (already encoded); returns status, headers, JSON body.
    pub async fn get(&self, url: &str, token: &str, query_string: &str) -> (u16, reqwest::header::HeaderMap, Value) {
        Self::answer(self.client.get(format!("{url}?{query_string}")).bearer_auth(token)).await
    }

    async fn answer(request: reqwest::RequestBuilder) -> (u16, reqwest::header::HeaderMap, Value) {
        let response = request.send().await.expect("gateway answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        (status, headers, serde_json::from_str(&text).unwrap_or_else(|_| panic!("JSON body, got: {text}")))
    }

    /// A dev token for a demo tenant and role(s).
    pub fn token(&self, tenant: &str, roles: &[&str]) -> String {
        self.token_with_ttl(tenant, roles, 600)
    }

    /// A dev token for a client kind (`partner_portal`, `dashboard`, `bi`, `service`).
    pub fn token_for_client(&self, tenant: &str, roles: &[&str], client_kind: &str) -> String {
        let roles: Vec<String> = roles.iter().map(|role| (*role).to_owned()).collect();
        self.signing_key.issue_for_demo("atrium-dev", "atrium", tenant, &roles, client_kind, 600).expect("token")
    }

    /// A dev token carrying second-level scopes (`partner_id` / `customer_id` claims) for a
    /// dashboard client, so freeform queries run (partner portals run persisted documents).
    pub fn scoped_token(
        &self,
        tenant: &str,
        role: &str,
        partner_id: Option<uuid::Uuid>,
        customer_id: Option<uuid::Uuid>,
    ) -> String {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs() as i64);
        let claims = atrium_gateway::auth::Claims {
            iss: "atrium-dev".to_owned(),
            aud: "atrium".to_owned(),
            sub: format!("{role}@{tenant}"),
            exp: now + 600,
            iat: now,
            tid: atrium_kit::demo::tenant_id(tenant),
            roles: vec![role.to_owned()],
            client_kind: Some("dashboard".to_owned()),
            partner_id,
            customer_id,
        };
        self.signing_key.issue(&claims).expect("token")
    }

    /// A dev token with a chosen lifetime (negative: already expired).
    pub fn token_with_ttl(&self, tenant: &str, roles: &[&str], ttl_seconds: i64) -> String {
        let roles: Vec<String> = roles.iter().map(|role| (*role).to_owned()).collect();
        self.signing_key
            .issue_for_demo("atrium-dev", "atrium", tenant, &roles, "dashboard", ttl_seconds)
            .expect("token")
    }

    /// POSTs a GraphQL request to the gateway with optional bearer token and extra headers.
    pub async fn post(&self, token: Option<&str>, body: Value, headers: &[(&str, &str)]) -> (u16, Value) {
        let mut request = self.client.post(&self.gateway_url).header("content-type", "application/json").json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("gateway answers");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or_else(|_| panic!("JSON body, got: {text}")))
    }

    pub async fn query(&self, token: &str, query: &str) -> Value {
        let (status, body) = self.post(Some(token), json!({ "query": query }), &[]).await;
        assert_eq!(status, 200, "{body:#}");
        body
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }
}

/// Where a running gateway answers.
#[derive(Debug, Clone)]
pub struct GatewayUrls {
    /// The public GraphQL endpoint.
    pub graphql: String,
    /// The internal listener's base URL (`/metrics`, `/internal/changes`), when it has one.
    pub internal: Option<String>,
}

/// Builds a gateway (on `listener` when given, else on its configured address), serves it
/// in the background and returns where it answers.
async fn serve_gateway(config: atrium_gateway::config::Config, listener: Option<std::net::TcpListener>) -> GatewayUrls {
    let gateway = match listener {
        Some(listener) => atrium_gateway::startup::Application::build_on(config, listener).await,
        None => atrium_gateway::startup::Application::build(config).await,
    }
    .expect("gateway starts");
    let urls = GatewayUrls {
        graphql: format!("http://127.0.0.1:{}/graphql", gateway.port()),
        internal: gateway.internal_port().map(|port| format!("http://127.0.0.1:{port}")),
    };
    tokio::spawn(gateway.run_until_stopped());
    urls
}

/// How the services of one stack exchange domain events (docs/domain.md#event-delivery):
/// on PostgreSQL through Redis Streams under a key prefix of their own (as in production;
/// Redis is required in CI), on SQLite through signed HTTP batches between the services
/// (as in `make run`), each service on a port reserved before any starts, so every
/// producer knows its subscribers' addresses.
enum EventWiring {
    Redis { url: String, key_prefix: String },
    Http { ports: Vec<(&'static str, u16)> },
}

impl EventWiring {
    async fn for_backend(backend: Backend) -> Self {
        if backend == Backend::Postgres
            && let Some(url) = atrium_kit::testing::redis_url().await
        {
            let key_prefix = format!("atrium-test-{}:", uuid::Uuid::new_v4().simple());
            return EventWiring::Redis { url, key_prefix };
        }
        let ports = SERVICES
            .iter()
            .map(|service| {
                // Bound and released at once: a port the system just handed out stays free
                // for the moment until the service binds it.
                let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("a service port");
                (*service, listener.local_addr().expect("service address").port())
            })
            .collect();
        EventWiring::Http { ports }
    }

    fn configure(&self, service: &str, config: &mut atrium_kit::service::ServiceConfig) {
        config.service_name = service.to_owned();
        config.events.poll_interval_ms = 50;
        match self {
            EventWiring::Redis { url, key_prefix } => {
                config.events.redis_url = Some(url.clone());
                config.events.key_prefix = key_prefix.clone();
            }
            EventWiring::Http { ports } => {
                let port_of = |name: &str| ports.iter().find(|(service, _)| *service == name).map(|(_, port)| *port);
                config.listen =
                    std::net::SocketAddr::from(([127, 0, 0, 1], port_of(service).expect("a reserved port")));
                config.events = std::mem::take(&mut config.events).with_local_default(service);
                for subscriber in config.events.subscribers.iter_mut().flatten() {
                    subscriber.url =
                        format!("http://127.0.0.1:{}", port_of(&subscriber.name).expect("a subscriber port"));
                }
            }
        }
    }
}

macro_rules! service_starter {
    ($function:ident, $crate_name:ident) => {
        async fn $function(urls: DatabaseUrls, changes_to: &str, events: &EventWiring) -> String {
            let mut config = atrium_kit::service::ServiceConfig::for_tests(urls.runtime, urls.owner);
            config.changes.gateway_url = Some(changes_to.to_owned());
            events.configure(stringify!($function).trim_start_matches("start_"), &mut config);
            let application = $crate_name::startup::build(&config)
                .await
                .unwrap_or_else(|error| panic!("{} starts: {error}", stringify!($crate_name)));
            let url = format!("http://127.0.0.1:{}/graphql", application.port());
            tokio::spawn(application.run_until_stopped());
            url
        }
    };
}

service_starter!(start_catalog, atrium_catalog);
service_starter!(start_delivery, atrium_delivery);
service_starter!(start_finance, atrium_finance);
service_starter!(start_support, atrium_support);
service_starter!(start_analytics, atrium_analytics);
