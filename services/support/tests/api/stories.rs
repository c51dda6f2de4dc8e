//! The demo ticket book as portals see it (docs/domain.md#demo-data): volumes per customer,
//! the category mix, two-tier support at Helix, and the story accounts' open urgent/high
//! tickets.

use atrium_kit::demo;
use serde_json::{Value, json};

use crate::helpers::spawn_sqlite;

const ACCOUNTS_QUERY: &str = "query($representations: [_Any!]!) { _entities(representations: $representations) { \
     ... on CustomerAccount { id openUrgentHighTicketCount \
     tickets(first: 100) { nodes { number priority status tier category solvedAt firstRespondedAt } } } } }";

/// Every customer of `slug` with its tickets, in roster order.
async fn accounts(support: &crate::helpers::TestSupport, slug: &str) -> Vec<Value> {
    let tenant = demo::tenant_by_slug(slug).unwrap();
    let representations: Vec<Value> = (0..tenant.customers.len())
        .map(|ordinal| json!({ "__typename": "CustomerAccount", "id": demo::customer_id(tenant, ordinal) }))
        .collect();
    let data = support.data(slug, ACCOUNTS_QUERY, json!({ "representations": representations })).await;
    data["_entities"].as_array().unwrap().clone()
}

fn account<'a>(accounts: &'a [Value], slug: &str, name: &str) -> &'a Value {
    let tenant = demo::tenant_by_slug(slug).unwrap();
    let ordinal = tenant.customers.iter().position(|customer| customer.name == name).unwrap();
    &accounts[ordinal]
}

fn tickets(account: &Value) -> &Vec<Value> {
    account["tickets"]["nodes"].as_array().unwrap()
}

const OPEN: [&str; 4] = ["NEW", "OPEN", "PENDING", "ON_HOLD"];

#[tokio::test]
async fn every_demo_customer_has_two_to_eight_tickets_with_consistent_timestamps() {
    let support = spawn_sqlite().await;
    for tenant in demo::TENANTS {
        for account in accounts(&support, tenant.slug).await {
            let tickets = tickets(&account);
            assert!((2..=8).contains(&tickets.len()), "{}: {}", account["id"], tickets.len());
            for ticket in tickets {
                let open = OPEN.contains(&ticket["status"].as_str().unwrap());
                assert_eq!(ticket["solvedAt"].is_null(), open, "{ticket}");
                assert_eq!(ticket["firstRespondedAt"].is_null(), ticket["status"] == "NEW", "{ticket}");
            }
        }
    }
}

#[tokio::test]
async fn rheinwerk_has_a_run_of_high_priority_tickets_some_still_open() {
    let support = spawn_sqlite().await;
    let veritas = accounts(&support, "veritas").await;
    let rheinwerk = account(&veritas, "veritas", "Rheinwerk Logistik GmbH");
    let high: Vec<&Value> = tickets(rheinwerk).iter().filter(|ticket| ticket["priority"] == "HIGH").collect();
    assert!(high.len() >= 5, "{rheinwerk}");
    let open_high = high.iter().filter(|ticket| OPEN.contains(&ticket["status"].as_str().unwrap())).count();
    assert!(open_high >= 2, "{rheinwerk}");
    assert_eq!(rheinwerk["openUrgentHighTicketCount"], open_high);
    assert!(tickets(rheinwerk).iter().any(|ticket| ticket["category"] == "COMPLIANCE_REQUEST"));
}

#[tokio::test]
async fn prairie_foods_has_two_open_urgent_or_high_tickets_and_healthy_accounts_none() {
    let support = spawn_sqlite().await;
    let ridgeline = accounts(&support, "ridgeline").await;
    assert_eq!(account(&ridgeline, "ridgeline", "Prairie Foods Co.")["openUrgentHighTicketCount"], 2);
    assert_eq!(account(&ridgeline, "ridgeline", "Summit Ag Supply")["openUrgentHighTicketCount"], 0);
    let veritas = accounts(&support, "veritas").await;
    assert_eq!(account(&veritas, "veritas", "Thames Mutual plc")["openUrgentHighTicketCount"], 0);
}

#[tokio::test]
async fn helix_tickets_start_with_partner_agents_and_some_escalate_to_the_provider() {
    let support = spawn_sqlite().await;
    let helix = accounts(&support, "helix").await;
    let tiers: Vec<&str> = helix.iter().flat_map(tickets).map(|ticket| ticket["tier"].as_str().unwrap()).collect();
    let partner = tiers.iter().filter(|tier| **tier == "PARTNER_L1").count();
    assert!(partner * 2 > tiers.len(), "{tiers:?}");
    assert!(tiers.iter().all(|tier| ["PARTNER_L1", "PROVIDER_L2"].contains(tier)), "{tiers:?}");
    let ridgeline = accounts(&support, "ridgeline").await;
    assert!(ridgeline.iter().flat_map(tickets).all(|ticket| ticket["tier"] != "PARTNER_L1"));
}
