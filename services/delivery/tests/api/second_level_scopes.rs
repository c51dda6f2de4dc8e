//! Second-level scopes at the delivery subgraph: a partner user sees only its channel
//! partner's engagements and their milestones, by list, id or reference, on SQLite and
//! PostgreSQL.

use atrium_kit::{TenantContext, demo, testing::TestDatabase};
use serde_json::{Value, json};

use crate::helpers::{TestDelivery, spawn, sqlite_delivery};

fn helix() -> &'static demo::DemoTenant {
    demo::tenant_by_slug("helix").unwrap()
}

async fn data_as(delivery: &TestDelivery, context: &TenantContext, query: &str, variables: Value) -> Value {
    let (status, body) = delivery.query(Some(context), query, variables).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("errors").is_none(), "{body}");
    body["data"].clone()
}

const ENGAGEMENTS: &str = "{ engagements(first: 100) { nodes { id customerAccount { id } milestones { id } } } }";

async fn assert_a_partner_user_sees_only_its_partners_engagements(delivery: &TestDelivery) {
    let fjord_customers = [demo::customer_id(helix(), 0).to_string(), demo::customer_id(helix(), 1).to_string()];
    let everything = delivery.data("helix", ENGAGEMENTS, json!({})).await;
    let all = everything["engagements"]["nodes"].as_array().unwrap();
    let (fjord, foreign): (Vec<&Value>, Vec<&Value>) = all
        .iter()
        .partition(|node| fjord_customers.contains(&node["customerAccount"]["id"].as_str().unwrap().to_owned()));
    assert!(!fjord.is_empty() && !foreign.is_empty());

    let mut partner = atrium_kit::testing::context_for("helix", "partner_user");
    partner.channel_partner_id = Some(demo::partner_id(helix(), 0));
    let data = data_as(delivery, &partner, ENGAGEMENTS, json!({})).await;
    let seen: Vec<&Value> = data["engagements"]["nodes"].as_array().unwrap().iter().collect();
    assert_eq!(seen, fjord);

    let foreign_engagement = foreign[0]["id"].clone();
    let foreign_milestone = foreign[0]["milestones"][0]["id"].clone();
    let own_milestone = fjord[0]["milestones"][0]["id"].clone();
    assert!(foreign_milestone.is_string() && own_milestone.is_string());
    let query = "query($id: ID!, $representations: [_Any!]!) { engagement(id: $id) { id } \
                 _entities(representations: $representations) { ... on Milestone { id } ... on Engagement { id } } }";
    let variables = json!({ "id": foreign_engagement, "representations": [
        { "__typename": "Milestone", "id": foreign_milestone },
        { "__typename": "Engagement", "id": foreign_engagement },
        { "__typename": "Milestone", "id": own_milestone },
    ] });
    let data = data_as(delivery, &partner, query, variables).await;
    assert_eq!(data["engagement"], json!(null));
    assert_eq!(data["_entities"], json!([null, null, { "id": own_milestone }]));
}

#[tokio::test]
async fn narrows_a_partner_user_to_its_partners_engagements_and_milestones() {
    let delivery = sqlite_delivery().await;
    assert_a_partner_user_sees_only_its_partners_engagements(&delivery).await;
}

#[tokio::test]
async fn narrows_a_partner_user_on_postgres_under_row_level_security() {
    let Some(database) = TestDatabase::create("delivery").await else { return };
    let delivery = spawn(database.runtime_url.clone(), Some(database.owner_url.clone())).await;
    assert_a_partner_user_sees_only_its_partners_engagements(&delivery).await;
}
