//! No N+1: resolving many customer representations with their tickets and open
//! urgent/high count costs the same number of SQL statements as resolving two.

use atrium_kit::{demo, testing::StatementLog};
use serde_json::json;

use crate::helpers::spawn_observed;

#[tokio::test]
async fn entity_fetch_with_tickets_costs_the_same_statements_for_2_and_8_customers() {
    let statements = StatementLog::default();
    let support = spawn_observed(atrium_kit::testing::sqlite_url("support"), None, Some(statements.observer())).await;
    let ridgeline = demo::tenant_by_slug("ridgeline").unwrap();
    let query = "query($representations: [_Any!]!) { _entities(representations: $representations) { \
                 ... on CustomerAccount { tickets { nodes { number priority } } openUrgentHighTicketCount } } }";
    let mut counts = Vec::new();
    for customers in [2, 8] {
        let representations: Vec<_> = (0..customers)
            .map(|ordinal| json!({ "__typename": "CustomerAccount", "id": demo::customer_id(ridgeline, ordinal) }))
            .collect();
        statements.clear();
        let data = support.data("ridgeline", query, json!({ "representations": representations })).await;
        counts.push(statements.statements().len());
        let entities = data["_entities"].as_array().unwrap();
        assert_eq!(entities.len(), customers);
        assert!(entities.iter().all(|entity| !entity["tickets"]["nodes"].as_array().unwrap().is_empty()));
    }
    assert_eq!(counts[0], counts[1], "statements for 2 vs 8 customers: {counts:?}");
    // The account stubs cost nothing; one statement loads every customer's tickets.
    assert_eq!(counts[0], 1, "{counts:?}");
}
