//! The authenticator against a JWKS endpoint served in-process on port 0, whose keys,
//! availability and speed each test changes while it runs.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::Duration,
};

use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use axum::{Json, Router, extract::State, http::StatusCode, response::IntoResponse, routing::get};
use base64::Engine as _;
use jsonwebtoken::{EncodingKey, Header};
use serde_json::{Value, json};
use uuid::Uuid;

use super::*;

const ISSUER: &str = "https://idp.test/";
const AUDIENCE: &str = "atrium";

/// One Ed25519 signing key of the test identity provider.
struct ProviderKey {
    kid: String,
    pkcs8: Vec<u8>,
    public: Vec<u8>,
}

impl ProviderKey {
    fn generate(kid: &str) -> Self {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).unwrap().as_ref().to_vec();
        let public = Ed25519KeyPair::from_pkcs8(&pkcs8).unwrap().public_key().as_ref().to_vec();
        ProviderKey { kid: kid.to_owned(), pkcs8, public }
    }

    fn public_x(&self) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&self.public)
    }

    fn jwk(&self) -> Value {
        json!({ "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": self.kid, "x": self.public_x() })
    }

    fn sign(&self, claims: &Claims) -> String {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &EncodingKey::from_ed_der(&self.pkcs8)).unwrap()
    }
}

fn claims_for(tenant_id: Uuid) -> Claims {
    let now = chrono::Utc::now().timestamp();
    Claims {
        iss: ISSUER.into(),
        aud: AUDIENCE.into(),
        sub: "user-1".into(),
        exp: now + 600,
        iat: now,
        tid: tenant_id,
        roles: vec!["csm".into()],
        client_kind: None,
        partner_id: None,
        customer_id: None,
    }
}

/// The test identity provider's JWKS endpoint. `None` keys: the provider is down (503).
#[derive(Default)]
struct Provider {
    keys: parking_lot::Mutex<Option<Vec<Value>>>,
    fetches: AtomicUsize,
    /// Fetches answered with a key set.
    served: AtomicUsize,
    delay_ms: AtomicU64,
}

impl Provider {
    async fn serve(keys: Vec<Value>) -> (Arc<Provider>, String) {
        let provider = Arc::new(Provider { keys: parking_lot::Mutex::new(Some(keys)), ..Provider::default() });
        let router = Router::new().route("/jwks.json", get(serve_jwks)).with_state(Arc::clone(&provider));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        (provider, url)
    }

    fn publish(&self, keys: Vec<Value>) {
        *self.keys.lock() = Some(keys);
    }

    fn go_down(&self) {
        *self.keys.lock() = None;
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }

    fn answer_after(&self, delay: Duration) {
        self.delay_ms.store(delay.as_millis() as u64, Ordering::SeqCst);
    }
}

async fn serve_jwks(State(provider): State<Arc<Provider>>) -> axum::response::Response {
    provider.fetches.fetch_add(1, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(provider.delay_ms.load(Ordering::SeqCst))).await;
    let keys = provider.keys.lock().clone();
    match keys {
        Some(keys) => {
            provider.served.fetch_add(1, Ordering::SeqCst);
            Json(json!({ "keys": keys })).into_response()
        }
        None => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

fn authenticator(jwks_url: &str, refresh_seconds: u64) -> Authenticator {
    authenticator_with_staleness(jwks_url, refresh_seconds, AuthConfig::default().jwks_max_staleness_seconds)
}

fn authenticator_with_staleness(jwks_url: &str, refresh_seconds: u64, max_staleness_seconds: u64) -> Authenticator {
    let config = AuthConfig {
        issuer: ISSUER.into(),
        audience: AUDIENCE.into(),
        jwks_url: Some(jwks_url.to_owned()),
        jwks_refresh_seconds: refresh_seconds,
        jwks_max_staleness_seconds: max_staleness_seconds,
        ..AuthConfig::default()
    };
    Authenticator::from_config(&config).unwrap()
}

fn bearer(token: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(header::AUTHORIZATION, format!("Bearer {token}").parse().unwrap());
    headers
}

/// The status and `extensions.code` the public endpoint answers a rejection with.
async fn answer_to(error: &AuthError) -> (u16, String) {
    let response = crate::http::unauthenticated("application/json", error);
    let status = response.status().as_u16();
    let body = axum::body::to_bytes(response.into_body(), 1 << 16).await.unwrap();
    let body: Value = serde_json::from_slice(&body).unwrap();
    (status, body["errors"][0]["extensions"]["code"].as_str().unwrap().to_owned())
}

async fn assert_unauthenticated(result: Result<TenantContext, AuthError>, what: &str) {
    let error = match result {
        Ok(context) => panic!("{what}: accepted as {context:?}"),
        Err(error) => error,
    };
    assert_eq!(answer_to(&error).await, (401, "UNAUTHENTICATED".to_owned()), "{what}: {error:?}");
}

#[tokio::test]
async fn picks_up_a_rotated_key_on_the_first_token_signed_with_it() {
    let (old, new) = (ProviderKey::generate("2026-10"), ProviderKey::generate("2026-11"));
    let (provider, url) = Provider::serve(vec![old.jwk()]).await;
    let authenticator = authenticator(&url, 300);
    let tenant = Uuid::new_v4();
    assert_eq!(authenticator.authenticate(&bearer(&old.sign(&claims_for(tenant)))).await.unwrap().tenant_id, tenant);
    provider.publish(vec![old.jwk(), new.jwk()]);
    let context = authenticator.authenticate(&bearer(&new.sign(&claims_for(tenant)))).await;
    assert_eq!(context.expect("the rotated key is fetched on first sight of its kid").tenant_id, tenant);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_tokens_with_an_unknown_kid_share_one_rate_limited_refresh() {
    let (old, new) = (ProviderKey::generate("2026-10"), ProviderKey::generate("2026-11"));
    let (provider, url) = Provider::serve(vec![old.jwk()]).await;
    let authenticator = Arc::new(authenticator(&url, 300));
    let tenant = Uuid::new_v4();
    authenticator.authenticate(&bearer(&old.sign(&claims_for(tenant)))).await.unwrap();
    let fetches_before = provider.fetches();
    provider.publish(vec![old.jwk(), new.jwk()]);
    provider.answer_after(Duration::from_millis(300));
    let rotated_token = new.sign(&claims_for(tenant));
    let concurrent = (0..20).map(|_| {
        let (authenticator, token) = (Arc::clone(&authenticator), rotated_token.clone());
        tokio::spawn(async move { authenticator.authenticate(&bearer(&token)).await.map(|context| context.tenant_id) })
    });
    for answer in futures::future::join_all(concurrent).await {
        assert_eq!(answer.unwrap().expect("verified with the rotated key"), tenant);
    }
    assert_eq!(provider.fetches(), fetches_before + 1, "twenty tokens with a new kid, one fetch");

    let stranger = ProviderKey::generate("unknown");
    for _ in 0..20 {
        let answer = authenticator.authenticate(&bearer(&stranger.sign(&claims_for(tenant)))).await;
        assert_unauthenticated(answer, "a token with an unknown kid").await;
    }
    assert_eq!(provider.fetches(), fetches_before + 1, "unknown kids right after a refresh fetch nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_refresh_for_an_unknown_kid_does_not_hold_up_tokens_with_known_keys() {
    let known = ProviderKey::generate("known");
    let (provider, url) = Provider::serve(vec![known.jwk()]).await;
    let authenticator = Arc::new(authenticator(&url, 300));
    let tenant = Uuid::new_v4();
    let known_token = known.sign(&claims_for(tenant));
    authenticator.authenticate(&bearer(&known_token)).await.unwrap();
    provider.answer_after(Duration::from_secs(4));
    let fetches_before = provider.fetches();
    let unknown_token = ProviderKey::generate("unknown").sign(&claims_for(tenant));
    let slow = {
        let authenticator = Arc::clone(&authenticator);
        tokio::spawn(async move { authenticator.authenticate(&bearer(&unknown_token)).await.map(|_| ()) })
    };
    let refresh_started = async {
        while provider.fetches() == fetches_before {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(5), refresh_started).await.expect("the unknown kid triggers a refresh");
    let known_answer = tokio::time::timeout(Duration::from_secs(2), authenticator.authenticate(&bearer(&known_token)))
        .await
        .expect("a known key verifies while the refresh is in flight");
    assert_eq!(known_answer.unwrap().tenant_id, tenant);
    assert_unauthenticated(slow.await.unwrap().map(|()| anonymous_context()), "the unknown kid").await;
}

#[tokio::test]
async fn keeps_verifying_with_cached_keys_while_the_provider_is_down_past_the_refresh_period() {
    let key = ProviderKey::generate("2026-11");
    let (provider, url) = Provider::serve(vec![key.jwk()]).await;
    let authenticator = authenticator(&url, 1);
    let tenant = Uuid::new_v4();
    let token = key.sign(&claims_for(tenant));
    authenticator.authenticate(&bearer(&token)).await.unwrap();
    provider.go_down();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let context = authenticator.authenticate(&bearer(&token)).await;
    assert_eq!(context.expect("cached keys verify while the provider is down").tenant_id, tenant);
    let stranger = ProviderKey::generate("unknown").sign(&claims_for(tenant));
    let answer = authenticator.authenticate(&bearer(&stranger)).await;
    assert_unauthenticated(answer, "an unknown kid while usable keys are cached").await;
}

#[tokio::test]
async fn answers_503_once_the_cached_keys_are_older_than_the_staleness_bound() {
    let key = ProviderKey::generate("2026-11");
    let (provider, url) = Provider::serve(vec![key.jwk()]).await;
    let authenticator = authenticator_with_staleness(&url, 1, 1);
    let token = key.sign(&claims_for(Uuid::new_v4()));
    authenticator.authenticate(&bearer(&token)).await.unwrap();
    provider.go_down();
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let error = authenticator.authenticate(&bearer(&token)).await.expect_err("the keys are too old to trust");
    assert!(matches!(error, AuthError::KeysUnavailable), "{error:?}");
    assert_eq!(answer_to(&error).await, (503, "AUTH_KEYS_UNAVAILABLE".to_owned()));
}

#[tokio::test]
async fn refreshes_the_keys_in_the_background_so_a_withdrawn_key_stops_verifying() {
    let (old, new) = (ProviderKey::generate("2026-10"), ProviderKey::generate("2026-11"));
    let (provider, url) = Provider::serve(vec![old.jwk()]).await;
    let authenticator = authenticator(&url, 1);
    let tenant = Uuid::new_v4();
    authenticator.authenticate(&bearer(&old.sign(&claims_for(tenant)))).await.unwrap();
    provider.publish(vec![new.jwk()]);
    let served_before = provider.served.load(Ordering::SeqCst);
    let background_fetch = async {
        while provider.served.load(Ordering::SeqCst) == served_before {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(5), background_fetch)
        .await
        .expect("the keys are fetched again without any request asking");
    // Down now, so only that background fetch can bring the new key (a request that
    // comes while it is still being stored joins it).
    provider.go_down();
    let context = authenticator.authenticate(&bearer(&new.sign(&claims_for(tenant)))).await;
    assert_eq!(context.expect("the new key arrived in the background").tenant_id, tenant);
    let answer = authenticator.authenticate(&bearer(&old.sign(&claims_for(tenant)))).await;
    assert_unauthenticated(answer, "a key the provider withdrew").await;
}

#[tokio::test]
async fn answers_503_auth_keys_unavailable_when_no_keys_were_ever_fetched() {
    let unused_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (down_provider, down_url) = Provider::serve(Vec::new()).await;
    down_provider.go_down();
    let key = ProviderKey::generate("2026-11");
    for url in [format!("http://127.0.0.1:{unused_port}/jwks.json"), down_url] {
        let error = authenticator(&url, 300).authenticate(&bearer(&key.sign(&claims_for(Uuid::new_v4())))).await;
        let error = error.expect_err("nothing to verify with");
        assert!(matches!(error, AuthError::KeysUnavailable), "{url}: {error:?}");
        assert_eq!(answer_to(&error).await, (503, "AUTH_KEYS_UNAVAILABLE".to_owned()), "{url}");
    }
}

#[tokio::test]
async fn rejects_an_hs256_token_signed_with_the_providers_public_key() {
    let key = ProviderKey::generate("2026-11");
    let mut without_alg = key.jwk();
    without_alg.as_object_mut().unwrap().remove("alg");
    for published in [key.jwk(), without_alg] {
        let (_provider, url) = Provider::serve(vec![published.clone()]).await;
        let authenticator = authenticator(&url, 300);
        authenticator.authenticate(&bearer(&key.sign(&claims_for(Uuid::new_v4())))).await.unwrap();
        let public_forms = [key.public.clone(), key.public_x().into_bytes(), published.to_string().into_bytes()];
        for secret in public_forms {
            let mut header = Header::new(Algorithm::HS256);
            header.kid = Some(key.kid.clone());
            let forged =
                jsonwebtoken::encode(&header, &claims_for(Uuid::new_v4()), &EncodingKey::from_secret(&secret)).unwrap();
            let answer = authenticator.authenticate(&bearer(&forged)).await;
            assert_unauthenticated(answer, &format!("HS256 with the public key as secret, JWK {published}")).await;
        }
    }
}

#[tokio::test]
async fn rejects_tokens_for_another_issuer_or_audience() {
    let key = ProviderKey::generate("2026-11");
    let (_provider, url) = Provider::serve(vec![key.jwk()]).await;
    let authenticator = authenticator(&url, 300);
    let tenant = Uuid::new_v4();
    assert_eq!(authenticator.authenticate(&bearer(&key.sign(&claims_for(tenant)))).await.unwrap().tenant_id, tenant);
    let other_issuer = Claims { iss: "https://other-idp.test/".into(), ..claims_for(tenant) };
    let other_audience = Claims { aud: "another-api".into(), ..claims_for(tenant) };
    for (claims, what) in [(other_issuer, "another issuer"), (other_audience, "another audience")] {
        assert_unauthenticated(authenticator.authenticate(&bearer(&key.sign(&claims))).await, what).await;
    }
}
