//! Tenant isolation at the delivery subgraph: each tenant sees its own engagements only;
//! another tenant's entity keys resolve to null (owned) or empty lists (extended).

use std::collections::HashSet;

use atrium_kit::{
    demo,
    testing::{self, TestDatabase},
};
use serde_json::{Value, json};

use crate::helpers::{ENTITIES_QUERY, TestDelivery, customer_representations, spawn, sqlite_delivery};

const ALL_ENGAGEMENTS: &str = "{ engagements(first: 100) { nodes { id number customerAccount { id } \
    milestones { id } } pageInfo { hasNextPage } } }";

async fn assert_each_tenant_sees_only_its_customers(delivery: &TestDelivery) {
    for slug in ["ridgeline", "helix", "veritas"] {
        let tenant = demo::tenant_by_slug(slug).unwrap();
        let own_customers: HashSet<String> =
            (0..tenant.customers.len()).map(|ordinal| demo::customer_id(tenant, ordinal).to_string()).collect();
        let data = delivery.data(slug, ALL_ENGAGEMENTS, json!({})).await;
        let nodes = data["engagements"]["nodes"].as_array().unwrap();
        assert!(!nodes.is_empty(), "{slug} has engagements");
        for node in nodes {
            let customer = node["customerAccount"]["id"].as_str().unwrap();
            assert!(own_customers.contains(customer), "{slug} sees engagement of foreign customer {customer}");
            let milestones = node["milestones"].as_array().unwrap().len();
            assert!((4..=7).contains(&milestones), "{node}");
        }
        assert_eq!(data["engagements"]["pageInfo"]["hasNextPage"], false);
    }
}

#[tokio::test]
async fn serves_each_tenant_only_its_own_engagements() {
    let delivery = sqlite_delivery().await;
    assert_each_tenant_sees_only_its_customers(&delivery).await;
}

#[tokio::test]
async fn rejects_a_request_without_a_signed_context_with_401() {
    let delivery = sqlite_delivery().await;
    let (status, body) = delivery.query(None, "{ engagements { nodes { id } } }", json!({})).await;
    assert_eq!(status, 401);
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
}

#[tokio::test]
async fn resolves_another_tenants_engagement_and_milestone_references_to_null() {
    let delivery = sqlite_delivery().await;
    let helix = delivery.data("helix", ALL_ENGAGEMENTS, json!({})).await;
    let helix_engagement = &helix["engagements"]["nodes"][0];
    let ridgeline = delivery.data("ridgeline", ALL_ENGAGEMENTS, json!({})).await;
    let ridgeline_engagement = &ridgeline["engagements"]["nodes"][0];
    let representations = json!([
        { "__typename": "Engagement", "id": helix_engagement["id"] },
        { "__typename": "Milestone", "id": helix_engagement["milestones"][0]["id"] },
        { "__typename": "Engagement", "id": ridgeline_engagement["id"] },
        { "__typename": "Engagement", "id": "not-a-uuid" },
    ]);
    let data = delivery.data("ridgeline", ENTITIES_QUERY, json!({ "representations": representations })).await;
    assert_eq!(data["_entities"], json!([null, null, { "number": ridgeline_engagement["number"] }, null]));

    let root = delivery
        .data("ridgeline", "query($id: ID!) { engagement(id: $id) { id } }", json!({ "id": helix_engagement["id"] }))
        .await;
    assert_eq!(root["engagement"], Value::Null);
}

#[tokio::test]
async fn another_tenants_customer_account_has_no_engagements() {
    let delivery = sqlite_delivery().await;
    let representations = customer_representations("helix", [0, 1]);
    let data = delivery.data("ridgeline", ENTITIES_QUERY, json!({ "representations": representations })).await;
    for entity in data["_entities"].as_array().unwrap() {
        assert_eq!(entity["engagements"]["nodes"], json!([]), "{entity}");
    }
    // The same keys under their own tenant do have engagements.
    let own = delivery
        .data("helix", ENTITIES_QUERY, json!({ "representations": customer_representations("helix", [0, 1]) }))
        .await;
    let total: usize =
        own["_entities"].as_array().unwrap().iter().map(|e| e["engagements"]["nodes"].as_array().unwrap().len()).sum();
    assert!(total > 0, "{own}");
}

#[tokio::test]
async fn serves_each_tenant_only_its_own_engagements_on_postgres() {
    let Some(database) = TestDatabase::create("delivery").await else { return };
    let delivery = spawn(database.runtime_url.clone(), Some(database.owner_url.clone())).await;
    assert_each_tenant_sees_only_its_customers(&delivery).await;
    let representations = customer_representations("helix", [0, 1]);
    let data = delivery.data("ridgeline", ENTITIES_QUERY, json!({ "representations": representations })).await;
    assert_eq!(data["_entities"][0]["engagements"]["nodes"], json!([]));
    let context = testing::context_for("veritas", "csm");
    let (status, body) = delivery.query(Some(&context), "{ engagements(first: 0) { nodes { id } } }", json!({})).await;
    // The request was valid; a resolver error nulling `data` is an execution result (200),
    // unlike parse/validation failures, which are request errors (400).
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"], json!(null));
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
}
