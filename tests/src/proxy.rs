//! Recording proxies between a gateway and the subgraphs: every subgraph call is recorded
//! (subgraph name and body) and forwarded unchanged, so tests can prove what reached — or
//! never reached — a subgraph.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};

use crate::Stack;

/// The calls the proxies saw, in arrival order: `(subgraph, body)`.
#[derive(Clone, Default)]
pub struct SubgraphCalls(Arc<Mutex<Vec<(String, String)>>>);

impl SubgraphCalls {
    /// The calls since the last `take`, emptying the record.
    pub fn take(&self) -> Vec<(String, String)> {
        self.0.lock().map(|mut calls| std::mem::take(&mut *calls)).unwrap_or_default()
    }

    /// How many calls since the last `take`/`count_and_reset`, emptying the record.
    pub fn count_and_reset(&self) -> usize {
        self.take().len()
    }
}

struct ProxyTarget {
    subgraph: String,
    url: String,
    calls: SubgraphCalls,
    client: reqwest::Client,
}

impl Stack {
    /// One proxy per subgraph of this stack; returns the URLs to put in a gateway's
    /// `subgraph_urls` and the shared call record.
    pub async fn recording_proxies(&self) -> (BTreeMap<String, String>, SubgraphCalls) {
        let calls = SubgraphCalls::default();
        let mut urls = BTreeMap::new();
        for (name, url) in &self.subgraph_urls {
            let target = Arc::new(ProxyTarget {
                subgraph: (*name).to_owned(),
                url: url.clone(),
                calls: calls.clone(),
                client: reqwest::Client::new(),
            });
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
            let address = listener.local_addr().expect("address");
            let router = Router::new().fallback(forward).with_state(target);
            tokio::spawn(async move { axum::serve(listener, router).await });
            urls.insert((*name).to_owned(), format!("http://{address}/graphql"));
        }
        (urls, calls)
    }
}

async fn forward(State(target): State<Arc<ProxyTarget>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Ok(mut calls) = target.calls.0.lock() {
        calls.push((target.subgraph.clone(), String::from_utf8_lossy(&body).into_owned()));
    }
    let mut request = target.client.post(&target.url).body(body);
    for name in [header::CONTENT_TYPE.as_str(), header::ACCEPT.as_str(), atrium_kit::CONTEXT_HEADER] {
        if let Some(value) = headers.get(name) {
            request = request.header(name, value);
        }
    }
    match request.send().await {
        Ok(response) => {
            let status = response.status();
            let content_type = response.headers().get(header::CONTENT_TYPE).cloned();
            let body = response.bytes().await.unwrap_or_default();
            let mut reply = (status, body).into_response();
            if let Some(content_type) = content_type {
                reply.headers_mut().insert(header::CONTENT_TYPE, content_type);
            }
            reply
        }
        Err(_) => StatusCode::BAD_GATEWAY.into_response(),
    }
}
