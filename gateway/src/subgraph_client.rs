//! Outbound HTTP to subgraphs: one pooled keep-alive client for the process, and a
//! per-request transport that stamps the gateway-signed tenant context on every fetch.
//! No client header is ever forwarded, so an inbound copy of the internal context header
//! (or any `x-tenant-id`) cannot reach a subgraph.

use std::{collections::HashMap, sync::Arc, time::Duration};

use atrium_kit::CONTEXT_HEADER;
use bytes::Bytes;
use futures::future::BoxFuture;
use http_body_util::{BodyExt, Full};
use hyper::{Request, header};
use hyper_util::{
    client::legacy::{Client, connect::HttpConnector},
    rt::TokioExecutor,
};

use crate::engine::{SubgraphTransport, TransportError};

/// Largest subgraph response accepted, so one misbehaving subgraph cannot exhaust memory.
const MAX_RESPONSE_BYTES: usize = 32 * 1024 * 1024;

pub struct SubgraphClient {
    client: Client<HttpConnector, Full<Bytes>>,
    urls: HashMap<String, hyper::Uri>,
    timeout: Duration,
}

impl SubgraphClient {
    pub fn new(urls: HashMap<String, hyper::Uri>, timeout: Duration) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_keepalive(Some(Duration::from_secs(60)));
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .pool_max_idle_per_host(64)
            .build(connector);
        SubgraphClient { client, urls, timeout }
    }

    /// A transport for one client request, carrying that request's signed context.
    pub fn for_request(self: &Arc<Self>, signed_context: String) -> TenantBoundTransport {
        TenantBoundTransport { client: self.clone(), signed_context }
    }

    async fn post(&self, subgraph: &str, body: Bytes, signed_context: &str) -> Result<Bytes, TransportError> {
        let failure = |message: String| TransportError { message };
        let uri = self.urls.get(subgraph).ok_or_else(|| failure(format!("no URL for subgraph `{subgraph}`")))?;
        let request = Request::post(uri.clone())
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, "application/graphql-response+json, application/json")
            .header(CONTEXT_HEADER, signed_context)
            .body(Full::new(body))
            .map_err(|error| failure(format!("building request to `{subgraph}`: {error}")))?;
        let exchange = async {
            let response =
                self.client.request(request).await.map_err(|error| failure(format!("`{subgraph}`: {error}")))?;
            let status = response.status();
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
                Err(failure(format!("`{subgraph}` answered HTTP {status} without a GraphQL body")))
            }
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| failure(format!("`{subgraph}` did not answer within {:?}", self.timeout)))?
    }
}

pub struct TenantBoundTransport {
    client: Arc<SubgraphClient>,
    signed_context: String,
}

impl SubgraphTransport for TenantBoundTransport {
    fn fetch<'a>(&'a self, subgraph: &'a str, body: Bytes) -> BoxFuture<'a, Result<Bytes, TransportError>> {
        Box::pin(self.client.post(subgraph, body, &self.signed_context))
    }
}
