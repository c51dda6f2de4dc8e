//! The demo book as portals see it: story accounts (Lakeshore Dental's aging and dispute,
//! overdue and paid-up accounts; docs/domain.md#story-accounts), per-customer volumes,
//! derived receivables fields and partner attribution.

use atrium_kit::demo;
use serde_json::{Value, json};

use crate::helpers::{decimal, spawn_sqlite};

const ACCOUNT_QUERY: &str = "query($id: ID!) { customerAccount(id: $id) { name openBalance arOver60Share \
     invoices(first: 100) { nodes { number status total balanceDue disputedAmount dueDate daysPastDue agingBucket } } \
     } }";

fn customer_id(slug: &str, name: &str) -> String {
    let tenant = demo::tenant_by_slug(slug).unwrap();
    let ordinal = tenant.customers.iter().position(|customer| customer.name == name).unwrap();
    demo::customer_id(tenant, ordinal).to_string()
}

fn open_invoices(account: &Value) -> Vec<Value> {
    account["invoices"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|invoice| ["ISSUED", "PARTIALLY_PAID", "DISPUTED"].contains(&invoice["status"].as_str().unwrap()))
        .cloned()
        .collect()
}

#[tokio::test]
async fn lakeshore_dental_owes_38400_with_one_invoice_67_days_late_and_a_12000_dispute() {
    let finance = spawn_sqlite().await;
    let id = customer_id("ridgeline", "Lakeshore Dental Group");
    let account = finance.data("ridgeline", ACCOUNT_QUERY, json!({ "id": id })).await["customerAccount"].clone();
    let open = open_invoices(&account);
    assert_eq!(open.len(), 3, "{account}");
    let open_total: f64 = open.iter().map(|invoice| decimal(&invoice["balanceDue"])).sum();
    assert_eq!(open_total, 38_400.0);
    assert_eq!(account["openBalance"], "38400.00");

    let late: Vec<&Value> = open.iter().filter(|invoice| invoice["daysPastDue"] == 67).collect();
    assert_eq!(late.len(), 1, "{open:?}");
    assert_eq!(late[0]["agingBucket"], "DAYS_61_90");

    let disputed: Vec<&Value> = open.iter().filter(|invoice| invoice["status"] == "DISPUTED").collect();
    assert_eq!(disputed.len(), 1);
    assert_eq!(decimal(&disputed[0]["disputedAmount"]), 12_000.0);

    // 14,400 of 38,400 is more than 60 days past due.
    assert_eq!(account["arOver60Share"], 0.375);
}

#[tokio::test]
async fn prairie_foods_and_rheinwerk_have_overdue_invoices() {
    let finance = spawn_sqlite().await;
    for (slug, name) in [("ridgeline", "Prairie Foods Co."), ("veritas", "Rheinwerk Logistik GmbH")] {
        let id = customer_id(slug, name);
        let account = finance.data(slug, ACCOUNT_QUERY, json!({ "id": id })).await["customerAccount"].clone();
        let overdue = open_invoices(&account).into_iter().filter(|invoice| invoice["daysPastDue"].as_i64() > Some(0));
        assert!(overdue.count() >= 2, "{name}: {account}");
    }
}

#[tokio::test]
async fn thames_mutual_and_summit_ag_have_paid_every_invoice() {
    let finance = spawn_sqlite().await;
    for (slug, name) in [("veritas", "Thames Mutual plc"), ("ridgeline", "Summit Ag Supply")] {
        let id = customer_id(slug, name);
        let account = finance.data(slug, ACCOUNT_QUERY, json!({ "id": id })).await["customerAccount"].clone();
        let statuses: Vec<&str> =
            account["invoices"]["nodes"].as_array().unwrap().iter().map(|i| i["status"].as_str().unwrap()).collect();
        assert!(!statuses.is_empty() && statuses.iter().all(|status| *status == "PAID"), "{name}: {statuses:?}");
        assert_eq!(account["openBalance"], "0.00");
        assert_eq!(account["arOver60Share"], Value::Null);
    }
}

#[tokio::test]
async fn every_demo_customer_has_one_contract_up_to_two_subscriptions_and_three_to_six_invoices() {
    let finance = spawn_sqlite().await;
    let query = "{ customerAccounts(first: 100) { nodes { name channelPartnerId \
                 contracts { nodes { number customerAccount { name } } } \
                 subscriptions { nodes { mrr servicePackage { id } } } invoices { nodes { number } } } } }";
    for tenant in demo::TENANTS {
        let data = finance.data(tenant.slug, query, json!({})).await;
        let accounts = data["customerAccounts"]["nodes"].as_array().unwrap();
        assert_eq!(accounts.len(), tenant.customers.len());
        for (ordinal, account) in accounts.iter().enumerate() {
            let name = account["name"].as_str().unwrap();
            let count = |list: &str| account[list]["nodes"].as_array().unwrap().len();
            assert_eq!(count("contracts"), 1, "{name}");
            assert_eq!(account["contracts"]["nodes"][0]["customerAccount"]["name"], name);
            assert!(count("subscriptions") <= 2, "{name}");
            assert!((3..=6).contains(&count("invoices")), "{name}: {}", count("invoices"));
            let package_ids: Vec<String> = tenant
                .packages
                .iter()
                .filter_map(|code| demo::package_id(tenant, code))
                .map(|id| id.to_string())
                .collect();
            for subscription in account["subscriptions"]["nodes"].as_array().unwrap() {
                let package = subscription["servicePackage"]["id"].as_str().unwrap();
                assert!(package_ids.iter().any(|id| id == package), "{name}: unknown package {package}");
            }
            let expected_partner =
                tenant.customers[ordinal].partner.map(|partner| demo::partner_id(tenant, partner).to_string());
            assert_eq!(account["channelPartnerId"].as_str().map(str::to_owned), expected_partner, "{name}");
        }
    }
}

#[tokio::test]
async fn overdue_only_lists_open_invoices_past_their_due_date() {
    let finance = spawn_sqlite().await;
    let query = "{ invoices(first: 100, overdueOnly: true) { nodes { status daysPastDue agingBucket balanceDue } } }";
    let data = finance.data("ridgeline", query, json!({})).await;
    let overdue = data["invoices"]["nodes"].as_array().unwrap();
    assert!(overdue.len() >= 4, "{data}");
    for invoice in overdue {
        assert!(invoice["daysPastDue"].as_i64().unwrap() > 0, "{invoice}");
        assert_ne!(invoice["agingBucket"], "NOT_DUE");
        assert!(decimal(&invoice["balanceDue"]) > 0.0);
    }
    let disputed = finance
        .data("ridgeline", "{ invoices(first: 100, status: [DISPUTED]) { nodes { disputedAmount } } }", json!({}))
        .await;
    assert_eq!(disputed["invoices"]["nodes"], json!([{ "disputedAmount": "12000.00" }]));
}
