//! Support SLAs end to end through the gateway (docs/domain.md#sla-clocks): a support agent
//! opens an urgent ticket whose clocks run with due times, moving it to `PENDING` pauses
//! them, and a comment on another tenant's ticket is refused with nothing written.

use atrium_system_tests::{Backend, Stack};
use serde_json::{Value, json};

const CREATE: &str = "mutation($input: CreateTicketInput!) { createTicket(input: $input) { \
    id status priority slaClocks { metric status targetMinutes dueAt startedAt } } }";
const CHANGE_STATUS: &str = "mutation($id: ID!, $status: TicketStatus!) { changeTicketStatus(id: $id, status: $status) { \
    status slaClocks { metric status dueAt } } }";
const COMMENT: &str = "mutation($id: ID!) { commentOnTicket(ticketId: $id, body: \"Hello\", public: true) { id } }";
const AUDIT_LOG: &str = "{ auditLog(first: 100) { nodes { operation entityIds outcome } } }";

async fn mutate(stack: &Stack, token: &str, query: &str, variables: Value) -> Value {
    let (status, body) = stack.post(Some(token), json!({ "query": query, "variables": variables }), &[]).await;
    assert_eq!(status, 200, "{body:#}");
    body
}

fn clocks(value: &Value) -> Vec<Value> {
    value["slaClocks"].as_array().expect("slaClocks").clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_urgent_tickets_clocks_run_with_due_times_and_pause_while_pending() {
    let Some(stack) = Stack::start(Backend::Sqlite).await else { return };
    let agent = stack.token("ridgeline", &["support_agent"]);
    let customer = atrium_kit::demo::customer_id(atrium_kit::demo::tenant_by_slug("ridgeline").unwrap(), 0);
    let input = json!({
        "customerAccountId": customer,
        "requesterName": "Dana Example",
        "requesterEmail": "dana@example.com",
        "subject": "Users cannot log in",
        "channel": "PHONE",
        "category": "OUTAGE",
        "priority": "URGENT",
    });
    let body = mutate(&stack, &agent, CREATE, json!({ "input": input })).await;
    assert!(body.get("errors").is_none(), "{body:#}");
    let ticket = &body["data"]["createTicket"];
    assert_eq!((ticket["status"].as_str(), ticket["priority"].as_str()), (Some("NEW"), Some("URGENT")));
    let running = clocks(ticket);
    let metrics: Vec<&str> = running.iter().map(|clock| clock["metric"].as_str().unwrap()).collect();
    assert_eq!(metrics, ["FIRST_RESPONSE", "RESOLUTION"], "{body:#}");
    for clock in &running {
        assert_eq!(clock["status"], "RUNNING", "{body:#}");
        let started = chrono::DateTime::parse_from_rfc3339(clock["startedAt"].as_str().unwrap()).unwrap();
        let due = chrono::DateTime::parse_from_rfc3339(clock["dueAt"].as_str().expect("dueAt")).unwrap();
        // Urgent targets count around the clock: due exactly the target after the start.
        assert_eq!((due - started).num_minutes(), clock["targetMinutes"].as_i64().unwrap(), "{clock}");
    }

    let id = ticket["id"].clone();
    let opened = mutate(&stack, &agent, CHANGE_STATUS, json!({ "id": id, "status": "OPEN" })).await;
    assert!(
        clocks(&opened["data"]["changeTicketStatus"]).iter().all(|clock| clock["status"] == "RUNNING"),
        "{opened:#}"
    );
    let pending = mutate(&stack, &agent, CHANGE_STATUS, json!({ "id": id, "status": "PENDING" })).await;
    assert_eq!(pending["data"]["changeTicketStatus"]["status"], "PENDING", "{pending:#}");
    for clock in clocks(&pending["data"]["changeTicketStatus"]) {
        assert_eq!((clock["status"].as_str(), &clock["dueAt"]), (Some("PAUSED"), &Value::Null), "{pending:#}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_comment_on_another_tenants_ticket_is_refused_with_nothing_written() {
    let Some(stack) = Stack::start(Backend::Sqlite).await else { return };
    let helix_agent = stack.token("helix", &["support_agent"]);
    let helix_ticket = stack.query(&helix_agent, "{ tickets(first: 1, status: [OPEN]) { nodes { id } } }").await;
    let id = helix_ticket["data"]["tickets"]["nodes"][0]["id"].as_str().expect("an open helix ticket").to_owned();

    let comments_query = format!("{{ ticket(id: \"{id}\") {{ comments {{ id body }} firstRespondedAt }} }}");
    let before = stack.query(&helix_agent, &comments_query).await;
    assert!(before["data"]["ticket"]["comments"].is_array(), "{before:#}");

    let ridgeline_agent = stack.token("ridgeline", &["support_agent"]);
    let body = mutate(&stack, &ridgeline_agent, COMMENT, json!({ "id": id })).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "NOT_FOUND", "{body:#}");
    assert_eq!(body["data"], Value::Null, "{body:#}");

    // Another document than before, so no cached answer can stand in for the database.
    let fresh_query = format!("{{ ticket(id: \"{id}\") {{ number comments {{ id body }} firstRespondedAt }} }}");
    let after = stack.query(&helix_agent, &fresh_query).await;
    for field in ["comments", "firstRespondedAt"] {
        assert_eq!(after["data"]["ticket"][field], before["data"]["ticket"][field], "{field} changed: {after:#}");
    }
    for slug in ["ridgeline", "helix"] {
        let admin = stack.token(slug, &["tenant_admin"]);
        let audit = stack.query(&admin, AUDIT_LOG).await;
        assert_eq!(audit["data"]["auditLog"]["nodes"], json!([]), "{slug}: {audit:#}");
    }
}
