//! Escalations after they are raised (docs/domain.md#escalations-and-csat): acknowledging
//! and resolving them along their lifecycle, analytics' `support.command.escalate` applied
//! once per key, and a customer's SLA attainment over a trailing window.

use atrium_kit::{
    TenantContext, TenantTransaction, demo,
    events::{DomainEvent, EventHandler, Subject},
    testing::{self, context_for},
};
use atrium_support::events::SupportEvents;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestSupport, spawn};

const ESCALATE: &str = "mutation($id: ID!) { escalateTicket(id: $id, reason: SLA_BREACHED) { id level status } }";
const ACKNOWLEDGE: &str =
    "mutation($id: ID!) { acknowledgeEscalation(id: $id) { id status acknowledgedBy acknowledgedAt } }";
const RESOLVE: &str = "mutation($id: ID!, $note: String) { resolveEscalation(id: $id, note: $note) { \
    id status resolvedBy resolvedAt resolutionNote } }";

async fn harness() -> (TestSupport, DatabaseConnection) {
    let url = testing::sqlite_url("support-escalations");
    let support = spawn(url.clone(), None).await;
    let database = Database::connect(&url).await.expect("sqlite connects");
    (support, database)
}

async fn mutate(support: &TestSupport, slug: &str, role: &str, query: &str, variables: Value) -> Value {
    let (status, body) = support.query(Some(&context_for(slug, role)), query, variables).await;
    assert_eq!(status, 200, "{body}");
    body
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"].as_str().unwrap_or_default()
}

/// The domain events in the tenant's outbox of `kind`, oldest first.
async fn outbox(database: &DatabaseConnection, slug: &str, kind: &str) -> Vec<DomainEvent> {
    let tenant = demo::tenant_id(slug);
    let tx = TenantTransaction::begin(database, &TenantContext::automation(tenant, "test")).await.unwrap();
    let sql = "SELECT envelope FROM change_outbox WHERE tenant_id = $1 AND envelope IS NOT NULL ORDER BY id";
    let statement = Statement::from_sql_and_values(database.get_database_backend(), sql, vec![tenant.into()]);
    let rows = tx.connection().query_all_raw(statement).await.unwrap();
    rows.iter()
        .map(|row| serde_json::from_str::<DomainEvent>(&row.try_get_by_index::<String>(0).unwrap()).unwrap())
        .filter(|event| event.event_type == kind)
        .collect()
}

/// The open tickets of `slug`'s customers as `(customer, ticket id, priority)`.
async fn open_tickets(support: &TestSupport, slug: &str) -> Vec<(String, String, String)> {
    let query = "{ tickets(first: 100, status: [NEW, OPEN, PENDING, ON_HOLD]) { nodes { id priority customerAccount { id } } } }";
    let data = support.data(slug, query, json!({})).await;
    data["tickets"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|node| {
            let text = |value: &Value| value.as_str().unwrap().to_owned();
            (text(&node["customerAccount"]["id"]), text(&node["id"]), text(&node["priority"]))
        })
        .collect()
}

async fn escalations_of(support: &TestSupport, slug: &str, ticket: &str) -> Value {
    let query = "query($id: ID!) { ticket(id: $id) { escalations { level reason status createdBy } } }";
    support.data(slug, query, json!({ "id": ticket })).await["ticket"]["escalations"].clone()
}

#[tokio::test]
async fn an_escalation_is_acknowledged_then_resolved_and_nothing_moves_it_back() {
    let (support, database) = harness().await;
    let (_, ticket, _) = open_tickets(&support, "ridgeline").await.remove(0);
    let raised = mutate(&support, "ridgeline", "support_lead", ESCALATE, json!({ "id": ticket })).await;
    let escalation = raised["data"]["escalateTicket"]["id"].clone();
    assert_eq!(raised["data"]["escalateTicket"]["status"], "OPEN", "{raised}");

    let agent = mutate(&support, "ridgeline", "support_agent", ACKNOWLEDGE, json!({ "id": escalation })).await;
    assert_eq!(code(&agent), "FORBIDDEN", "{agent}");
    let foreign = mutate(&support, "helix", "support_lead", ACKNOWLEDGE, json!({ "id": escalation })).await;
    assert_eq!(code(&foreign), "NOT_FOUND", "another tenant's escalation: {foreign}");

    let acknowledged = mutate(&support, "ridgeline", "support_lead", ACKNOWLEDGE, json!({ "id": escalation })).await;
    let answer = &acknowledged["data"]["acknowledgeEscalation"];
    assert_eq!(answer["status"], "ACKNOWLEDGED", "{acknowledged}");
    assert!(answer["acknowledgedAt"].is_string() && answer["acknowledgedBy"].is_string(), "{acknowledged}");
    let again = mutate(&support, "ridgeline", "support_lead", ACKNOWLEDGE, json!({ "id": escalation })).await;
    assert_eq!(code(&again), "INVALID_TRANSITION", "{again}");
    assert_eq!(again["errors"][0]["extensions"]["current"], "ACKNOWLEDGED", "{again}");
    assert_eq!(again["errors"][0]["extensions"]["allowed"], json!(["RESOLVED"]), "{again}");

    let note = json!({ "id": escalation, "note": "  Workaround agreed with the customer " });
    let resolved = mutate(&support, "ridgeline", "csm", RESOLVE, note).await;
    let answer = &resolved["data"]["resolveEscalation"];
    assert_eq!(answer["status"], "RESOLVED", "{resolved}");
    assert_eq!(answer["resolutionNote"], "Workaround agreed with the customer", "{resolved}");
    let twice = mutate(&support, "ridgeline", "support_lead", RESOLVE, json!({ "id": escalation })).await;
    assert_eq!(code(&twice), "INVALID_TRANSITION", "{twice}");
    assert_eq!(twice["errors"][0]["extensions"]["allowed"], json!([]), "{twice}");

    for (kind, version) in [("support.escalation.acknowledged", 2), ("support.escalation.resolved", 3)] {
        let events = outbox(&database, "ridgeline", kind).await;
        assert_eq!(events.len(), 1, "{kind} once");
        assert_eq!(events[0].subject.version, version, "{kind}");
        assert_eq!(events[0].data["level"], 1, "{kind}");
        assert_eq!(events[0].data["ticket_id"], json!(ticket), "{kind}");
        assert!(events[0].refs.contains_key("customer_account_id"), "{kind}");
    }
    let created = outbox(&database, "ridgeline", "support.escalation.created").await;
    assert_eq!(created[0].data["ticket_id"], json!(ticket));
}

fn escalate_command(slug: &str, customer: &str, ticket: Option<&str>, level: i32, key: &str) -> DomainEvent {
    let analytics = TenantContext::automation(demo::tenant_id(slug), "automation:A12");
    let customer: Uuid = customer.parse().unwrap();
    let subject = Subject { entity_type: "CustomerAccount".to_owned(), id: customer, version: 1 };
    DomainEvent::command(
        &analytics,
        "analytics",
        "support",
        "escalate",
        subject,
        key,
        json!({
            "customer_account_id": customer, "ticket_id": ticket, "level": level,
            "reason": "health band turned red", "rule_code": "A12",
        }),
    )
    .with_ref("customer_account_id", customer)
}

/// Applies `event` the way the event runtime does: in the tenant's transaction with the
/// automation context, committed when the handler succeeds.
async fn deliver(database: &DatabaseConnection, event: &DomainEvent) {
    let handler = SupportEvents;
    assert!(handler.wants(&event.event_type), "{}", event.event_type);
    let context = TenantContext::automation(event.tenant_id, "consumer:support");
    let tx = TenantTransaction::begin(database, &context).await.expect("begin");
    handler.handle(&tx, event).await.expect("handled");
    tx.commit().await.expect("commit");
}

#[tokio::test]
async fn the_escalate_command_raises_the_most_urgent_open_ticket_once_per_key() {
    let (support, database) = harness().await;
    let open = open_tickets(&support, "veritas").await;
    let rank = |priority: &str| ["URGENT", "HIGH", "NORMAL", "LOW"].iter().position(|p| *p == priority).unwrap();
    // Rheinwerk: three open high-priority tickets, one of them (on hold) at level 2 already.
    let rheinwerk = demo::customer_id(demo::tenant_by_slug("veritas").unwrap(), 0).to_string();
    let customer =
        open.iter().find(|(customer, _, _)| *customer == rheinwerk).map(|(c, _, _)| c.clone()).unwrap_or_else(|| {
            // Whatever customer has an open ticket, if the roster order ever changes.
            open[0].0.clone()
        });
    let theirs: Vec<&(String, String, String)> = open.iter().filter(|(c, _, _)| *c == customer).collect();
    let most_urgent_rank = theirs.iter().map(|(_, _, priority)| rank(priority)).min().unwrap();

    let key = format!("A12:{customer}:{}", Uuid::now_v7());
    deliver(&database, &escalate_command("veritas", &customer, None, 3, &key)).await;
    let created = outbox(&database, "veritas", "support.escalation.created").await;
    assert_eq!(created.len(), 1, "{created:?}");
    let ticket = created[0].data["ticket_id"].as_str().unwrap().to_owned();
    let chosen = theirs.iter().find(|(_, id, _)| *id == ticket).expect("one of the customer's open tickets");
    assert_eq!(rank(&chosen.2), most_urgent_rank, "the most urgent open ticket: {chosen:?}");
    assert_eq!(created[0].data["level"], 3);
    assert_eq!(created[0].data["rule_code"], "A12");
    assert_eq!(created[0].refs["customer_account_id"].to_string(), customer);
    let levels = escalations_of(&support, "veritas", &ticket).await;
    let top = levels.as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        top,
        json!({ "level": 3, "reason": "AUTOMATION_RULE", "status": "OPEN", "createdBy": "automation:A12" })
    );

    // A redelivery (a new envelope with the same key) writes nothing.
    deliver(&database, &escalate_command("veritas", &customer, None, 3, &key)).await;
    assert_eq!(outbox(&database, "veritas", "support.escalation.created").await.len(), 1);
    assert_eq!(escalations_of(&support, "veritas", &ticket).await, levels);

    // A new key for a ticket already at level 3 is nothing to do either.
    let other_key = format!("A12:{customer}:{}", Uuid::now_v7());
    deliver(&database, &escalate_command("veritas", &customer, Some(&ticket), 2, &other_key)).await;
    assert_eq!(outbox(&database, "veritas", "support.escalation.created").await.len(), 1);

    // A customer without open tickets: nothing to escalate, nothing written.
    let quiet = (0..demo::tenant_by_slug("veritas").unwrap().customers.len())
        .map(|ordinal| demo::customer_id(demo::tenant_by_slug("veritas").unwrap(), ordinal).to_string())
        .find(|id| open.iter().all(|(customer, _, _)| customer != id))
        .expect("a customer without open tickets");
    deliver(&database, &escalate_command("veritas", &quiet, None, 1, &format!("A12:{quiet}"))).await;
    assert_eq!(outbox(&database, "veritas", "support.escalation.created").await.len(), 1);
}

#[tokio::test]
async fn a_customers_sla_attainment_sums_its_decided_clocks_per_priority() {
    let (support, _database) = harness().await;
    let veritas = demo::tenant_by_slug("veritas").unwrap();
    let rheinwerk = demo::customer_id(veritas, 0);
    let query = "query($representations: [_Any!]!, $days: Int!) { _entities(representations: $representations) { \
        ... on CustomerAccount { slaAttainment(windowDays: $days) { windowDays met missed attainment \
        byPriority { priority met missed } } } } }";
    let variables =
        |days: i32| json!({ "representations": [{ "__typename": "CustomerAccount", "id": rheinwerk }], "days": days });
    let data = support.data("veritas", query, variables(366)).await;
    let figure = &data["_entities"][0]["slaAttainment"];
    let by_priority = figure["byPriority"].as_array().unwrap();
    let met: i64 = by_priority.iter().map(|p| p["met"].as_i64().unwrap()).sum();
    let missed: i64 = by_priority.iter().map(|p| p["missed"].as_i64().unwrap()).sum();
    assert_eq!((figure["met"].as_i64(), figure["missed"].as_i64()), (Some(met), Some(missed)), "{data}");
    // Rheinwerk's seeded run: at least three breached high-priority resolution targets.
    let high = by_priority.iter().find(|p| p["priority"] == "HIGH").expect("high-priority clocks");
    assert!(high["missed"].as_i64().unwrap() >= 3, "{data}");
    let served: f64 = figure["attainment"].as_str().unwrap().parse().unwrap();
    assert!((served - met as f64 / (met + missed) as f64).abs() < 0.00005, "{data}");

    let (_, refused) = support.query(Some(&context_for("veritas", "support_agent")), query, variables(0)).await;
    assert_eq!(code(&refused), "BAD_USER_INPUT", "{refused}");
}
