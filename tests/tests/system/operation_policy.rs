//! The gateway's operation policy end to end: every limit answers with its status and
//! `extensions.code` before any subgraph is called (a counting proxy sits between the
//! gateway and the subgraphs), CSRF and GET rules, batch rejection, cost reporting,
//! introspection in the production profile, and masked subgraph errors.

use atrium_gateway::{
    config::{Config, Profile},
    policy::{CostMode, MASKED_SUBGRAPH_MESSAGE},
};
use atrium_system_tests::{Backend, Stack, SubgraphCalls};
use axum::{Router, http::HeaderMap};
use base64::Engine as _;
use serde_json::{Value, json};

use crate::portal_query::PORTAL_QUERY;

async fn serve(router: Router) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, router).await });
    address
}

/// The stack plus one more gateway, configured by `configure`, whose subgraph calls are
/// counted.
async fn counted_gateway(configure: impl FnOnce(&mut Config)) -> (Stack, String, SubgraphCalls) {
    let stack = Stack::start(Backend::Sqlite).await.expect("sqlite stack");
    let (proxy_urls, counter) = stack.recording_proxies().await;
    let url = stack
        .start_gateway(|config| {
            config.subgraph_urls = proxy_urls;
            configure(config);
        })
        .await;
    (stack, url, counter)
}

/// POSTs `body` as JSON with a bearer token; returns status, headers and JSON body.
async fn post(stack: &Stack, url: &str, token: &str, body: Value, headers: &[(&str, &str)]) -> (u16, HeaderMap, Value) {
    let mut request = stack.client().post(url).bearer_auth(token).json(&body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    read(request).await
}

async fn read(request: reqwest::RequestBuilder) -> (u16, HeaderMap, Value) {
    let response = request.send().await.expect("gateway answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    (status, headers, serde_json::from_str(&text).unwrap_or_else(|_| panic!("JSON body, got: {text}")))
}

/// `url?query=<document>`, percent-encoded.
fn with_query(url: &str, document: &str) -> String {
    let encoded: String = document
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => char::from(byte).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect();
    format!("{url}?query={encoded}")
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"].as_str().unwrap_or_default()
}

fn nested_fields(levels: usize) -> String {
    format!("{{ {}id{} }}", "a { ".repeat(levels - 1), " }".repeat(levels - 1))
}

/// 1 + 100 accounts x (1 + invoices 1 + 100 invoices x 1) = 10,201 > the default 5,000.
const EXPENSIVE_QUERY: &str =
    "{ customerAccounts(first: 100) { nodes { invoices(first: 100) { nodes { number } } } } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_limit_rejects_with_its_code_before_any_subgraph_is_called() {
    let (stack, url, counter) = counted_gateway(|config| {
        config.policy.cost.mode = CostMode::Enforce;
        config.policy.clients.service.max_depth = Some(20);
    })
    .await;
    let token = stack.token("ridgeline", &["csm"]);

    // The counter sees what reaches subgraphs.
    let (status, _, body) = post(&stack, &url, &token, json!({ "query": "{ tenant { name } }" }), &[]).await;
    assert_eq!((status, &body["data"]["tenant"]["name"]), (200, &json!("Ridgeline Business Systems")), "{body}");
    assert!(counter.count_and_reset() > 0);

    let aliases = format!("{{ tenant {{ {} }} }}", (0..31).map(|index| format!("a{index}: name ")).collect::<String>());
    let root_fields = format!("{{ {} }}", "__typename ".repeat(21));
    let tokens = format!("{{ tenant {{ {} }} }}", "name ".repeat(15_000));
    let cases = [
        (nested_fields(16), "MAX_DEPTH_EXCEEDED"),
        (aliases, "MAX_ALIASES_EXCEEDED"),
        (root_fields, "MAX_ROOT_FIELDS_EXCEEDED"),
        (tokens, "MAX_TOKENS_EXCEEDED"),
        (EXPENSIVE_QUERY.to_owned(), "COST_ESTIMATED_TOO_EXPENSIVE"),
    ];
    for (query, expected) in &cases {
        let (status, _, body) = post(&stack, &url, &token, json!({ "query": query }), &[]).await;
        assert_eq!((status, code(&body)), (400, *expected), "{body}");
        assert!(body.get("data").is_none(), "{body}");
        // Under the legacy media type the spec keeps 200 for GraphQL-level rejections.
        let (status, _, body) =
            post(&stack, &url, &token, json!({ "query": query }), &[("accept", "application/json")]).await;
        assert_eq!((status, code(&body)), (200, *expected), "{body}");
    }
    assert_eq!(counter.count_and_reset(), 0, "no limit may let a request reach a subgraph");

    // The limits are per client kind: service clients are configured to nest 20 deep here,
    // so the same document gets past the policy and fails validation instead (these
    // fields do not exist).
    let service_token = stack.token_for_client("ridgeline", &["csm"], "service");
    let (status, _, body) = post(&stack, &url, &service_token, json!({ "query": nested_fields(16) }), &[]).await;
    assert_eq!((status, code(&body)), (400, "GRAPHQL_VALIDATION_FAILED"), "{body}");
    assert_eq!(counter.count_and_reset(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn size_limits_batches_csrf_and_get_mutations_are_refused_before_any_subgraph_is_called() {
    let (stack, url, counter) = counted_gateway(|_| {}).await;
    let token = stack.token("ridgeline", &["csm"]);
    let client = stack.client();

    let padding = "x".repeat(2 * 1024 * 1024);
    let (status, _, body) =
        post(&stack, &url, &token, json!({ "query": "{ tenant { name } }", "extensions": { "pad": padding } }), &[])
            .await;
    assert_eq!((status, code(&body)), (413, "PAYLOAD_TOO_LARGE"), "{body}");

    let big_header = "y".repeat(65 * 1024);
    let (status, _, body) =
        post(&stack, &url, &token, json!({ "query": "{ tenant { name } }" }), &[("x-filler", &big_header)]).await;
    assert_eq!((status, code(&body)), (431, "REQUEST_HEADER_FIELDS_TOO_LARGE"), "{body}");

    let batch = json!([{ "query": "{ tenant { name } }" }, { "query": "{ tenant { name } }" }]);
    let (status, _, body) = post(&stack, &url, &token, batch, &[]).await;
    assert_eq!((status, code(&body)), (400, "BATCHING_NOT_SUPPORTED"), "{body}");

    // What a foreign page can send without a preflight: a text body, a plain GET.
    let form_post = client.post(&url).header("content-type", "text/plain").body(r#"{"query":"{ tenant { name } }"}"#);
    let (status, _, body) = read(form_post).await;
    assert_eq!((status, code(&body)), (400, "CSRF_PREVENTED"), "{body}");
    let plain_get = client.get(with_query(&url, "{ tenant { name } }"));
    let (status, _, body) = read(plain_get).await;
    assert_eq!((status, code(&body)), (400, "CSRF_PREVENTED"), "{body}");
    // A preflight header gets past CSRF (then authentication decides).
    let preflighted = client.get(with_query(&url, "{ tenant { name } }")).header("x-atrium-preflight", "1");
    let (status, _, body) = read(preflighted).await;
    assert_eq!((status, code(&body)), (401, "UNAUTHENTICATED"), "{body}");

    // The schema has no mutations; GET still answers 405 from the document alone.
    let get_mutation = client.get(with_query(&url, "mutation { renameTenant }")).bearer_auth(&token);
    let (status, headers, body) = read(get_mutation).await;
    assert_eq!(status, 405, "{body}");
    assert_eq!(headers.get("allow").and_then(|value| value.to_str().ok()), Some("POST"));
    assert_eq!(counter.count_and_reset(), 0, "no rejected request may reach a subgraph");

    let get_query = client.get(with_query(&url, "{ tenant { name } }")).bearer_auth(&token);
    let (status, _, body) = read(get_query).await;
    assert_eq!((status, &body["data"]["tenant"]["name"]), (200, &json!("Ridgeline Business Systems")), "{body}");
    assert!(counter.count_and_reset() > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn measure_mode_reports_the_cost_in_extensions_without_rejecting() {
    let stack = Stack::start(Backend::Sqlite).await.expect("sqlite stack");
    let token = stack.token("ridgeline", &["csm"]);
    // Rate limits charge by cost too; without them, only the cost policy speaks here.
    let url = stack.start_gateway(|config| config.rate_limits.enabled = false).await;
    let (status, _, body) = post(&stack, &url, &token, json!({ "query": EXPENSIVE_QUERY }), &[]).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["data"]["customerAccounts"]["nodes"].is_array(), "{body}");
    assert_eq!(body["extensions"]["cost"], json!({ "estimated": 10_201, "max": 5_000, "mode": "measure" }));

    // The portal query fits the default budget with room to spare.
    let (status, _, body) = post(&stack, &url, &token, json!({ "query": PORTAL_QUERY }), &[]).await;
    assert_eq!(status, 200, "{body}");
    let estimated = body["extensions"]["cost"]["estimated"].as_u64().expect("cost reported");
    assert!(estimated > 0 && estimated <= 5_000, "portal query costs {estimated}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn introspection_is_disabled_in_the_production_profile() {
    let stack = Stack::start(Backend::Sqlite).await.expect("sqlite stack");
    let token = stack.token("ridgeline", &["csm"]);
    let introspection = json!({ "query": "{ __schema { queryType { name } } }" });
    let (status, body) = stack.post(Some(&token), introspection.clone(), &[]).await;
    assert_eq!((status, &body["data"]["__schema"]["queryType"]["name"]), (200, &json!("Query")), "dev allows it");

    let (proxy_urls, counter) = stack.recording_proxies().await;
    let jwks_url = serve_jwks_of_dev_key(&stack.gateway_config()).await;
    let production = stack
        .start_gateway(|config| {
            config.profile = Profile::Production;
            config.auth.jwks_url = Some(jwks_url);
            config.tenant_context.signing_key = atrium_kit::ContextKey {
                id: "production-test".to_owned(),
                secret: "a-production-context-key-for-the-policy-test".to_owned(),
            };
            config.subgraph_urls = proxy_urls;
        })
        .await;
    let (status, _, body) = post(&stack, &production, &token, introspection, &[]).await;
    assert_eq!((status, code(&body)), (400, "INTROSPECTION_DISABLED"), "{body}");
    let (status, _, body) = post(&stack, &production, &token, json!({ "query": "{ __typename }" }), &[]).await;
    assert_eq!((status, &body["data"]["__typename"]), (200, &json!("Query")), "{body}");
    assert_eq!(counter.count_and_reset(), 0);
}

/// Serves a JWKS holding the public half of the stack's dev signing key, so a production
/// gateway accepts the stack's tokens.
async fn serve_jwks_of_dev_key(config: &Config) -> String {
    let pem = std::fs::read_to_string(&config.auth.dev_key_path).expect("dev key");
    let body: String = pem.lines().filter(|line| !line.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD.decode(body.trim()).expect("PEM body");
    let pair = aws_lc_rs::signature::Ed25519KeyPair::from_pkcs8(&der).expect("Ed25519 key");
    let public = aws_lc_rs::signature::KeyPair::public_key(&pair).as_ref().to_vec();
    let x = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(public);
    let jwks = json!({ "keys": [{ "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "x": x }] });
    let address = serve(Router::new().fallback(move || async move { axum::Json(jwks) })).await;
    format!("http://{address}/jwks.json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subgraph_errors_reach_the_client_masked_to_code_and_path() {
    let stack = Stack::start(Backend::Sqlite).await.expect("sqlite stack");
    let token = stack.token("ridgeline", &["csm"]);
    let query = json!({ "query": "{ customerAccounts(first: 0) { nodes { name } } }" });

    // Bad input is a refusal the subgraph words for the client: its message passes, the
    // subgraph's other extensions (which service, anything internal) do not. Errors with
    // any other code lose their message too (`gateway/src/policy/masking.rs`).
    let (status, body) = stack.post(Some(&token), query.clone(), &[]).await;
    assert_eq!(status, 200, "{body}");
    let error = &body["errors"][0];
    assert_eq!(
        error,
        &json!({ "message": "`first` must be between 1 and 100", "path": ["customerAccounts"],
                 "extensions": { "code": "BAD_USER_INPUT" } }),
        "{body}"
    );
    assert_ne!(MASKED_SUBGRAPH_MESSAGE, error["message"]);

    // Unmasked, the subgraph's own extensions show.
    let unmasked = stack.start_gateway(|config| config.policy.mask_subgraph_errors = false).await;
    let (_, _, body) = post(&stack, &unmasked, &token, query, &[]).await;
    assert!(body["errors"][0]["message"].as_str().is_some_and(|message| message.contains("`first`")), "{body}");
    assert_eq!(body["errors"][0]["extensions"]["serviceName"], "finance");
}
