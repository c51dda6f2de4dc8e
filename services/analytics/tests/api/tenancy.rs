//! Tenant isolation at the analytics subgraph: another tenant's customer id is scored
//! from the inputs in the representation only, never from that tenant's signals.

use atrium_kit::{
    demo::Story,
    testing::{self, TestDatabase},
};
use serde_json::{Value, json};

use crate::helpers::{HEALTH_QUERY, TestAnalytics, measure, representation, spawn, sqlite_analytics};

async fn assert_foreign_customer_gets_no_signals(analytics: &TestAnalytics) {
    // Rheinwerk belongs to veritas; ridgeline asks about it.
    let rheinwerk = representation("veritas", Story::Rheinwerk, 0, Some(0.0));
    let data = analytics.data("ridgeline", HEALTH_QUERY, json!({ "representations": [rheinwerk.clone()] })).await;
    let health = &data["_entities"][0]["health"];
    assert_eq!(measure(health, "csm_pulse")["rawValue"], Value::Null, "{health}");
    assert_eq!(measure(health, "days_since_exec_touch")["rawValue"], Value::Null, "{health}");
    // Only the provided support (5) and finance (8) inputs count: 13/100 < 0.5.
    assert_eq!(health["coverage"], 0.13);
    assert_eq!(health["band"], "UNKNOWN");
    assert_eq!(health["score"], Value::Null);

    // The same id under its own tenant does have signals.
    let own = analytics.data("veritas", HEALTH_QUERY, json!({ "representations": [rheinwerk] })).await;
    assert_eq!(measure(&own["_entities"][0]["health"], "csm_pulse")["rawValue"], 2.0);
}

#[tokio::test]
async fn another_tenants_customer_is_scored_without_its_signals() {
    let analytics = sqlite_analytics().await;
    assert_foreign_customer_gets_no_signals(&analytics).await;
}

#[tokio::test]
async fn each_tenant_sees_its_own_model_and_signals_on_postgres() {
    let Some(database) = TestDatabase::create("analytics").await else { return };
    let analytics = spawn(database.runtime_url.clone(), Some(database.owner_url.clone())).await;
    assert_foreign_customer_gets_no_signals(&analytics).await;
    for slug in ["ridgeline", "helix", "veritas"] {
        let data = analytics.data(slug, "{ healthModel { name version } }", json!({})).await;
        assert_eq!(data["healthModel"], json!({ "name": "standard_v1", "version": 1 }));
    }
    let prairie = representation("ridgeline", Story::PrairieFoods, 1, Some(0.0));
    let data = analytics.data("ridgeline", HEALTH_QUERY, json!({ "representations": [prairie] })).await;
    assert_eq!(data["_entities"][0]["health"]["coverage"], 0.28);
    crate::health_model::edits_preview_and_activates_for_one_tenant_only(&analytics).await;
}

#[tokio::test]
async fn rejects_a_request_without_a_signed_context_with_401() {
    let analytics = sqlite_analytics().await;
    let (status, body) = analytics.query(None, "{ healthModel { name } }", json!({})).await;
    assert_eq!(status, 401);
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    let forged = testing::context_for("ridgeline", "csm");
    let token =
        atrium_kit::ContextSigner::new(&atrium_kit::ContextKey { id: "dev-1".into(), secret: "guess".into() }, 60)
            .sign(&forged)
            .unwrap();
    let response = reqwest::Client::new()
        .post(&analytics.url)
        .header("content-type", "application/json")
        .header(atrium_kit::CONTEXT_HEADER, token)
        .body(r#"{"query":"{ healthModel { name } }"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
}
