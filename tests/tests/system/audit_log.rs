//! The audit trail end to end: a `support_agent` changes a ticket's status with a POST
//! mutation through the gateway, a `tenant_admin` of the same tenant reads the entry in
//! `auditLog`, other roles are refused, another tenant's admin never sees it, and a
//! mutation sent with GET is refused with 405 before anything runs.

use atrium_system_tests::{Backend, Stack};
use serde_json::{Value, json};

const AUDIT_LOG: &str = "{ auditLog(first: 100) { nodes { subject clientKind operation entityIds outcome detail } } }";

async fn open_ticket_id(stack: &Stack, token: &str) -> String {
    let body = stack.query(token, "{ tickets(first: 1, status: [OPEN]) { nodes { id } } }").await;
    body["data"]["tickets"]["nodes"][0]["id"].as_str().expect("an open ticket").to_owned()
}

fn audit_entries(body: &Value) -> Vec<Value> {
    body["data"]["auditLog"]["nodes"].as_array().expect("audit nodes").clone()
}

/// Percent-encodes everything but ASCII letters and digits, for a GET query string.
fn percent_encoded(text: &str) -> String {
    text.bytes()
        .map(|byte| if byte.is_ascii_alphanumeric() { (byte as char).to_string() } else { format!("%{byte:02X}") })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_status_change_is_audited_and_visible_only_to_its_tenants_admins() {
    let Some(stack) = Stack::start(Backend::Sqlite).await else { return };
    let agent = stack.token("ridgeline", &["support_agent"]);
    let ticket = open_ticket_id(&stack, &agent).await;

    let mutation = "mutation($id: ID!) { changeTicketStatus(id: $id, status: PENDING) { id status } }";
    let (status, body) =
        stack.post(Some(&agent), json!({ "query": mutation, "variables": { "id": ticket } }), &[]).await;
    assert_eq!(status, 200, "{body:#}");
    assert!(body.get("errors").is_none(), "{body:#}");
    assert_eq!(body["data"]["changeTicketStatus"]["status"], "PENDING");

    let admin = stack.token("ridgeline", &["tenant_admin"]);
    let body = stack.query(&admin, AUDIT_LOG).await;
    assert!(body.get("errors").is_none(), "{body:#}");
    let entries = audit_entries(&body);
    assert_eq!(entries.len(), 1, "{body:#}");
    assert_eq!(entries[0]["operation"], "changeTicketStatus");
    assert_eq!(entries[0]["entityIds"], json!([ticket]));
    assert_eq!(entries[0]["outcome"], "SUCCEEDED");
    assert_eq!(entries[0]["clientKind"], "dashboard");
    assert_eq!(entries[0]["detail"], "open -> pending");
    assert!(entries[0]["subject"].as_str().is_some_and(|subject| !subject.is_empty()), "{body:#}");

    let (status, body) =
        stack.post(Some(&stack.token("ridgeline", &["csm"])), json!({ "query": AUDIT_LOG }), &[]).await;
    assert_eq!(status, 200, "{body:#}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN", "{body:#}");

    let helix_admin = stack.token("helix", &["tenant_admin"]);
    let body = stack.query(&helix_admin, AUDIT_LOG).await;
    assert!(body.get("errors").is_none(), "{body:#}");
    assert!(audit_entries(&body).is_empty(), "helix sees ridgeline's audit entry: {body:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mutation_sent_with_get_is_refused_and_changes_nothing() {
    let Some(stack) = Stack::start(Backend::Sqlite).await else { return };
    let agent = stack.token("ridgeline", &["support_agent"]);
    let ticket = open_ticket_id(&stack, &agent).await;
    let mutation = format!("mutation {{ changeTicketStatus(id: \"{ticket}\", status: PENDING) {{ id }} }}");
    let (status, headers, _) =
        stack.get(&stack.gateway_url, &agent, &format!("query={}", percent_encoded(&mutation))).await;
    assert_eq!(status, 405);
    assert_eq!(headers.get("allow").and_then(|value| value.to_str().ok()), Some("POST"));

    let admin = stack.token("ridgeline", &["tenant_admin"]);
    assert!(audit_entries(&stack.query(&admin, AUDIT_LOG).await).is_empty());
    let body = stack.query(&agent, &format!("{{ ticket(id: \"{ticket}\") {{ status }} }}")).await;
    assert_eq!(body["data"]["ticket"]["status"], "OPEN");
}
