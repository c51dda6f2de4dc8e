//! Outbound HTTP to subgraphs: one pooled keep-alive client for the process, and a
//! per-request transport that stamps the gateway-signed tenant context on every fetch.
//! No client header is ever forwarded, so an inbound copy of the internal context header
//! (or any `x-tenant-id`) cannot reach a subgraph.
//!
//! Identical queries in flight to the same subgraph under the same signed context are
//! sent once (`in_flight`); connections are kept alive, idle ones are capped per host and
//! requests in flight per subgraph are bounded, so a burst queues instead of opening
//! sockets without limit.
//!
//! `https` subgraph URLs go over rustls, verified and identified as `crate::subgraph_tls`
//! configures (for every subgraph, or per subgraph); `http` URLs stay plain.

use std::{collections::HashMap, sync::Arc, time::Duration};

use atrium_contract::CONTEXT_HEADER;
use bytes::Bytes;
use futures::future::BoxFuture;
use http_body_util::{BodyExt, Full};
use hyper::{Request, header};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::{
    client::legacy::{Client, connect::HttpConnector},
    rt::TokioExecutor,
};

use tracing::Instrument as _;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use crate::in_flight::{InFlight, TaskFailure};
use crate::{
    engine::{SubgraphTransport, TransportError},
    subgraph_tls::{SubgraphTlsConfig, SubgraphTlsError, TlsSettings},
    telemetry::{FetchCaller, FetchMetrics},
};

/// Largest subgraph response accepted, so one misbehaving subgraph cannot exhaust memory.
const MAX_RESPONSE_BYTES: usize = 32 * 1024 * 1024;
/// Requests in flight to one subgraph at a time; more wait (within the timeout) for a slot.
const MAX_IN_FLIGHT_PER_SUBGRAPH: usize = 512;
/// Idle keep-alive connections kept per subgraph host.
const MAX_IDLE_PER_HOST: usize = 128;

/// What makes two subgraph fetches interchangeable: the same subgraph would receive
/// byte-identical requests, under the same signed tenant context.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct FetchKey {
    pub subgraph: Arc<str>,
    pub signed_context: Arc<str>,
    pub body: Bytes,
}

impl TaskFailure for Result<Bytes, TransportError> {
    fn task_failed(message: String) -> Self {
        Err(TransportError::new(message))
    }
}

/// A pooled client for `http` and `https` URLs under one set of TLS settings.
type PooledClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

pub struct SubgraphClient {
    urls: HashMap<String, Endpoint>,
    timeout: Duration,
    in_flight: Option<Arc<InFlight<FetchKey, Result<Bytes, TransportError>>>>,
    metrics: Option<FetchMetrics>,
}

struct Endpoint {
    name: Arc<str>,
    uri: hyper::Uri,
    slots: tokio::sync::Semaphore,
    /// Shared by every subgraph with the same TLS settings.
    client: PooledClient,
}

impl SubgraphClient {
    /// A client for `urls` (subgraph name → URL), with TLS for `https` URLs as `tls` says.
    pub fn new(
        urls: HashMap<String, hyper::Uri>,
        timeout: Duration,
        tls: &SubgraphTlsConfig,
    ) -> Result<Self, SubgraphTlsError> {
        if let Some(unknown) = tls.per_subgraph.keys().find(|name| !urls.contains_key(*name)) {
            return Err(SubgraphTlsError::UnknownSubgraph(unknown.clone()));
        }
        let mut clients: Vec<(TlsSettings, PooledClient)> = Vec::new();
        let mut endpoints = HashMap::new();
        for (name, uri) in urls {
            let settings = tls.settings_for(&name);
            let client = match clients.iter().find(|(known, _)| *known == settings) {
                Some((_, client)) => client.clone(),
                None => {
                    let client = pooled_client(&settings)?;
                    clients.push((settings, client.clone()));
                    client
                }
            };
            let endpoint = Endpoint {
                name: name.as_str().into(),
                uri,
                slots: tokio::sync::Semaphore::new(MAX_IN_FLIGHT_PER_SUBGRAPH),
                client,
            };
            endpoints.insert(name, endpoint);
        }
        Ok(SubgraphClient { urls: endpoints, timeout, in_flight: Some(Arc::default()), metrics: None })
    }

    /// Records fetch latency and failures per subgraph.
    pub fn with_metrics(mut self, metrics: FetchMetrics) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// Turns the de-duplication of identical in-flight queries on (the default) or off.
    pub fn with_deduplication(mut self, enabled: bool) -> Self {
        self.in_flight = enabled.then(Arc::default);
        self
    }

    /// A transport for one client request, carrying that request's signed context.
    pub fn for_request(self: &Arc<Self>, signed_context: String) -> TenantBoundTransport {
        TenantBoundTransport {
            client: self.clone(),
            signed_context: signed_context.into(),
            caller: None,
            entity_cache: None,
        }
    }

    /// Sends the fetch, or joins an identical query already in flight under the same
    /// signed context. Mutations are always sent.
    async fn fetch(
        self: &Arc<Self>,
        subgraph: &str,
        body: Bytes,
        signed_context: &Arc<str>,
    ) -> Result<Bytes, TransportError> {
        let (Some(in_flight), Some(endpoint)) = (&self.in_flight, self.urls.get(subgraph)) else {
            return self.post(subgraph, body, signed_context).await;
        };
        if !is_query(&body) {
            return self.post(subgraph, body, signed_context).await;
        }
        let key = FetchKey { subgraph: Arc::clone(&endpoint.name), signed_context: Arc::clone(signed_context), body };
        let client = Arc::clone(self);
        let (subgraph, body, signed_context) =
            (Arc::clone(&key.subgraph), key.body.clone(), Arc::clone(signed_context));
        // The fetch runs in its own task: it keeps the fetch span, whose id it sends on.
        in_flight.run(key, async move { client.post(&subgraph, body, &signed_context).await }.in_current_span()).await
    }

    async fn post(&self, subgraph: &str, body: Bytes, signed_context: &str) -> Result<Bytes, TransportError> {
        let failure = |message: String| TransportError { message };
        let endpoint = self.urls.get(subgraph).ok_or_else(|| failure(format!("no URL for subgraph `{subgraph}`")))?;
        let mut request = Request::post(endpoint.uri.clone())
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, "application/graphql-response+json, application/json")
            .header(CONTEXT_HEADER, signed_context)
            .body(Full::new(body))
            .map_err(|error| failure(format!("building request to `{subgraph}`: {error}")))?;
        let fetch_span = tracing::Span::current();
        atrium_contract::telemetry::inject_context(&fetch_span.context(), request.headers_mut());
        let exchange = async {
            let _slot = endpoint.slots.acquire().await.map_err(|_| failure(format!("`{subgraph}` client closed")))?;
            let response = endpoint.client.request(request).await.map_err(|error| {
                // The handshake's reason (unknown issuer, certificate required) is in the source chain.
                let reason = std::error::Error::source(&error).map(|source| format!(": {source}")).unwrap_or_default();
                failure(format!("`{subgraph}`: {error}{reason}"))
            })?;
            let status = response.status();
            fetch_span.record("http.response.status_code", i64::from(status.as_u16()));
            let body = http_body_util::Limited::new(response.into_body(), MAX_RESPONSE_BYTES)
                .collect()
                .await
                .map_err(|error| failure(format!("reading `{subgraph}` response: {error}")))?
                .to_bytes();
            // GraphQL responses come with 200 or 400 (request errors still carry a JSON
            // body with `errors`); anything else that is not JSON is a transport failure.
            if body.first() == Some(&b'{') {
                Ok(body)
            } else {
                // The subgraph's own words go to the gateway's log, never to the client.
                let excerpt = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
                Err(failure(format!("`{subgraph}` answered HTTP {status} without a GraphQL body: {excerpt}")))
            }
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| failure(format!("`{subgraph}` did not answer within {:?}", self.timeout)))?
    }
}

/// Keep-alive connections for `http` and `https` URLs, verified and identified by `settings`.
fn pooled_client(settings: &TlsSettings) -> Result<PooledClient, SubgraphTlsError> {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    connector.set_keepalive(Some(Duration::from_secs(60)));
    // The TLS layer on top handles the `https` scheme.
    connector.enforce_http(false);
    let connector = HttpsConnectorBuilder::new()
        .with_tls_config(settings.client_config()?)
        .https_or_http()
        .enable_http1()
        .wrap_connector(connector);
    Ok(Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(90))
        .pool_max_idle_per_host(MAX_IDLE_PER_HOST)
        .build(connector))
}

pub struct TenantBoundTransport {
    client: Arc<SubgraphClient>,
    signed_context: Arc<str>,
    caller: Option<FetchCaller>,
    entity_cache: Option<Arc<dyn crate::engine::EntityCache>>,
}

impl TenantBoundTransport {
    /// Names the caller (tenant, client kind) on this request's fetch spans.
    pub fn with_caller(mut self, context: &atrium_contract::TenantContext) -> Self {
        self.caller = Some(FetchCaller::of(context));
        self
    }

    /// Lets this request's entity fetches reuse (and fill) the caller's entity cache.
    pub fn with_entity_cache(mut self, cache: Option<Arc<dyn crate::engine::EntityCache>>) -> Self {
        self.entity_cache = cache;
        self
    }
}

impl SubgraphTransport for TenantBoundTransport {
    fn fetch<'a>(&'a self, subgraph: &'a str, body: Bytes) -> BoxFuture<'a, Result<Bytes, TransportError>> {
        let url = self.client.urls.get(subgraph).map(|endpoint| &endpoint.uri);
        let span = crate::telemetry::fetch_span(subgraph, url, self.caller);
        let fetch = self.client.fetch(subgraph, body, &self.signed_context);
        Box::pin(crate::telemetry::observe_fetch(self.client.metrics.as_ref(), subgraph, span, fetch))
    }

    fn entity_cache(&self) -> Option<&dyn crate::engine::EntityCache> {
        self.entity_cache.as_deref()
    }
}

/// Whether a subgraph request body (`{"query":"...` as the executor writes it) holds a
/// query rather than a mutation; anything unrecognised counts as not a query.
fn is_query(body: &[u8]) -> bool {
    let Some(operation) = body.strip_prefix(br#"{"query":""#) else { return false };
    let start = operation.iter().position(|byte| !byte.is_ascii_whitespace()).unwrap_or(operation.len());
    let operation = &operation[start..];
    operation.starts_with(b"{") || operation.starts_with(b"query")
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::{Router, http::HeaderMap, routing::post};
    use tokio::sync::Barrier;

    use super::*;

    /// A subgraph answering with the tenant context it received; each request waits at
    /// `barrier` so that the requests under test are in flight together.
    async fn echo_subgraph(calls: Arc<AtomicUsize>, barrier: Arc<Barrier>) -> hyper::Uri {
        let router = Router::new().route(
            "/graphql",
            post(move |headers: HeaderMap| {
                let (calls, barrier) = (Arc::clone(&calls), Arc::clone(&barrier));
                async move {
                    calls.fetch_add(1, Ordering::SeqCst);
                    barrier.wait().await;
                    let context = headers.get(CONTEXT_HEADER).and_then(|value| value.to_str().ok()).unwrap_or("");
                    format!(r#"{{"data":{{"context":"{context}"}}}}"#)
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move { axum::serve(listener, router).await });
        format!("http://127.0.0.1:{port}/graphql").parse().unwrap()
    }

    fn client(uri: hyper::Uri) -> Arc<SubgraphClient> {
        let urls = HashMap::from([("products".to_owned(), uri)]);
        Arc::new(SubgraphClient::new(urls, Duration::from_secs(10), &SubgraphTlsConfig::default()).unwrap())
    }

    const QUERY: &[u8] = br#"{"query":"{topProducts{upc}}"}"#;

    #[tokio::test]
    async fn identical_queries_of_two_tenants_each_reach_the_subgraph_with_their_own_context() {
        let calls = Arc::new(AtomicUsize::new(0));
        // Both requests must be at the subgraph at the same time to pass the barrier: had
        // they been merged, the single request would wait until the client's timeout.
        let client = client(echo_subgraph(Arc::clone(&calls), Arc::new(Barrier::new(2))).await);
        let (tenant_a, tenant_b) = (client.for_request("context-a".into()), client.for_request("context-b".into()));
        let (a, b) = tokio::join!(
            tenant_a.fetch("products", Bytes::from_static(QUERY)),
            tenant_b.fetch("products", Bytes::from_static(QUERY)),
        );
        assert_eq!(a.unwrap(), Bytes::from_static(br#"{"data":{"context":"context-a"}}"#));
        assert_eq!(b.unwrap(), Bytes::from_static(br#"{"data":{"context":"context-b"}}"#));
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    // Single-threaded: all eight fetches are started before the subgraph can answer one.
    #[tokio::test]
    async fn identical_queries_under_one_context_in_flight_together_reach_the_subgraph_once() {
        let calls = Arc::new(AtomicUsize::new(0));
        let client = client(echo_subgraph(Arc::clone(&calls), Arc::new(Barrier::new(1))).await);
        let transports: Vec<_> = (0..8).map(|_| client.for_request("context-a".into())).collect();
        let answers = futures::future::join_all(
            transports.iter().map(|transport| transport.fetch("products", Bytes::from_static(QUERY))),
        )
        .await;
        for answer in answers {
            assert_eq!(answer.unwrap(), Bytes::from_static(br#"{"data":{"context":"context-a"}}"#));
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn mutations_are_never_merged() {
        let calls = Arc::new(AtomicUsize::new(0));
        let client = client(echo_subgraph(Arc::clone(&calls), Arc::new(Barrier::new(2))).await);
        let transport = client.for_request("context-a".into());
        let mutation = Bytes::from_static(br#"{"query":"mutation{archive(id:\"1\")}"}"#);
        let (first, second) =
            tokio::join!(transport.fetch("products", mutation.clone()), transport.fetch("products", mutation));
        assert!(first.is_ok() && second.is_ok());
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn tls_settings_for_a_subgraph_the_supergraph_lacks_are_refused() {
        let urls = HashMap::from([("products".to_owned(), hyper::Uri::from_static("https://products/graphql"))]);
        let tls: SubgraphTlsConfig = toml::from_str("[per_subgraph.prodcuts]").unwrap();
        let refused = SubgraphClient::new(urls, Duration::from_secs(1), &tls).err();
        assert!(matches!(refused, Some(SubgraphTlsError::UnknownSubgraph(name)) if name == "prodcuts"));
    }

    #[test]
    fn only_query_bodies_count_as_queries() {
        assert!(is_query(br#"{"query":"{a}"}"#));
        assert!(is_query(br#"{"query":"query($representations:[_Any!]!){_entities}"}"#));
        assert!(!is_query(br#"{"query":"mutation{a}"}"#));
        assert!(!is_query(br#"{"query":"subscription{a}"}"#));
        assert!(!is_query(br#"{"variables":{},"query":"{a}"}"#));
    }
}
