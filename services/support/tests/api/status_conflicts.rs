//! Ticket status changes are conditional updates (`WHERE id = … AND status = <read>`): a
//! change decided on a status that moved in the meantime is refused with `CONFLICT`
//! instead of overwriting the newer state, so of two concurrent transitions from the same
//! state exactly one wins and exactly one `SUCCEEDED` audit entry and change event exist.

use atrium_kit::{
    TenantTransaction,
    testing::{TestDatabase, context_for},
};
use atrium_support::{
    config::Config,
    domain::TicketStatus,
    error::SupportError,
    repository::{self, TicketFilter},
};
use sea_orm::{ConnectionTrait, Database, DatabaseBackend, Statement};
use serde_json::{Value, json};

use crate::helpers::{TestSupport, spawn, spawn_configured};

const CHANGE_STATUS: &str = "mutation($id: ID!, $status: TicketStatus!) { \
    changeTicketStatus(id: $id, status: $status) { id status } }";

#[tokio::test]
async fn a_status_change_decided_on_a_stale_read_conflicts_on_postgres() {
    let Some(database) = TestDatabase::create("support_stale_status").await else { return };
    let _support = spawn(database.runtime_url.clone(), Some(database.owner_url.clone())).await;
    let runtime = Database::connect(&database.runtime_url).await.expect("runtime role connects");
    let context = context_for("ridgeline", "support_agent");

    let first = TenantTransaction::begin(&runtime, &context).await.expect("begin");
    let second = TenantTransaction::begin(&runtime, &context).await.expect("begin");
    let open = TicketFilter { statuses: vec![TicketStatus::Open], ..TicketFilter::default() };
    let ticket = repository::tickets_page(&first, &open, None, 1).await.expect("page").pop().expect("an open ticket");
    let stale = repository::tickets_by_ids(&second, &[ticket.id]).await.expect("read").pop().expect("the ticket");
    assert_eq!(stale.status, TicketStatus::Open);

    let now = chrono::Utc::now();
    repository::change_ticket_status(&first, &ticket, TicketStatus::Solved, now).await.expect("first change");
    first.commit().await.expect("commit");
    let outcome = repository::change_ticket_status(&second, &stale, TicketStatus::Pending, now).await;
    let error = outcome.expect_err("a change based on a status that moved meanwhile must be refused");
    assert!(matches!(error, SupportError::StatusMoved { expected: "open", .. }), "{error}");
    drop(second);

    let check = TenantTransaction::begin(&runtime, &context).await.expect("begin");
    let stored = repository::tickets_by_ids(&check, &[ticket.id]).await.expect("read").pop().expect("the ticket");
    assert_eq!(stored.status, TicketStatus::Solved, "the first change survives");
}

async fn change(support: &TestSupport, id: &str) -> Value {
    let context = context_for("ridgeline", "support_agent");
    let (status, body) = support.query(Some(&context), CHANGE_STATUS, json!({ "id": id, "status": "SOLVED" })).await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn count(connection: &impl ConnectionTrait, sql: String) -> i64 {
    let row = connection
        .query_one_raw(Statement::from_string(DatabaseBackend::Postgres, sql))
        .await
        .expect("count query")
        .expect("one row");
    row.try_get::<i64>("", "n").expect("n")
}

/// Concurrent attempts per ticket; several tickets at once make the overlap of a read
/// and another attempt's commit near certain.
const ATTEMPTS_PER_TICKET: usize = 6;

/// Tickets changed at once (ridgeline has two open ones).
const TICKETS: usize = 2;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_transitions_from_the_same_state_let_exactly_one_win_on_postgres() {
    let Some(database) = TestDatabase::create("support_concurrent_status").await else { return };
    let mut config = Config::for_tests(database.runtime_url.clone(), Some(database.owner_url.clone()));
    // Each attempt holds its request's read transaction and its own write transaction.
    config.max_connections = (2 * TICKETS * ATTEMPTS_PER_TICKET + 1) as u32;
    let support = spawn_configured(&config, None).await;
    let query = format!("{{ tickets(first: {TICKETS}, status: [OPEN]) {{ nodes {{ id }} }} }}");
    let data = support.data("ridgeline", &query, json!({})).await;
    let tickets: Vec<String> = data["tickets"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|node| node["id"].as_str().expect("id").to_owned())
        .collect();
    assert_eq!(tickets.len(), TICKETS, "{data}");

    let attempts = tickets.iter().flat_map(|id| std::iter::repeat_n(id, ATTEMPTS_PER_TICKET));
    let answers = futures::future::join_all(attempts.map(|id| change(&support, id))).await;
    let owner = Database::connect(&database.owner_url).await.expect("owner connects");
    for (id, answers) in tickets.iter().zip(answers.chunks(ATTEMPTS_PER_TICKET)) {
        let winners: Vec<&Value> = answers.iter().filter(|body| body.get("errors").is_none()).collect();
        assert_eq!(winners.len(), 1, "exactly one transition of {id} wins: {answers:#?}");
        assert_eq!(winners[0]["data"]["changeTicketStatus"]["status"], "SOLVED");
        for loser in answers.iter().filter(|body| body.get("errors").is_some()) {
            let code = loser["errors"][0]["extensions"]["code"].as_str().unwrap_or_default();
            // CONFLICT when it lost the race on the update, INVALID_TRANSITION (a refused
            // transition) when it read the ticket already solved.
            assert!(["CONFLICT", "INVALID_TRANSITION"].contains(&code), "{loser}");
        }

        let audited = |outcome: &str| {
            format!("SELECT count(*) AS n FROM audit_log WHERE entity_ids LIKE '%{id}%' AND outcome = '{outcome}'")
        };
        assert_eq!(count(&owner, audited("succeeded")).await, 1, "{id}: exactly one SUCCEEDED audit entry");
        assert_eq!(count(&owner, audited("failed")).await, 0, "{id}: a lost race is a refusal, not a failure");
        for event_type in ["support.ticket.status_changed", "support.ticket.solved"] {
            let events = format!(
                "SELECT count(*) AS n FROM change_outbox WHERE entity_type = 'Ticket' AND entity_id = '{id}' \
                 AND event_type = '{event_type}'"
            );
            assert_eq!(count(&owner, events).await, 1, "{id}: exactly one {event_type} event");
        }
    }
}
