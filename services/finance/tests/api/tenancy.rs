//! Tenant isolation at the finance subgraph: each tenant sees its own customers and
//! invoices, requests without a signed context are refused, and entity references naming
//! another tenant's rows resolve to null, on SQLite and PostgreSQL.

use atrium_finance::repository::seed;
use atrium_kit::{demo, testing::TestDatabase};
use serde_json::json;

use crate::helpers::{TestFinance, spawn, spawn_sqlite, strings};

fn roster(slug: &str) -> Vec<String> {
    demo::tenant_by_slug(slug).unwrap().customers.iter().map(|customer| customer.name.to_owned()).collect()
}

async fn assert_each_tenant_sees_only_its_customers(finance: &TestFinance) {
    for slug in ["ridgeline", "helix", "veritas"] {
        let query = "{ customerAccounts(first: 100) { nodes { name } } \
                     invoices(first: 100) { nodes { customerAccount { name } } } }";
        let data = finance.data(slug, query, json!({})).await;
        assert_eq!(strings(&data["customerAccounts"], "name"), roster(slug), "{slug}");
        let invoice_customers: Vec<String> = data["invoices"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|node| node["customerAccount"]["name"].as_str().unwrap().to_owned())
            .collect();
        assert!(!invoice_customers.is_empty());
        assert!(invoice_customers.iter().all(|name| roster(slug).contains(name)), "{slug}: {invoice_customers:?}");
    }
}

#[tokio::test]
async fn serves_each_tenant_only_its_own_customers_and_invoices() {
    let finance = spawn_sqlite().await;
    assert_each_tenant_sees_only_its_customers(&finance).await;
}

#[tokio::test]
async fn lists_ridgeline_customers_in_roster_order() {
    let finance = spawn_sqlite().await;
    let data = finance.data("ridgeline", "{ customerAccounts(first: 3) { nodes { name } } }", json!({})).await;
    assert_eq!(
        strings(&data["customerAccounts"], "name"),
        ["Prairie Foods Co.", "Lakeshore Dental Group", "Cedar Valley Manufacturing"]
    );
}

#[tokio::test]
async fn rejects_a_request_without_a_signed_context_with_401() {
    let finance = spawn_sqlite().await;
    let (status, body) = finance.query(None, "{ customerAccounts { nodes { name } } }", json!({})).await;
    assert_eq!(status, 401);
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    assert!(body.get("data").is_none());
}

/// `_entities` for helix's customer, contract, subscription and invoice plus one
/// ridgeline customer, asked by ridgeline: only the ridgeline row resolves.
async fn assert_foreign_entity_references_resolve_to_null(finance: &TestFinance) {
    let helix = demo::tenant_by_slug("helix").unwrap();
    let ridgeline = demo::tenant_by_slug("ridgeline").unwrap();
    let helix_invoices = finance.data("helix", "{ invoices(first: 1) { nodes { id } } }", json!({})).await;
    let helix_invoice = helix_invoices["invoices"]["nodes"][0]["id"].clone();
    let subscriptions_query = format!(
        "{{ customerAccount(id: \"{}\") {{ subscriptions {{ nodes {{ id }} }} }} }}",
        demo::customer_id(helix, 0)
    );
    let helix_subscription =
        finance.data("helix", &subscriptions_query, json!({})).await["customerAccount"]["subscriptions"]["nodes"]
            [0]["id"]
            .clone();
    assert!(helix_invoice.is_string() && helix_subscription.is_string());
    let query = "query($representations: [_Any!]!) { _entities(representations: $representations) { \
                 ... on CustomerAccount { name invoices { nodes { number } } } ... on Invoice { number } \
                 ... on Contract { number } ... on CustomerSubscription { mrr } } }";
    let representations = json!([
        { "__typename": "CustomerAccount", "id": demo::customer_id(helix, 0) },
        { "__typename": "Invoice", "id": helix_invoice },
        { "__typename": "Contract", "id": seed::contract_id(helix, 0) },
        { "__typename": "CustomerSubscription", "id": helix_subscription },
        { "__typename": "CustomerAccount", "id": "not-a-uuid" },
        { "__typename": "CustomerAccount", "id": demo::customer_id(ridgeline, 3) },
    ]);
    let data = finance.data("ridgeline", query, json!({ "representations": representations })).await;
    let entities = data["_entities"].as_array().unwrap();
    assert_eq!(entities[..5], [json!(null), json!(null), json!(null), json!(null), json!(null)]);
    assert_eq!(entities[5]["name"], "Summit Ag Supply");
    assert!(!entities[5]["invoices"]["nodes"].as_array().unwrap().is_empty());

    let customer = format!("{{ customerAccount(id: \"{}\") {{ name }} }}", demo::customer_id(helix, 0));
    assert_eq!(finance.data("ridgeline", &customer, json!({})).await["customerAccount"], json!(null));
}

#[tokio::test]
async fn resolves_entity_references_of_another_tenant_to_null() {
    let finance = spawn_sqlite().await;
    assert_foreign_entity_references_resolve_to_null(&finance).await;
}

#[tokio::test]
async fn isolates_tenants_on_postgres_under_row_level_security() {
    let Some(database) = TestDatabase::create("finance").await else { return };
    let finance = spawn(database.runtime_url.clone(), Some(database.owner_url.clone())).await;
    assert_each_tenant_sees_only_its_customers(&finance).await;
    assert_foreign_entity_references_resolve_to_null(&finance).await;
    // Amounts read back from PostgreSQL numeric match the SQLite scale exactly.
    let lakeshore = demo::customer_id(demo::tenant_by_slug("ridgeline").unwrap(), 1);
    let query = format!("{{ customerAccount(id: \"{lakeshore}\") {{ openBalance arOver60Share }} }}");
    let data = finance.data("ridgeline", &query, json!({})).await;
    assert_eq!(data["customerAccount"], json!({ "openBalance": "38400.00", "arOver60Share": 0.375 }));
}
