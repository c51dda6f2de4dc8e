//! Time through the gateway: the demo consultant logs hours on a running engagement, the
//! delivery manager approves them, and `delivery.time_entry.approved` reaches the
//! customer's timeline in analytics; a 30-hour day is refused and writes nothing.

use std::time::{Duration, Instant};

use atrium_system_tests::{Backend, Stack};
use serde_json::{Value, json};

/// How long the approval may take to reach analytics' timeline on a loaded machine.
const TIMELINE_DEADLINE: Duration = Duration::from_secs(20);

async fn graphql(stack: &Stack, token: &str, query: &str, variables: Value) -> Value {
    let (status, body) = stack.post(Some(token), json!({ "query": query, "variables": variables }), &[]).await;
    assert_eq!(status, 200, "{body:#}");
    body
}

const RUNNING: &str = "{ engagements(first: 100, status: [DELIVERING]) { nodes { id customerAccount { id } } } }";
const SUBMIT: &str = "mutation($engagement: ID!, $date: NaiveDate!, $hours: Decimal!) { \
    submitTimeEntry(engagementId: $engagement, workDate: $date, hours: $hours, billable: true, \
    category: IMPLEMENTATION) { id status hours billAmount staffMember { userId } } }";
const APPROVE: &str = "mutation($id: ID!) { approveTimeEntry(id: $id) { id status } }";
const TODAYS: &str = "query($engagement: ID!, $date: NaiveDate!) { timeEntries(engagementId: $engagement, \
    from: $date, to: $date, first: 50) { nodes { id status } } }";
const TIMELINE: &str = "query($id: ID!, $after: String) { customerAccount(id: $id) { \
    timeline(first: 100, after: $after) { nodes { type } pageInfo { hasNextPage endCursor } } } }";

/// The customer's timeline entry types, all pages.
async fn timeline(stack: &Stack, token: &str, customer: &str) -> Vec<String> {
    let mut types = Vec::new();
    let mut after = Value::Null;
    loop {
        let body = graphql(stack, token, TIMELINE, json!({ "id": customer, "after": after })).await;
        let page = &body["data"]["customerAccount"]["timeline"];
        let nodes = page["nodes"].as_array().unwrap_or_else(|| panic!("a timeline: {body:#}"));
        types.extend(nodes.iter().filter_map(|node| node["type"].as_str().map(str::to_owned)));
        if page["pageInfo"]["hasNextPage"] != true {
            return types;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
}

async fn time_is_logged_approved_and_seen(backend: Backend) {
    let Some(stack) = Stack::start(backend).await else { return };
    let consultant = stack.token("ridgeline", &["consultant"]);
    let manager = stack.token("ridgeline", &["delivery_manager"]);
    let admin = stack.token("ridgeline", &["tenant_admin"]);
    let today = atrium_kit::calendar::tenant_date(atrium_kit::demo::tenant_id("ridgeline"), chrono::Utc::now());

    let running = graphql(&stack, &manager, RUNNING, json!({})).await;
    let engagement = &running["data"]["engagements"]["nodes"][0];
    let engagement_id = engagement["id"].as_str().unwrap_or_else(|| panic!("a delivering engagement: {running:#}"));
    let customer_id = engagement["customerAccount"]["id"].as_str().expect("its customer").to_owned();
    let approved_before =
        timeline(&stack, &admin, &customer_id).await.iter().filter(|entry| *entry == "TIME_ENTRY_APPROVED").count();

    // A 30-hour day is refused, and nothing is written.
    let todays = json!({ "engagement": engagement_id, "date": today });
    let before = graphql(&stack, &manager, TODAYS, todays.clone()).await["data"]["timeEntries"]["nodes"].clone();
    let refused =
        graphql(&stack, &consultant, SUBMIT, json!({ "engagement": engagement_id, "date": today, "hours": "30" }))
            .await;
    assert_eq!(refused["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{refused:#}");
    assert!(refused["errors"][0]["message"].as_str().is_some_and(|m| m.contains("24")), "{refused:#}");
    let after = graphql(&stack, &manager, TODAYS, todays.clone()).await["data"]["timeEntries"]["nodes"].clone();
    assert_eq!(after, before, "the refused entry left nothing");

    // The consultant logs their own day; it resolves to their staff member.
    let logged =
        graphql(&stack, &consultant, SUBMIT, json!({ "engagement": engagement_id, "date": today, "hours": "7.5" }))
            .await;
    assert!(logged.get("errors").is_none(), "{logged:#}");
    let entry = &logged["data"]["submitTimeEntry"];
    assert_eq!(entry["status"], "SUBMITTED");
    assert_eq!(entry["hours"], "7.5");
    assert_eq!(entry["staffMember"]["userId"], "consultant@ridgeline");
    let entry_id = entry["id"].as_str().expect("entry id").to_owned();

    // Consultants do not approve; the delivery manager does.
    let self_approval = graphql(&stack, &consultant, APPROVE, json!({ "id": entry_id })).await;
    assert_eq!(self_approval["errors"][0]["extensions"]["code"], "FORBIDDEN", "{self_approval:#}");
    let approved = graphql(&stack, &manager, APPROVE, json!({ "id": entry_id })).await;
    assert!(approved.get("errors").is_none(), "{approved:#}");
    assert_eq!(approved["data"]["approveTimeEntry"]["status"], "APPROVED");

    // The event reaches the customer's timeline.
    let started = Instant::now();
    loop {
        let types = timeline(&stack, &admin, &customer_id).await;
        if types.iter().filter(|entry| *entry == "TIME_ENTRY_APPROVED").count() == approved_before + 1 {
            break;
        }
        assert!(started.elapsed() < TIMELINE_DEADLINE, "no approved time on the timeline: {types:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_consultants_approved_time_reaches_the_timeline_on_sqlite() {
    time_is_logged_approved_and_seen(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_consultants_approved_time_reaches_the_timeline_on_postgres() {
    time_is_logged_approved_and_seen(Backend::Postgres).await;
}
