//! Delivery and support operations end to end through the gateway
//! (docs/domain.md#escalations-and-csat, docs/domain.md#status-reports-time-off-and-assignments):
//! analytics' `support.command.escalate`, delivered to support as the producer's relay
//! delivers it (a signed batch on SQLite), raises the customer's most urgent open ticket
//! once however often it arrives; the support lead acknowledges and resolves the
//! escalation; the customer's SLA attainment reads through `CustomerAccount`. A delivery
//! manager drafts and publishes a status report and the engagement shows its RAG.

use std::time::{Duration, Instant};

use atrium_kit::{
    ContextKey, TenantContext,
    changes::{SIGNATURE_HEADER, sign_batch},
    demo,
    events::{DomainEvent, EventBatch, Subject, http::EVENTS_PATH},
};
use atrium_system_tests::{Backend, Stack};
use serde_json::{Value, json};
use uuid::Uuid;

const DEADLINE: Duration = Duration::from_secs(20);

async fn graphql(stack: &Stack, token: &str, query: &str, variables: Value) -> Value {
    let (status, body) = stack.post(Some(token), json!({ "query": query, "variables": variables }), &[]).await;
    assert_eq!(status, 200, "{body:#}");
    body
}

async fn data(stack: &Stack, token: &str, query: &str, variables: Value) -> Value {
    let body = graphql(stack, token, query, variables).await;
    assert!(body.get("errors").is_none(), "{body:#}");
    body["data"].clone()
}

fn service_url(stack: &Stack, service: &str, path: &str) -> String {
    let (_, graphql) = stack.subgraph_urls.iter().find(|(name, _)| *name == service).expect("a service");
    graphql.replace("/graphql", path)
}

/// POSTs `events` to `service`'s event route, signed as the producers' relays sign them.
async fn deliver(stack: &Stack, service: &str, events: Vec<DomainEvent>) {
    let body = serde_json::to_vec(&EventBatch { events }).unwrap();
    let signature = sign_batch(&ContextKey::development(), &body, chrono::Utc::now());
    let response = stack
        .client()
        .post(service_url(stack, service, EVENTS_PATH))
        .header("content-type", "application/json")
        .header(SIGNATURE_HEADER, signature)
        .body(body)
        .send()
        .await
        .expect("the service answers");
    let status = response.status().as_u16();
    assert_eq!(status, 200, "{service}: {}", response.text().await.unwrap_or_default());
}

/// The command analytics' rule A12 sends when a customer's health turns red.
fn escalate_command(slug: &str, customer: Uuid, key: &str) -> DomainEvent {
    let analytics = TenantContext::automation(demo::tenant_id(slug), "automation:A12");
    let subject = Subject { entity_type: "CustomerAccount".to_owned(), id: customer, version: 1 };
    DomainEvent::command(
        &analytics,
        "analytics",
        "support",
        "escalate",
        subject,
        key,
        json!({ "customer_account_id": customer, "level": 3, "reason": "health_red", "rule_code": "A12" }),
    )
    .with_ref("customer_account_id", customer)
}

const CUSTOMER_SUPPORT: &str = "query($id: ID!) { customerAccount(id: $id) { name \
    tickets(first: 50, status: [NEW, OPEN, PENDING, ON_HOLD]) { nodes { id priority escalations { id level reason status createdBy } } } \
    slaAttainment(windowDays: 366) { met missed attainment byPriority { priority met missed } } } }";

fn escalations_at(view: &Value, level: i64) -> Vec<Value> {
    view["customerAccount"]["tickets"]["nodes"]
        .as_array()
        .expect("tickets")
        .iter()
        .flat_map(|ticket| ticket["escalations"].as_array().cloned().unwrap_or_default())
        .filter(|escalation| escalation["level"] == level)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn analytics_escalate_command_raises_a_ticket_once_and_the_lead_works_it_through() {
    let Some(stack) = Stack::start(Backend::Sqlite).await else { return };
    let veritas = demo::tenant_by_slug("veritas").unwrap();
    let rheinwerk = demo::customer_id(veritas, 0);
    let lead = stack.token("veritas", &["support_lead"]);
    let before = data(&stack, &lead, CUSTOMER_SUPPORT, json!({ "id": rheinwerk })).await;
    assert_eq!(before["customerAccount"]["name"], "Rheinwerk Logistik GmbH", "finance names the account");
    assert!(escalations_at(&before, 3).is_empty(), "{before:#}");
    let attainment = &before["customerAccount"]["slaAttainment"];
    assert!(attainment["missed"].as_i64().unwrap() >= 3, "Rheinwerk's breached run: {before:#}");

    // The same command twice (a redelivery): one escalation.
    let key = format!("A12:{rheinwerk}:{}", Uuid::now_v7());
    deliver(&stack, "support", vec![escalate_command("veritas", rheinwerk, &key)]).await;
    deliver(&stack, "support", vec![escalate_command("veritas", rheinwerk, &key)]).await;
    let started = Instant::now();
    let raised = loop {
        let view = data(&stack, &lead, CUSTOMER_SUPPORT, json!({ "id": rheinwerk })).await;
        let raised = escalations_at(&view, 3);
        if !raised.is_empty() {
            break raised;
        }
        assert!(started.elapsed() < DEADLINE, "no escalation after {DEADLINE:?}: {view:#}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(raised.len(), 1, "{raised:?}");
    assert_eq!(raised[0]["reason"], "AUTOMATION_RULE");
    assert_eq!(raised[0]["createdBy"], "automation:A12");
    assert_eq!(raised[0]["status"], "OPEN");

    // The lead works it through; an agent may not, and a resolved escalation stays resolved.
    let id = raised[0]["id"].clone();
    let agent = stack.token("veritas", &["support_agent"]);
    const ACKNOWLEDGE: &str = "mutation($id: ID!) { acknowledgeEscalation(id: $id) { status acknowledgedBy } }";
    const RESOLVE: &str =
        "mutation($id: ID!) { resolveEscalation(id: $id, note: \"Account review booked\") { status resolutionNote } }";
    let refused = graphql(&stack, &agent, ACKNOWLEDGE, json!({ "id": id })).await;
    assert_eq!(refused["errors"][0]["extensions"]["code"], "FORBIDDEN", "{refused:#}");
    let acknowledged = data(&stack, &lead, ACKNOWLEDGE, json!({ "id": id })).await;
    assert_eq!(acknowledged["acknowledgeEscalation"]["status"], "ACKNOWLEDGED");
    let resolved = data(&stack, &lead, RESOLVE, json!({ "id": id })).await;
    assert_eq!(
        resolved["resolveEscalation"],
        json!({ "status": "RESOLVED", "resolutionNote": "Account review booked" })
    );
    let again = graphql(&stack, &lead, ACKNOWLEDGE, json!({ "id": id })).await;
    assert_eq!(again["errors"][0]["extensions"]["code"], "INVALID_TRANSITION", "{again:#}");
    assert_eq!(again["errors"][0]["extensions"]["allowed"], json!([]), "{again:#}");
    // The change reaches the gateway's cache through the outbox relay: poll for it.
    let started = Instant::now();
    loop {
        let after = data(&stack, &lead, CUSTOMER_SUPPORT, json!({ "id": rheinwerk })).await;
        let top = escalations_at(&after, 3);
        assert_eq!(top.len(), 1, "{after:#}");
        if top[0]["status"] == "RESOLVED" {
            break;
        }
        assert!(started.elapsed() < DEADLINE, "still not resolved after {DEADLINE:?}: {after:#}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Another tenant's lead cannot see or move it.
    let helix = stack.token("helix", &["support_lead"]);
    let foreign = graphql(&stack, &helix, RESOLVE, json!({ "id": id })).await;
    assert_eq!(foreign["errors"][0]["extensions"]["code"], "NOT_FOUND", "{foreign:#}");

    // Nothing was parked on the way.
    let admin = stack.token("veritas", &["tenant_admin"]);
    let letters = data(&stack, &admin, "{ supportEventDeadLetters { eventId } }", json!({})).await;
    assert_eq!(letters["supportEventDeadLetters"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_published_status_report_sets_the_engagements_rag() {
    let Some(stack) = Stack::start(Backend::Sqlite).await else { return };
    let ridgeline = demo::tenant_by_slug("ridgeline").unwrap();
    let ordinal = ridgeline.customers.iter().position(|c| c.story == Some(demo::Story::PrairieFoods)).unwrap();
    let prairie = demo::customer_id(ridgeline, ordinal);
    let manager = stack.token("ridgeline", &["delivery_manager"]);
    const ENGAGEMENTS: &str = "query($id: ID!) { customerAccount(id: $id) { engagements { nodes { id rag \
        statusReports { rag status summary periodEnd } } } } }";
    let view = data(&stack, &manager, ENGAGEMENTS, json!({ "id": prairie })).await;
    let engagement = view["customerAccount"]["engagements"]["nodes"][0].clone();
    assert_eq!(engagement["rag"], "RED", "seeded: {view:#}");

    // A week that ended two days ago by UTC: before the tenant's business date in any zone.
    let today = chrono::Utc::now().date_naive();
    let (start, end) = (today - chrono::Duration::days(8), today - chrono::Duration::days(2));
    const CREATE: &str = "mutation($id: ID!, $start: NaiveDate!, $end: NaiveDate!) { createStatusReport(engagementId: $id, \
        periodStart: $start, periodEnd: $end, rag: AMBER, summary: \"UAT back on track; go-live replanned\") { id status } }";
    let created = data(&stack, &manager, CREATE, json!({ "id": engagement["id"], "start": start, "end": end })).await;
    assert_eq!(created["createStatusReport"]["status"], "DRAFT");
    let report = created["createStatusReport"]["id"].clone();
    let published = data(
        &stack,
        &manager,
        "mutation($id: ID!) { publishStatusReport(id: $id) { status } }",
        json!({ "id": report }),
    )
    .await;
    assert_eq!(published["publishStatusReport"]["status"], "PUBLISHED");

    // The change reaches the gateway's cache through the outbox relay: poll for it.
    let started = Instant::now();
    let view = loop {
        let view = data(&stack, &manager, ENGAGEMENTS, json!({ "id": prairie })).await;
        if view["customerAccount"]["engagements"]["nodes"][0]["rag"] == "AMBER" {
            break view;
        }
        assert!(started.elapsed() < DEADLINE, "still not amber after {DEADLINE:?}: {view:#}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let engagement = &view["customerAccount"]["engagements"]["nodes"][0];
    assert_eq!(
        engagement["statusReports"][0],
        json!({ "rag": "AMBER", "status": "PUBLISHED", "summary": "UAT back on track; go-live replanned",
                "periodEnd": end.to_string() }),
        "the newest first: {view:#}"
    );
    let consultant = stack.token("ridgeline", &["consultant"]);
    let refused =
        graphql(&stack, &consultant, CREATE, json!({ "id": engagement["id"], "start": start, "end": end })).await;
    assert_eq!(refused["errors"][0]["extensions"]["code"], "FORBIDDEN", "{refused:#}");
}
