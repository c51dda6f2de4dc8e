//! CORS for partner portals on their own origins (`[cors]`): preflights from a tenant's
//! portal are answered without authentication and others refused; a request from the
//! caller's own portal gets its exact origin echoed; a request carrying one tenant's token
//! from another tenant's portal is refused before anything reaches a subgraph; without a
//! `[cors]` section no CORS header is ever sent. Both `/graphql` and `/admin/graphql`.

use atrium_system_tests::{Backend, Stack};
use reqwest::{Method, header::HeaderMap};
use serde_json::{Value, json};

const RIDGELINE_PORTAL: &str = "https://portal.ridgeline.example";
const HELIX_PORTAL: &str = "https://partners.helix.example:8443";
const QUERY: &str = "{ tenant { name } }";

fn portals(config: &mut atrium_gateway::config::Config) {
    config.cors = serde_json::from_value(json!({
        "tenants": [
            { "tenant": "ridgeline", "origins": [RIDGELINE_PORTAL] },
            { "tenant": atrium_kit::demo::tenant_id("helix").to_string(), "origins": [HELIX_PORTAL] },
        ],
    }))
    .expect("cors config");
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

/// Whether `Vary` (in any of its header lines) names `name`.
fn varies_on(headers: &HeaderMap, name: &str) -> bool {
    headers
        .get_all("vary")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|varied| varied.trim().eq_ignore_ascii_case(name))
}

fn admin_url(graphql_url: &str) -> String {
    graphql_url.replace("/graphql", "/admin/graphql")
}

async fn preflight(stack: &Stack, url: &str, origin: &str) -> (u16, HeaderMap) {
    let response = stack
        .client()
        .request(Method::OPTIONS, url)
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "authorization, content-type")
        .send()
        .await
        .expect("gateway answers");
    (response.status().as_u16(), response.headers().clone())
}

async fn post_from(stack: &Stack, url: &str, origin: &str, token: &str, query: &str) -> (u16, HeaderMap, Value) {
    let response = stack
        .client()
        .post(url)
        .header("origin", origin)
        .header("content-type", "application/json")
        .bearer_auth(token)
        .json(&json!({ "query": query }))
        .send()
        .await
        .expect("gateway answers");
    let (status, headers) = (response.status().as_u16(), response.headers().clone());
    (status, headers, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preflight_from_a_tenants_portal_is_answered_without_authentication() {
    let Some(stack) = Stack::start(Backend::Sqlite).await else { return };
    let gateway = stack.start_gateway(portals).await;
    for url in [gateway.clone(), admin_url(&gateway)] {
        for origin in [RIDGELINE_PORTAL, HELIX_PORTAL] {
            let (status, headers) = preflight(&stack, &url, origin).await;
            assert_eq!(status, 204, "{url} from {origin}");
            assert_eq!(header(&headers, "access-control-allow-origin"), Some(origin), "{url}");
            let methods = header(&headers, "access-control-allow-methods").unwrap_or_default();
            assert!(methods.contains("POST") && methods.contains("GET"), "{methods}");
            let allowed = header(&headers, "access-control-allow-headers").unwrap_or_default();
            assert!(allowed.contains("authorization") && allowed.contains("content-type"), "{allowed}");
            assert_eq!(header(&headers, "access-control-max-age"), Some("600"));
            assert_eq!(header(&headers, "access-control-allow-credentials"), None, "credentials are off by default");
            assert!(varies_on(&headers, "origin"), "{headers:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preflight_from_an_origin_of_no_tenant_is_refused() {
    let Some(stack) = Stack::start(Backend::Sqlite).await else { return };
    let gateway = stack.start_gateway(portals).await;
    for url in [gateway.clone(), admin_url(&gateway)] {
        // Same host, other scheme or port: origins match exactly or not at all.
        for origin in
            ["https://evil.example", "http://portal.ridgeline.example", "https://portal.ridgeline.example:444"]
        {
            let (status, headers) = preflight(&stack, &url, origin).await;
            assert_eq!(status, 403, "{url} from {origin}");
            assert_eq!(header(&headers, "access-control-allow-origin"), None, "{url} from {origin}");
            assert_eq!(header(&headers, "access-control-allow-methods"), None, "{url} from {origin}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_from_the_callers_own_portal_gets_its_origin_echoed() {
    let Some(stack) = Stack::start(Backend::Sqlite).await else { return };
    let gateway = stack.start_gateway(portals).await;
    let ridgeline = stack.token("ridgeline", &["csm"]);
    let (status, headers, body) = post_from(&stack, &gateway, RIDGELINE_PORTAL, &ridgeline, QUERY).await;
    assert_eq!(status, 200, "{body:#}");
    assert_eq!(body["data"]["tenant"]["name"], "Ridgeline Business Systems", "{body:#}");
    assert_eq!(header(&headers, "access-control-allow-origin"), Some(RIDGELINE_PORTAL));
    assert!(varies_on(&headers, "origin") && varies_on(&headers, "authorization"), "{headers:?}");
    let exposed = header(&headers, "access-control-expose-headers").unwrap_or_default();
    assert!(exposed.contains("retry-after"), "{exposed}");

    let (status, headers, body) =
        post_from(&stack, &admin_url(&gateway), RIDGELINE_PORTAL, &ridgeline, "{ __typename }").await;
    assert_eq!(status, 200, "{body:#}");
    assert_eq!(header(&headers, "access-control-allow-origin"), Some(RIDGELINE_PORTAL), "admin endpoint");

    // An answer a portal cannot act on is still readable by it: the 401 that sends the
    // user to sign in again.
    let (status, headers, _) = post_from(&stack, &gateway, RIDGELINE_PORTAL, "not-a-token", QUERY).await;
    assert_eq!(status, 401);
    assert_eq!(header(&headers, "access-control-allow-origin"), Some(RIDGELINE_PORTAL));

    // An origin of no tenant (a script, the gateway's own GraphiQL) is served as before,
    // with no CORS allowance: the browser decides.
    let (status, headers, body) = post_from(&stack, &gateway, "https://elsewhere.example", &ridgeline, QUERY).await;
    assert_eq!(status, 200, "{body:#}");
    assert_eq!(header(&headers, "access-control-allow-origin"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_from_another_tenants_portal_is_refused_before_it_runs() {
    let Some(stack) = Stack::start(Backend::Sqlite).await else { return };
    let (proxies, calls) = stack.recording_proxies().await;
    let gateway = stack
        .start_gateway(|config| {
            portals(config);
            config.subgraph_urls = proxies;
        })
        .await;
    let ridgeline = stack.token("ridgeline", &["csm"]);
    let ridgeline_admin = stack.token("ridgeline", &["tenant_admin"]);
    for (url, token, query) in [
        (gateway.clone(), &ridgeline, QUERY),
        (admin_url(&gateway), &ridgeline_admin, "{ persistedDocuments { version } }"),
    ] {
        let (status, headers, body) = post_from(&stack, &url, HELIX_PORTAL, token, query).await;
        assert_eq!(status, 403, "{url}: {body:#}");
        assert_eq!(body["errors"][0]["extensions"]["code"], "ORIGIN_NOT_ALLOWED", "{body:#}");
        assert_eq!(header(&headers, "access-control-allow-origin"), None, "{url}");
    }
    let response = stack
        .client()
        .get(format!("{gateway}?query=%7B%20tenant%20%7B%20name%20%7D%20%7D"))
        .header("origin", HELIX_PORTAL)
        .bearer_auth(&ridgeline)
        .send()
        .await
        .expect("gateway answers");
    assert_eq!(response.status().as_u16(), 403, "GET");
    assert_eq!(calls.count_and_reset(), 0, "nothing reached a subgraph");

    // The same token from its own portal runs.
    let (status, _, body) = post_from(&stack, &gateway, RIDGELINE_PORTAL, &ridgeline, QUERY).await;
    assert_eq!(status, 200, "{body:#}");
    assert!(calls.count_and_reset() > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_cors_section_the_gateway_sends_no_cors_headers() {
    let Some(stack) = Stack::start(Backend::Sqlite).await else { return };
    for url in [stack.gateway_url.clone(), admin_url(&stack.gateway_url)] {
        let (status, headers) = preflight(&stack, &url, RIDGELINE_PORTAL).await;
        assert_ne!(status, 204, "{url}");
        assert!(headers.keys().all(|name| !name.as_str().starts_with("access-control-")), "{url}: {headers:?}");
    }
    let ridgeline = stack.token("ridgeline", &["csm"]);
    let (status, headers, body) = post_from(&stack, &stack.gateway_url, RIDGELINE_PORTAL, &ridgeline, QUERY).await;
    assert_eq!(status, 200, "{body:#}");
    assert!(headers.keys().all(|name| !name.as_str().starts_with("access-control-")), "{headers:?}");
}
