//! DataLoader batching for health: the model and the facts (signals, lifecycle, snapshot) of N
//! customers load in one statement each, however many representations a request carries.

use atrium_kit::{demo, testing};
use serde_json::{Value, json};

use atrium_kit::testing::StatementLog;

use crate::helpers::{HEALTH_QUERY, TestAnalytics, spawn_observed};

fn is_data_select(sql: &str) -> bool {
    sql.trim_start().to_ascii_uppercase().starts_with("SELECT")
        && ["health_models", "customer_signals", "customer_lifecycles", "health_snapshots"]
            .iter()
            .any(|table| sql.contains(&format!("FROM \"{table}\"")))
}

fn representations(customers: usize) -> Value {
    let tenant = demo::tenant_by_slug("ridgeline").unwrap();
    (0..customers)
        .map(|ordinal| {
            json!({
                "__typename": "CustomerAccount",
                "id": demo::customer_id(tenant, ordinal),
                "openUrgentHighTicketCount": ordinal % 3,
                "arOver60Share": 0.05,
            })
        })
        .collect()
}

async fn statements_for(analytics: &TestAnalytics, log: &StatementLog, customers: usize) -> (Vec<String>, usize) {
    log.clear();
    let data =
        analytics.data("ridgeline", HEALTH_QUERY, json!({ "representations": representations(customers) })).await;
    let entities = data["_entities"].as_array().unwrap();
    assert_eq!(entities.len(), customers);
    // Every ridgeline customer has signals except brand-new Blue Heron; the loads must be real.
    let has_pulse = |entity: &Value| {
        entity["health"]["measures"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["code"] == "csm_pulse" && m["rawValue"].is_number())
    };
    assert!(entities.iter().any(has_pulse), "{data}");
    let statements = log.statements();
    (statements.iter().filter(|sql| is_data_select(sql)).cloned().collect(), statements.len())
}

/// The four selects by customer id above, plus the tenant's read models (customer, MRR
/// movements, engagements, milestones, invoices, ticket clocks, time entries, tasks) and
/// two journal selects: fourteen statements, whatever the number of customers.
const STATEMENTS_PER_REQUEST: usize = 14;

#[tokio::test]
async fn loads_the_model_and_the_facts_of_many_customers_in_a_fixed_number_of_statements() {
    let log = StatementLog::default();
    let analytics = spawn_observed(testing::sqlite_url("analytics"), None, Some(log.observer())).await;
    let (two, two_total) = statements_for(&analytics, &log, 2).await;
    let (eight, eight_total) = statements_for(&analytics, &log, 8).await;
    assert_eq!(two.len(), 4, "one model select + the facts' signals, lifecycle and snapshot selects: {two:#?}");
    assert_eq!(eight.len(), 4, "still four for eight customers: {eight:#?}");
    assert_eq!(two_total, eight_total, "transaction setup does not grow either");
    // On SQLite BEGIN/COMMIT are not reported to the observer (on PostgreSQL the tenant's
    // `set_config` would add one): the data selects are the whole request.
    assert_eq!(eight_total, STATEMENTS_PER_REQUEST, "{:#?}", log.statements());
    assert_eq!(eight.iter().filter(|sql| sql.contains("FROM \"customer_signals\"")).count(), 1);
    // The read models are read for the asked customers only, not the whole tenant.
    let read_model_selects: Vec<String> = log.statements().into_iter().filter(|sql| sql.contains("FROM rm_")).collect();
    assert_eq!(read_model_selects.len(), 8, "{read_model_selects:#?}");
    assert!(
        read_model_selects.iter().all(|sql| sql.contains("customer_account_id IN ($2, $3, $4, $5, $6, $7, $8, $9)")),
        "{read_model_selects:#?}"
    );
}
