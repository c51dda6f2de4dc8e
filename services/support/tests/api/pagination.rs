//! Cursor pagination and filters of root and nested ticket lists: `first`/`after` walk a
//! whole list without gaps or repeats, and out-of-range page sizes are client errors.

use atrium_kit::{demo, testing};
use serde_json::{Value, json};

use crate::helpers::{spawn_sqlite, strings};

#[tokio::test]
async fn walks_all_tickets_page_by_page() {
    let support = spawn_sqlite().await;
    let everything = support.data("ridgeline", "{ tickets(first: 100) { nodes { number } } }", json!({})).await;
    let expected = strings(&everything["tickets"], "number");
    let query = "query($after: String) { tickets(first: 7, after: $after) { nodes { number } \
                 pageInfo { hasNextPage endCursor } } }";
    let mut numbers = Vec::new();
    let mut after = Value::Null;
    loop {
        let data = support.data("ridgeline", query, json!({ "after": after })).await;
        numbers.extend(strings(&data["tickets"], "number"));
        if data["tickets"]["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = data["tickets"]["pageInfo"]["endCursor"].clone();
    }
    assert!(expected.len() > 7);
    assert_eq!(numbers, expected);
}

#[tokio::test]
async fn filters_tickets_by_status_and_priority() {
    let support = spawn_sqlite().await;
    let query = "{ tickets(first: 100, status: [NEW, OPEN, PENDING, ON_HOLD], priority: [URGENT, HIGH]) { \
                 nodes { status priority } } }";
    let data = support.data("veritas", query, json!({})).await;
    let tickets = data["tickets"]["nodes"].as_array().unwrap();
    assert!(tickets.len() >= 3, "{data}");
    assert!(tickets.iter().all(|ticket| ["URGENT", "HIGH"].contains(&ticket["priority"].as_str().unwrap())));
    assert!(tickets.iter().all(|ticket| !["SOLVED", "CLOSED"].contains(&ticket["status"].as_str().unwrap())));
}

#[tokio::test]
async fn pages_a_customers_tickets() {
    let support = spawn_sqlite().await;
    let rheinwerk = demo::customer_id(demo::tenant_by_slug("veritas").unwrap(), 0);
    let query = "query($representations: [_Any!]!, $after: String) { _entities(representations: $representations) { \
                 ... on CustomerAccount { all: tickets { nodes { number } } \
                 page: tickets(first: 3, after: $after) { nodes { number } pageInfo { hasNextPage endCursor } } \
                 high: tickets(priority: [HIGH]) { nodes { priority } } } } }";
    let representations = json!([{ "__typename": "CustomerAccount", "id": rheinwerk }]);
    let first = support.data("veritas", query, json!({ "representations": representations, "after": null })).await;
    let account = &first["_entities"][0];
    let all = strings(&account["all"], "number");
    assert_eq!(strings(&account["page"], "number"), all[..3]);
    assert_eq!(account["page"]["pageInfo"]["hasNextPage"], true);
    assert!(account["high"]["nodes"].as_array().unwrap().iter().all(|ticket| ticket["priority"] == "HIGH"));

    let cursor = account["page"]["pageInfo"]["endCursor"].clone();
    let second = support.data("veritas", query, json!({ "representations": representations, "after": cursor })).await;
    assert_eq!(strings(&second["_entities"][0]["page"], "number"), all[3..6]);
}

#[tokio::test]
async fn rejects_a_page_size_of_zero_with_bad_user_input() {
    let support = spawn_sqlite().await;
    let context = testing::context_for("ridgeline", "support_agent");
    let customer = demo::customer_id(demo::tenant_by_slug("ridgeline").unwrap(), 0);
    let nested = format!(
        "{{ _entities(representations: [{{ __typename: \"CustomerAccount\", id: \"{customer}\" }}]) {{ \
         ... on CustomerAccount {{ tickets(first: 0) {{ nodes {{ number }} }} }} }} }}"
    );
    for query in ["{ tickets(first: 0) { nodes { number } } }", "{ tickets(first: 101) { nodes { number } } }", &nested]
    {
        // A valid request whose resolver rejects an argument is an execution result: 200.
        let (status, body) = support.query(Some(&context), query, json!({})).await;
        assert_eq!(status, 200, "{query}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{query}: {body}");
    }
}
