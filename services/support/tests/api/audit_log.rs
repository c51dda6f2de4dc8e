//! The first audited mutation: `changeTicketStatus` writes the change and its `SUCCEEDED`
//! entry together, a refused transition changes nothing and leaves one `REJECTED` entry,
//! another tenant's ticket is `NOT_FOUND` with nothing written, roles are enforced, a
//! failure mid-change rolls everything back and leaves one `FAILED` entry, and on
//! PostgreSQL the runtime role can neither update nor delete audit entries.

use atrium_kit::{
    TenantTransaction,
    testing::{TestDatabase, context_for},
};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};

use crate::helpers::{TestSupport, spawn, spawn_sqlite};

const CHANGE_STATUS: &str = "mutation($id: ID!, $status: TicketStatus!) { \
    changeTicketStatus(id: $id, status: $status) { id status solvedAt } }";

const AUDIT_LOG: &str = "{ auditLog(first: 100) { nodes { id subject clientKind operation entityType entityIds \
    outcome detail occurredAt } pageInfo { hasNextPage } } }";

/// The id of one of `slug`'s tickets in `status`.
async fn ticket_in_status(support: &TestSupport, slug: &str, status: &str) -> String {
    let query = "query($status: [TicketStatus!]) { tickets(first: 1, status: $status) { nodes { id } } }";
    let data = support.data(slug, query, json!({ "status": [status] })).await;
    data["tickets"]["nodes"][0]["id"].as_str().expect("a ticket in that status").to_owned()
}

async fn ticket_status(support: &TestSupport, slug: &str, id: &str) -> String {
    let data = support.data(slug, "query($id: ID!) { ticket(id: $id) { status } }", json!({ "id": id })).await;
    data["ticket"]["status"].as_str().expect("status").to_owned()
}

async fn change_status(support: &TestSupport, slug: &str, role: &str, id: &str, status: &str) -> Value {
    let (status_code, body) =
        support.query(Some(&context_for(slug, role)), CHANGE_STATUS, json!({ "id": id, "status": status })).await;
    assert_eq!(status_code, 200, "{body}");
    body
}

async fn audit_entries(support: &TestSupport, slug: &str) -> Vec<Value> {
    let (status, body) = support.query(Some(&context_for(slug, "tenant_admin")), AUDIT_LOG, json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("errors").is_none(), "{body}");
    body["data"]["auditLog"]["nodes"].as_array().expect("nodes").clone()
}

fn error_code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"].as_str().unwrap_or_default()
}

async fn assert_a_valid_change_writes_one_succeeded_entry(support: &TestSupport) {
    let id = ticket_in_status(support, "ridgeline", "OPEN").await;
    let body = change_status(support, "ridgeline", "support_agent", &id, "SOLVED").await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(body["data"]["changeTicketStatus"]["status"], "SOLVED");
    assert!(body["data"]["changeTicketStatus"]["solvedAt"].is_string());
    assert_eq!(ticket_status(support, "ridgeline", &id).await, "SOLVED");

    let entries = audit_entries(support, "ridgeline").await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    let entry = &entries[0];
    assert_eq!(entry["subject"], "test-support_agent@ridgeline");
    assert_eq!(entry["clientKind"], "dashboard");
    assert_eq!(entry["operation"], "changeTicketStatus");
    assert_eq!(entry["entityType"], "Ticket");
    assert_eq!(entry["entityIds"], json!([id]));
    assert_eq!(entry["outcome"], "SUCCEEDED");
    assert_eq!(entry["detail"], "open -> solved");
}

async fn assert_an_invalid_transition_changes_nothing_and_is_recorded_as_rejected(support: &TestSupport) {
    let id = ticket_in_status(support, "helix", "OPEN").await;
    let body = change_status(support, "helix", "support_lead", &id, "NEW").await;
    assert_eq!(error_code(&body), "INVALID_TRANSITION", "{body}");
    assert!(body["errors"][0]["message"].as_str().unwrap_or_default().contains("cannot move from OPEN to NEW"));
    assert_eq!(body["errors"][0]["extensions"]["current"], "OPEN", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["allowed"], json!(["PENDING", "ON_HOLD", "SOLVED"]), "{body}");
    assert_eq!(ticket_status(support, "helix", &id).await, "OPEN");

    let entries = audit_entries(support, "helix").await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["outcome"], "REJECTED");
    assert_eq!(entries[0]["entityIds"], json!([id]));
    assert_eq!(entries[0]["subject"], "test-support_lead@helix");
}

async fn assert_another_tenants_ticket_is_not_found_and_nothing_is_written(support: &TestSupport) {
    let veritas_ticket = ticket_in_status(support, "veritas", "OPEN").await;
    let before = audit_entries(support, "ridgeline").await.len();
    let body = change_status(support, "ridgeline", "support_agent", &veritas_ticket, "PENDING").await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
    assert_eq!(ticket_status(support, "veritas", &veritas_ticket).await, "OPEN");
    assert_eq!(audit_entries(support, "ridgeline").await.len(), before);
    assert!(audit_entries(support, "veritas").await.is_empty());
}

async fn assert_roles_are_enforced(support: &TestSupport) {
    let id = ticket_in_status(support, "ridgeline", "OPEN").await;
    let body = change_status(support, "ridgeline", "csm", &id, "PENDING").await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    assert_eq!(ticket_status(support, "ridgeline", &id).await, "OPEN");
    let (status, body) = support.query(Some(&context_for("ridgeline", "support_lead")), AUDIT_LOG, json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
}

async fn assert_the_audit_trail_is_kept(support: &TestSupport) {
    assert_a_valid_change_writes_one_succeeded_entry(support).await;
    assert_an_invalid_transition_changes_nothing_and_is_recorded_as_rejected(support).await;
    assert_another_tenants_ticket_is_not_found_and_nothing_is_written(support).await;
    assert_roles_are_enforced(support).await;
}

#[tokio::test]
async fn ticket_status_changes_are_audited_per_tenant_on_sqlite() {
    let support = spawn_sqlite().await;
    assert_the_audit_trail_is_kept(&support).await;
}

#[tokio::test]
async fn ticket_status_changes_are_audited_per_tenant_on_postgres() {
    let Some(database) = TestDatabase::create("support_audit").await else { return };
    let support = spawn(database.runtime_url.clone(), Some(database.owner_url.clone())).await;
    assert_the_audit_trail_is_kept(&support).await;
}

#[tokio::test]
async fn audit_entries_are_append_only_for_the_runtime_role_on_postgres() {
    let Some(database) = TestDatabase::create("support_audit_append_only").await else { return };
    let support = spawn(database.runtime_url.clone(), Some(database.owner_url.clone())).await;
    let id = ticket_in_status(&support, "ridgeline", "OPEN").await;
    let body = change_status(&support, "ridgeline", "support_agent", &id, "PENDING").await;
    assert!(body.get("errors").is_none(), "{body}");

    let runtime = Database::connect(&database.runtime_url).await.expect("runtime role connects");
    for statement in ["UPDATE audit_log SET detail = 'rewritten'", "DELETE FROM audit_log"] {
        let tx = TenantTransaction::begin(&runtime, &context_for("ridgeline", "tenant_admin")).await.expect("begin");
        let error = tx.connection().execute_unprepared(statement).await.expect_err(statement);
        assert!(error.to_string().contains("permission denied"), "{statement}: {error}");
    }
    let tx = TenantTransaction::begin(&runtime, &context_for("ridgeline", "tenant_admin")).await.expect("begin");
    tx.connection()
        .execute_unprepared("SELECT count(*) FROM audit_log")
        .await
        .expect("the runtime role still reads the audit trail");
    let entries = audit_entries(&support, "ridgeline").await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["detail"], "open -> pending");
}

/// Breaks the change's last write (the outbox) for real, then changes a ticket: the
/// status change and its `SUCCEEDED` entry roll back with it, the caller gets a masked
/// internal error, and the attempt is audited as `FAILED` on its own.
async fn assert_a_failure_mid_change_leaves_nothing_but_a_failed_entry(support: &TestSupport, owner_url: &str) {
    let id = ticket_in_status(support, "ridgeline", "OPEN").await;
    let owner = Database::connect(owner_url).await.expect("owner connects");
    // On PostgreSQL the relay's functions return outbox rows and go with the table.
    let drop =
        if owner_url.starts_with("postgres") { "DROP TABLE change_outbox CASCADE" } else { "DROP TABLE change_outbox" };
    owner.execute_unprepared(drop).await.expect("the outbox can be dropped");

    let body = change_status(support, "ridgeline", "support_agent", &id, "SOLVED").await;
    assert_eq!(error_code(&body), "INTERNAL_SERVER_ERROR", "{body}");
    assert_eq!(ticket_status(support, "ridgeline", &id).await, "OPEN", "the change rolled back");

    let entries = audit_entries(support, "ridgeline").await;
    assert_eq!(entries.len(), 1, "only the failure is recorded: {entries:?}");
    assert_eq!(entries[0]["outcome"], "FAILED");
    assert_eq!(entries[0]["detail"], "internal error", "no internal detail in the tenant's trail");
    assert_eq!(entries[0]["entityIds"], json!([id]));
}

#[tokio::test]
async fn a_failure_mid_change_leaves_nothing_but_a_failed_entry_on_sqlite() {
    let url = atrium_kit::testing::sqlite_url("support_failure");
    let support = spawn(url.clone(), None).await;
    assert_a_failure_mid_change_leaves_nothing_but_a_failed_entry(&support, &url).await;
}

#[tokio::test]
async fn a_failure_mid_change_leaves_nothing_but_a_failed_entry_on_postgres() {
    let Some(database) = TestDatabase::create("support_failure").await else { return };
    let support = spawn(database.runtime_url.clone(), Some(database.owner_url.clone())).await;
    assert_a_failure_mid_change_leaves_nothing_but_a_failed_entry(&support, &database.owner_url).await;
}
