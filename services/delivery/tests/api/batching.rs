//! The platform's proof of DataLoader batching: the number of SQL statements a request
//! runs does not grow with the number of parents.

use atrium_kit::testing;
use serde_json::json;

use atrium_kit::testing::StatementLog;

use crate::helpers::{TestDelivery, customer_representations, spawn_observed};

const NESTED_QUERY: &str = "query($representations: [_Any!]!) { _entities(representations: $representations) { \
    ... on CustomerAccount { engagements { nodes { status milestones { name status } } } } } }";

fn is_data_select(sql: &str) -> bool {
    sql.trim_start().to_ascii_uppercase().starts_with("SELECT")
        && (sql.contains("FROM \"engagements\"") || sql.contains("FROM \"milestones\""))
}

/// Runs the nested query over `customers` representations; returns (data selects, all statements).
async fn statements_for(delivery: &TestDelivery, log: &StatementLog, customers: usize) -> (Vec<String>, usize) {
    let representations = customer_representations("ridgeline", 0..customers);
    log.clear();
    let data = delivery.data("ridgeline", NESTED_QUERY, json!({ "representations": representations })).await;
    let entities = data["_entities"].as_array().unwrap();
    assert_eq!(entities.len(), customers);
    let milestones: usize = entities
        .iter()
        .flat_map(|e| e["engagements"]["nodes"].as_array().unwrap())
        .map(|n| n["milestones"].as_array().unwrap().len())
        .sum();
    assert!(milestones > 0, "the query must actually reach milestones: {data}");
    let statements = log.statements();
    (statements.iter().filter(|sql| is_data_select(sql)).cloned().collect(), statements.len())
}

#[tokio::test]
async fn loads_engagements_and_milestones_of_many_customers_in_two_statements() {
    let log = StatementLog::default();
    let delivery = spawn_observed(testing::sqlite_url("delivery"), None, Some(log.observer())).await;
    let (two, two_total) = statements_for(&delivery, &log, 2).await;
    let (eight, eight_total) = statements_for(&delivery, &log, 8).await;
    assert_eq!(two.len(), 2, "one engagements select + one milestones select: {two:#?}");
    assert_eq!(eight.len(), 2, "still two for eight customers: {eight:#?}");
    assert_eq!(two_total, eight_total, "transaction setup does not grow either");
    // On SQLite BEGIN/COMMIT are not reported to the observer (on PostgreSQL the tenant's
    // `set_config` would add one): the two data selects are the whole request.
    assert_eq!(eight_total, 2, "{:#?}", log.statements());
    assert!(eight.iter().any(|sql| sql.contains("FROM \"engagements\"")));
    assert!(eight.iter().any(|sql| sql.contains("FROM \"milestones\"")));
}

const OPERATIONS_QUERY: &str = "query($representations: [_Any!]!) { _entities(representations: $representations) { \
    ... on CustomerAccount { engagements { nodes { timeEntries(first: 100) { nodes { hours staffMember { name } } } \
    changeRequests { number } team { name } } } } } }";

fn is_operations_select(sql: &str) -> bool {
    sql.trim_start().to_ascii_uppercase().starts_with("SELECT")
}

#[tokio::test]
async fn loads_time_entries_change_requests_and_staff_of_many_engagements_in_one_statement_each() {
    let log = StatementLog::default();
    let delivery = spawn_observed(testing::sqlite_url("delivery"), None, Some(log.observer())).await;
    let mut per_size = Vec::new();
    for customers in [3, 12] {
        let representations = customer_representations("ridgeline", 0..customers);
        log.clear();
        let data = delivery.data("ridgeline", OPERATIONS_QUERY, json!({ "representations": representations })).await;
        let entries: usize = data["_entities"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|e| e["engagements"]["nodes"].as_array().unwrap())
            .map(|n| n["timeEntries"]["nodes"].as_array().unwrap().len())
            .sum();
        assert!(entries > 0, "the query must reach time entries: {data}");
        let selects: Vec<String> = log.statements().into_iter().filter(|sql| is_operations_select(sql)).collect();
        per_size.push(selects);
    }
    // engagements, time entries, change requests, staff (shared by `staffMember` and `team`).
    for selects in &per_size {
        assert_eq!(selects.len(), 4, "{selects:#?}");
        for table in ["engagements", "time_entries", "change_requests", "staff_members"] {
            assert!(selects.iter().any(|sql| sql.contains(&format!("FROM \"{table}\""))), "{table}: {selects:#?}");
        }
    }
}
