//! Authentication at the gateway: no token, bad tokens, and client-sent tenant headers.

use atrium_kit::demo;
use atrium_system_tests::{Backend, Stack};
use serde_json::json;

use crate::portal_query::PORTAL_QUERY;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejects_missing_and_bad_tokens_with_401_and_a_graphql_error_body() {
    let stack = Stack::start(Backend::Sqlite).await.expect("sqlite stack");
    let forged_key_path = std::env::temp_dir().join(format!("atrium-forged-{}.pem", uuid::Uuid::new_v4().simple()));
    let forged = atrium_gateway::auth::DevSigningKey::load_or_create(&forged_key_path).unwrap();
    let forged_token =
        forged.issue_for_demo("atrium-dev", "atrium", "ridgeline", &["tenant_admin".into()], "dashboard", 600).unwrap();
    // Signed with the gateway's own key but expired an hour ago (beyond the leeway).
    let expired_token = stack.token_with_ttl("ridgeline", &["csm"], -3600);
    for token in [None, Some("not-a-jwt"), Some(forged_token.as_str()), Some(expired_token.as_str())] {
        let (status, body) = stack.post(token, json!({ "query": PORTAL_QUERY }), &[]).await;
        assert_eq!(status, 401, "token {token:?}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
        assert!(body.get("data").is_none());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_sent_tenant_headers_change_nothing() {
    let stack = Stack::start(Backend::Sqlite).await.expect("sqlite stack");
    let helix_id = demo::tenant_id("helix").to_string();
    let forged_context = {
        let context = atrium_kit::testing::context_for("helix", "tenant_admin");
        atrium_kit::testing::signed_context_header(&context).1
    };
    let headers = [
        ("x-tenant-id", helix_id.as_str()),
        (atrium_kit::CONTEXT_HEADER, forged_context.as_str()),
        ("x-partner-id", helix_id.as_str()),
    ];
    let token = stack.token("ridgeline", &["csm"]);
    let (status, body) = stack.post(Some(&token), json!({ "query": "{ tenant { name } }" }), &headers).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["tenant"]["name"], "Ridgeline Business Systems");
}

/// Credentials the gateway cannot check (identity provider unreachable and no keys ever
/// fetched; API-key list never loaded) are the gateway's problem: 503, not 401.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_503_auth_keys_unavailable_when_no_keys_can_be_had() {
    let stack = Stack::start(Backend::Sqlite).await.expect("sqlite stack");
    let unused_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let keys_directory = std::env::temp_dir().join(format!("atrium-keys-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&keys_directory).unwrap();
    std::fs::write(keys_directory.join("api-keys.json"), "{ not json").unwrap();
    let gateway = stack
        .start_gateway(|config| {
            config.auth.jwks_url = Some(format!("http://127.0.0.1:{unused_port}/jwks.json"));
            config.auth.api_keys_directory = keys_directory;
        })
        .await;
    let token = stack.token("ridgeline", &["csm"]);
    for credential in [token.as_str(), "atr_0123456789abcdef_secret"] {
        let (status, _, body) = stack.post_to(&gateway, credential, "{ tenant { name } }").await;
        assert_eq!(status, 503, "{credential}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["code"], "AUTH_KEYS_UNAVAILABLE", "{credential}");
        assert!(body.get("data").is_none());
    }
}
