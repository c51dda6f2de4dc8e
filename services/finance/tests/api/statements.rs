//! No N+1: resolving many customer representations with their invoices and AR share
//! costs the same number of SQL statements as resolving two.

use atrium_kit::{demo, testing::StatementLog};
use serde_json::json;

use crate::helpers::spawn_observed;

#[tokio::test]
async fn entity_fetch_with_invoices_costs_the_same_statements_for_2_and_8_customers() {
    let statements = StatementLog::default();
    let finance = spawn_observed(atrium_kit::testing::sqlite_url("finance"), None, Some(statements.observer())).await;
    let ridgeline = demo::tenant_by_slug("ridgeline").unwrap();
    let query = "query($representations: [_Any!]!) { _entities(representations: $representations) { \
                 ... on CustomerAccount { name invoices { nodes { number daysPastDue } } arOver60Share } } }";
    let mut counts = Vec::new();
    for customers in [2, 8] {
        let representations: Vec<_> = (0..customers)
            .map(|ordinal| json!({ "__typename": "CustomerAccount", "id": demo::customer_id(ridgeline, ordinal) }))
            .collect();
        statements.clear();
        let data = finance.data("ridgeline", query, json!({ "representations": representations })).await;
        counts.push(statements.statements().len());
        let entities = data["_entities"].as_array().unwrap();
        assert_eq!(entities.len(), customers);
        assert!(entities.iter().all(|entity| !entity["invoices"]["nodes"].as_array().unwrap().is_empty()));
    }
    assert_eq!(counts[0], counts[1], "statements for 2 vs 8 customers: {counts:?}");
    // One for the customers, one for all their invoices (`arOver60Share` reuses them).
    assert_eq!(counts[0], 2, "{counts:?}");
}

/// The ledger's nested lists: subscriptions with their item versions, and entitlement
/// balances with their usages, one statement per level for all parents.
#[tokio::test]
async fn subscription_items_and_entitlements_cost_one_statement_per_level() {
    let statements = StatementLog::default();
    let finance = spawn_observed(atrium_kit::testing::sqlite_url("finance"), None, Some(statements.observer())).await;
    let ridgeline = demo::tenant_by_slug("ridgeline").unwrap();
    let query = "query($representations: [_Any!]!) { _entities(representations: $representations) { \
                 ... on CustomerAccount { subscriptions { nodes { mrr items { monthlyAmount { amount } } } } \
                 entitlements { usedHours } } } }";
    let mut counts = Vec::new();
    // From Cedar Valley and Summit Ag on (ordinals 2 and 3), whose retainers grant
    // advisory hours, so every level is reached in both runs.
    for customers in [2, 8] {
        let representations: Vec<_> = (2..2 + customers)
            .map(|ordinal| json!({ "__typename": "CustomerAccount", "id": demo::customer_id(ridgeline, ordinal) }))
            .collect();
        statements.clear();
        let data = finance.data("ridgeline", query, json!({ "representations": representations })).await;
        counts.push(statements.statements().len());
        let entities = data["_entities"].as_array().unwrap();
        assert_eq!(entities.len(), customers);
        assert!(!entities[0]["entitlements"].as_array().unwrap().is_empty(), "Cedar Valley's retainer grants hours");
        let items: usize = entities
            .iter()
            .flat_map(|entity| entity["subscriptions"]["nodes"].as_array().unwrap())
            .map(|subscription| subscription["items"].as_array().unwrap().len())
            .sum();
        assert!(items > 0, "the demo subscriptions have items");
    }
    assert_eq!(counts[0], counts[1], "statements for 2 vs 8 customers: {counts:?}");
    // Customers, their subscriptions, all items, all grants, all usages.
    assert_eq!(counts[0], 5, "{counts:?}");
}

/// Billing schedules with their lines, one statement per level for all parents.
#[tokio::test]
async fn billing_schedules_and_their_lines_cost_one_statement_per_level_for_2_and_8_customers() {
    let statements = StatementLog::default();
    let finance = spawn_observed(atrium_kit::testing::sqlite_url("finance"), None, Some(statements.observer())).await;
    let ridgeline = demo::tenant_by_slug("ridgeline").unwrap();
    let query = "query($representations: [_Any!]!) { _entities(representations: $representations) { \
                 ... on CustomerAccount { contracts { nodes { number billingSchedules { kind \
                 lines { seq status amount { amount currency } } } } } } } }";
    let mut counts = Vec::new();
    for customers in [2, 8] {
        let representations: Vec<_> = (0..customers)
            .map(|ordinal| json!({ "__typename": "CustomerAccount", "id": demo::customer_id(ridgeline, ordinal) }))
            .collect();
        statements.clear();
        let data = finance.data("ridgeline", query, json!({ "representations": representations })).await;
        counts.push(statements.statements().len());
        // Prairie Foods (the first customer) has an implementation fee billed in instalments.
        let schedules = &data["_entities"][0]["contracts"]["nodes"][0]["billingSchedules"];
        assert_eq!(schedules[0]["lines"].as_array().map(Vec::len), Some(3), "{data}");
    }
    assert_eq!(counts[0], counts[1], "statements for 2 vs 8 customers: {counts:?}");
    // Customers, their contracts, the contracts' schedules, the schedules' lines.
    assert_eq!(counts[0], 4, "{counts:?}");
}
