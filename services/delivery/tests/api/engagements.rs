//! Engagement and milestone reads: the demo stories, derived values, status filters and
//! cursor pagination (root and nested).

use atrium_kit::{demo, testing};
use chrono::{Duration, NaiveDate};
use serde_json::{Value, json};

use crate::helpers::{ENTITIES_QUERY, TestDelivery, customer_representations, sqlite_delivery, test_today};

fn story_ordinal(slug: &str, story: demo::Story) -> usize {
    let tenant = demo::tenant_by_slug(slug).unwrap();
    tenant.customers.iter().position(|customer| customer.story == Some(story)).unwrap()
}

async fn customer_engagements(delivery: &TestDelivery, slug: &str, story: demo::Story) -> Vec<Value> {
    let representations = customer_representations(slug, [story_ordinal(slug, story)]);
    let data = delivery.data(slug, ENTITIES_QUERY, json!({ "representations": representations })).await;
    data["_entities"][0]["engagements"]["nodes"].as_array().unwrap().clone()
}

fn date(value: &Value) -> NaiveDate {
    value.as_str().unwrap().parse().unwrap()
}

fn milestone<'a>(engagement: &'a Value, name: &str) -> &'a Value {
    engagement["milestones"].as_array().unwrap().iter().find(|m| m["name"] == name).unwrap()
}

#[tokio::test]
async fn prairie_foods_go_live_slips_35_days_with_uat_late_and_at_risk() {
    let delivery = sqlite_delivery().await;
    let engagements = customer_engagements(&delivery, "ridgeline", demo::Story::PrairieFoods).await;
    let current = engagements.iter().find(|e| e["status"] == "DELIVERING").expect("a delivering engagement");
    assert_eq!(current["goLiveVarianceDays"], 35);
    let uat = milestone(current, "UAT");
    assert_eq!(uat["atRisk"], true);
    assert_eq!(uat["late"], true);
    let names: Vec<&str> =
        current["milestones"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert_eq!(names.first(), Some(&"Kickoff & onboarding"), "ordered by seq");

    let today = test_today();
    let query = "query($id: ID!) { engagement(id: $id) { rag type goLiveTargetDate goLiveForecastDate \
                 customerAccount { id } blueprint { id } milestones { seq engagement { id } } } }";
    let data = delivery.data("ridgeline", query, json!({ "id": current["id"] })).await;
    let engagement = &data["engagement"];
    assert_eq!(engagement["rag"], "RED");
    assert_eq!(engagement["type"], "IMPLEMENTATION");
    assert_eq!(date(&engagement["goLiveTargetDate"]), today - Duration::days(10));
    assert_eq!(date(&engagement["goLiveForecastDate"]), today + Duration::days(25));
    let ridgeline = demo::tenant_by_slug("ridgeline").unwrap();
    assert_eq!(engagement["blueprint"]["id"], demo::blueprint_id(ridgeline, 0).to_string());
    let seqs: Vec<i64> =
        engagement["milestones"].as_array().unwrap().iter().map(|m| m["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, (1..=7).collect::<Vec<_>>());
    assert_eq!(engagement["milestones"][0]["engagement"]["id"], current["id"]);
}

#[tokio::test]
async fn blue_heron_started_onboarding_two_days_ago() {
    let delivery = sqlite_delivery().await;
    let engagements = customer_engagements(&delivery, "ridgeline", demo::Story::BlueHeron).await;
    assert_eq!(engagements.len(), 1);
    assert_eq!(engagements[0]["status"], "ONBOARDING");
    let data = delivery
        .data(
            "ridgeline",
            "query($id: ID!) { engagement(id: $id) { startDate } }",
            json!({ "id": engagements[0]["id"] }),
        )
        .await;
    assert_eq!(date(&data["engagement"]["startDate"]), test_today() - Duration::days(2));
    assert_eq!(engagements[0]["milestones"][0]["status"], "IN_PROGRESS");
}

#[tokio::test]
async fn harborview_control_testing_is_forecast_18_days_late() {
    let delivery = sqlite_delivery().await;
    let engagements = customer_engagements(&delivery, "veritas", demo::Story::Harborview).await;
    let control_testing = milestone(&engagements[0], "Control testing");
    assert_eq!((date(&control_testing["forecastDate"]) - date(&control_testing["dueDate"])).num_days(), 18);
    assert_eq!(control_testing["atRisk"], true);
    assert_eq!(control_testing["late"], false);
}

#[tokio::test]
async fn seeds_closed_and_live_engagements_too() {
    let delivery = sqlite_delivery().await;
    let data = delivery
        .data("ridgeline", "{ engagements(first: 100, status: [CLOSED, LIVE]) { nodes { status } } }", json!({}))
        .await;
    let statuses: Vec<&str> =
        data["engagements"]["nodes"].as_array().unwrap().iter().map(|n| n["status"].as_str().unwrap()).collect();
    assert!(statuses.contains(&"CLOSED"), "{statuses:?}");
    assert!(statuses.iter().all(|status| ["CLOSED", "LIVE"].contains(status)), "{statuses:?}");
}

#[tokio::test]
async fn pages_through_engagements_with_first_and_after() {
    let delivery = sqlite_delivery().await;
    let all = delivery.data("veritas", "{ engagements(first: 100) { nodes { id } } }", json!({})).await;
    let all_ids: Vec<Value> = all["engagements"]["nodes"].as_array().unwrap().iter().map(|n| n["id"].clone()).collect();
    assert!(all_ids.len() > 3);

    let query = "query($after: String) { engagements(first: 3, after: $after) { \
                 nodes { id } pageInfo { hasNextPage endCursor } } }";
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let data = delivery.data("veritas", query, json!({ "after": after })).await;
        let page = &data["engagements"];
        let nodes = page["nodes"].as_array().unwrap();
        assert!(nodes.len() <= 3);
        seen.extend(nodes.iter().map(|n| n["id"].clone()));
        if page["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen, all_ids);
}

#[tokio::test]
async fn pages_through_a_customers_engagements_with_first_and_after() {
    let delivery = sqlite_delivery().await;
    let ridgeline = demo::tenant_by_slug("ridgeline").unwrap();
    // Find a customer with at least two engagements.
    let representations = customer_representations("ridgeline", 0..ridgeline.customers.len());
    let data = delivery.data("ridgeline", ENTITIES_QUERY, json!({ "representations": representations })).await;
    let (ordinal, full) = data["_entities"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .find(|(_, e)| e["engagements"]["nodes"].as_array().unwrap().len() >= 2)
        .expect("a customer with two engagements");
    let expected: Vec<Value> =
        full["engagements"]["nodes"].as_array().unwrap().iter().map(|n| n["id"].clone()).collect();

    let query = "query($r: [_Any!]!, $after: String) { _entities(representations: $r) { ... on CustomerAccount { \
                 engagements(first: 1, after: $after) { nodes { id } pageInfo { hasNextPage endCursor } } } } }";
    let representation = customer_representations("ridgeline", [ordinal]);
    let first = delivery.data("ridgeline", query, json!({ "r": representation, "after": null })).await;
    let page = &first["_entities"][0]["engagements"];
    assert_eq!(page["nodes"], json!([{ "id": expected[0] }]));
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
    let second =
        delivery.data("ridgeline", query, json!({ "r": representation, "after": page["pageInfo"]["endCursor"] })).await;
    assert_eq!(second["_entities"][0]["engagements"]["nodes"], json!([{ "id": expected[1] }]));
}

#[tokio::test]
async fn rejects_first_zero_with_bad_user_input() {
    let delivery = sqlite_delivery().await;
    let context = testing::context_for("ridgeline", "csm");
    let (status, body) = delivery.query(Some(&context), "{ engagements(first: 0) { nodes { id } } }", json!({})).await;
    // The request was valid; a resolver error nulling `data` is an execution result (200),
    // unlike parse/validation failures, which are request errors (400).
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"], json!(null));
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");

    let query = "query($r: [_Any!]!) { _entities(representations: $r) { ... on CustomerAccount { \
                 engagements(first: 0) { nodes { id } } } } }";
    let (_, body) =
        delivery.query(Some(&context), query, json!({ "r": customer_representations("ridgeline", [0]) })).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{body}");
}

#[tokio::test]
async fn filters_a_customers_engagements_by_status() {
    let delivery = sqlite_delivery().await;
    let query = "query($r: [_Any!]!) { _entities(representations: $r) { ... on CustomerAccount { \
                 delivering: engagements(status: [DELIVERING]) { nodes { status } } \
                 closed: engagements(status: [CLOSED]) { nodes { status } } } } }";
    let ordinal = story_ordinal("ridgeline", demo::Story::PrairieFoods);
    let data =
        delivery.data("ridgeline", query, json!({ "r": customer_representations("ridgeline", [ordinal]) })).await;
    assert_eq!(data["_entities"][0]["delivering"]["nodes"], json!([{ "status": "DELIVERING" }]));
    assert_eq!(data["_entities"][0]["closed"]["nodes"], json!([]));
}

#[tokio::test]
async fn reseeding_a_seeded_database_changes_nothing() {
    let url = testing::sqlite_url("delivery");
    let query = "{ engagements(first: 100) { nodes { id number milestones { id } } } }";
    let first = crate::helpers::spawn(url.clone(), None).await.data("ridgeline", query, json!({})).await;
    let second = crate::helpers::spawn(url, None).await.data("ridgeline", query, json!({})).await;
    assert_eq!(first, second);
}
