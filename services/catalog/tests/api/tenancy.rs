//! Tenant isolation at the catalog subgraph: no context, forged context, another tenant's
//! entity keys.

use atrium_kit::{
    demo,
    testing::{self, TestDatabase},
};
use serde_json::json;

use crate::helpers::{spawn, spawn_sqlite};

#[tokio::test]
async fn serves_the_calling_tenant_with_its_branding() {
    let catalog = spawn_sqlite().await;
    let context = testing::context_for("ridgeline", "csm");
    let (status, body) = catalog
        .query(Some(&context), "{ tenant { slug name branding { productName primaryColor } } }", json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["tenant"]["slug"], "ridgeline");
    assert_eq!(body["data"]["tenant"]["branding"]["productName"], "Ridgeline Success Hub");
}

#[tokio::test]
async fn rejects_a_request_without_a_signed_context_with_401() {
    let catalog = spawn_sqlite().await;
    let (status, body) = catalog.query(None, "{ tenant { name } }", json!({})).await;
    assert_eq!(status, 401);
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    assert!(body.get("data").is_none());
}

#[tokio::test]
async fn rejects_a_context_signed_with_a_forged_key() {
    let catalog = spawn_sqlite().await;
    let context = testing::context_for("ridgeline", "tenant_admin");
    let forged = atrium_kit::ContextKey { id: "dev-1".into(), secret: "not-the-real-secret".into() };
    let token = atrium_kit::ContextSigner::new(&forged, 60).sign(&context).unwrap();
    let response = reqwest::Client::new()
        .post(&catalog.url)
        .header("content-type", "application/json")
        .header(atrium_kit::CONTEXT_HEADER, token)
        .body(r#"{"query":"{ tenant { name } }"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
}

#[tokio::test]
async fn resolves_entity_references_of_another_tenant_to_null() {
    let catalog = spawn_sqlite().await;
    let helix = demo::tenant_by_slug("helix").unwrap();
    let ridgeline = demo::tenant_by_slug("ridgeline").unwrap();
    let query = "query($representations: [_Any!]!) { _entities(representations: $representations) { \
                 ... on ServicePackage { code } ... on Tenant { slug } } }";
    let representations = json!([
        { "__typename": "ServicePackage", "id": demo::package_id(helix, "HLX-ONB").unwrap() },
        { "__typename": "ServicePackage", "id": demo::package_id(ridgeline, "MS-GOLD").unwrap() },
        { "__typename": "Tenant", "id": demo::tenant_id("helix") },
    ]);
    let context = testing::context_for("ridgeline", "tenant_admin");
    let (status, body) = catalog.query(Some(&context), query, json!({ "representations": representations })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["_entities"], json!([null, { "code": "MS-GOLD" }, null]));
}

#[tokio::test]
async fn serves_each_tenant_only_its_own_rows_on_postgres() {
    let Some(database) = TestDatabase::create("catalog").await else { return };
    let catalog = spawn(database.runtime_url.clone(), Some(database.owner_url.clone())).await;
    for slug in ["ridgeline", "helix", "veritas"] {
        let context = testing::context_for(slug, "csm");
        let (status, body) = catalog
            .query(Some(&context), "{ tenant { slug } servicePackages(first: 100) { nodes { code } } }", json!({}))
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["data"]["tenant"]["slug"], slug);
        let tenant = demo::tenant_by_slug(slug).unwrap();
        let codes: Vec<&str> = body["data"]["servicePackages"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["code"].as_str().unwrap())
            .collect();
        assert_eq!(codes, tenant.packages.to_vec());
    }
}
