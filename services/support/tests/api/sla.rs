//! Ticket commands and SLA clocks through the support subgraph (docs/domain.md#sla-clocks):
//! creation starts running clocks with due times, waiting pauses them, the first public
//! reply fulfils the first-response clock, bad input and foreign tickets write nothing, the
//! evaluator announces each warning and breach exactly once (two concurrent passes, and
//! two schedulers as two replicas would run it, on PostgreSQL),
//! and the timers solve long-pending and close long-solved tickets.

use std::sync::Arc;

use atrium_kit::{
    TenantTransaction, demo,
    schedule::Scheduler,
    testing::{StatementLog, TestDatabase, context_for},
};
use atrium_support::{repository, sla_jobs};
use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use serde_json::{Value, json};

use crate::helpers::{TestSupport, spawn, spawn_observed, spawn_sqlite};

const CREATE: &str = "mutation($input: CreateTicketInput!, $key: String) { createTicket(input: $input, idempotencyKey: $key) { \
    id number status priority slaClocks { metric status targetMinutes businessHours dueAt startedAt } } }";
const CHANGE_STATUS: &str = "mutation($id: ID!, $status: TicketStatus!) { changeTicketStatus(id: $id, status: $status) { \
    status slaClocks { metric status dueAt elapsedMinutes } } }";
const COMMENT: &str = "mutation($id: ID!, $body: String!, $public: Boolean!) { \
    commentOnTicket(ticketId: $id, body: $body, public: $public) { id public body } }";
const TICKET: &str = "query($id: ID!) { ticket(id: $id) { status firstRespondedAt assigneeUserId priority \
    comments { body public } slaClocks { metric status dueAt breachedAt fulfilledAt } } }";

fn urgent_input(slug: &str) -> Value {
    let tenant = demo::tenant_by_slug(slug).unwrap();
    json!({
        "customerAccountId": demo::customer_id(tenant, 0),
        "requesterName": "Dana Example",
        "requesterEmail": "dana@example.com",
        "subject": "Users cannot log in",
        "channel": "PHONE",
        "category": "OUTAGE",
        "priority": "URGENT",
    })
}

async fn mutate(support: &TestSupport, slug: &str, role: &str, query: &str, variables: Value) -> Value {
    let (status, body) = support.query(Some(&context_for(slug, role)), query, variables).await;
    assert_eq!(status, 200, "{body}");
    body
}

fn error_code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"].as_str().unwrap_or_default()
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
}

fn clock<'a>(clocks: &'a Value, metric: &str) -> &'a Value {
    clocks
        .as_array()
        .unwrap()
        .iter()
        .find(|clock| clock["metric"] == metric)
        .unwrap_or_else(|| panic!("{metric} clock in {clocks}"))
}

async fn create_urgent(support: &TestSupport, slug: &str) -> Value {
    let body = mutate(support, slug, "support_agent", CREATE, json!({ "input": urgent_input(slug) })).await;
    assert!(body.get("errors").is_none(), "{body}");
    body["data"]["createTicket"].clone()
}

#[tokio::test]
async fn an_urgent_ticket_starts_running_clocks_that_pause_while_pending() {
    let support = spawn_sqlite().await;
    let before = Utc::now();
    let ticket = create_urgent(&support, "ridgeline").await;
    assert_eq!((ticket["status"].as_str(), ticket["priority"].as_str()), (Some("NEW"), Some("URGENT")));
    // Urgent targets run around the clock: first response 60 min, resolution 480 min.
    let first = clock(&ticket["slaClocks"], "FIRST_RESPONSE");
    let resolution = clock(&ticket["slaClocks"], "RESOLUTION");
    for (clock, minutes) in [(first, 60), (resolution, 480)] {
        assert_eq!(clock["status"], "RUNNING");
        assert_eq!((clock["targetMinutes"].as_i64(), clock["businessHours"].as_bool()), (Some(minutes), Some(false)));
        let started = at(clock["startedAt"].as_str().unwrap());
        assert!(started >= before - TimeDelta::seconds(1));
        assert_eq!(at(clock["dueAt"].as_str().unwrap()) - started, TimeDelta::minutes(minutes));
    }

    let id = ticket["id"].clone();
    for status in ["OPEN", "PENDING"] {
        let body =
            mutate(&support, "ridgeline", "support_agent", CHANGE_STATUS, json!({ "id": id, "status": status })).await;
        assert!(body.get("errors").is_none(), "{body}");
    }
    let data = support.data("ridgeline", TICKET, json!({ "id": id })).await;
    for metric in ["FIRST_RESPONSE", "RESOLUTION"] {
        let paused = clock(&data["ticket"]["slaClocks"], metric);
        assert_eq!((paused["status"].as_str(), &paused["dueAt"]), (Some("PAUSED"), &Value::Null), "{paused}");
    }

    // Worked again: the clocks run on with what is left, due no earlier than before.
    let body =
        mutate(&support, "ridgeline", "support_agent", CHANGE_STATUS, json!({ "id": id, "status": "OPEN" })).await;
    let resumed = clock(&body["data"]["changeTicketStatus"]["slaClocks"], "RESOLUTION");
    assert_eq!(resumed["status"], "RUNNING");
    assert!(at(resumed["dueAt"].as_str().unwrap()) >= at(resolution["dueAt"].as_str().unwrap()));
}

#[tokio::test]
async fn the_first_public_reply_fulfils_the_first_response_clock_and_a_note_does_not() {
    let support = spawn_sqlite().await;
    let id = create_urgent(&support, "ridgeline").await["id"].clone();
    let note = mutate(
        &support,
        "ridgeline",
        "support_agent",
        COMMENT,
        json!({ "id": id, "body": "Checking logs", "public": false }),
    )
    .await;
    assert!(note.get("errors").is_none(), "{note}");
    let data = support.data("ridgeline", TICKET, json!({ "id": id })).await;
    assert_eq!(clock(&data["ticket"]["slaClocks"], "FIRST_RESPONSE")["status"], "RUNNING");
    assert_eq!(data["ticket"]["firstRespondedAt"], Value::Null);

    let reply = mutate(
        &support,
        "ridgeline",
        "support_agent",
        COMMENT,
        json!({ "id": id, "body": "We are on it", "public": true }),
    )
    .await;
    assert!(reply.get("errors").is_none(), "{reply}");
    let data = support.data("ridgeline", TICKET, json!({ "id": id })).await;
    let first = clock(&data["ticket"]["slaClocks"], "FIRST_RESPONSE");
    assert_eq!((first["status"].as_str(), &first["breachedAt"]), (Some("FULFILLED"), &Value::Null));
    assert_eq!(clock(&data["ticket"]["slaClocks"], "RESOLUTION")["status"], "RUNNING");
    assert!(data["ticket"]["firstRespondedAt"].is_string());
    assert_eq!(
        data["ticket"]["comments"],
        json!([{ "body": "Checking logs", "public": false }, { "body": "We are on it", "public": true }])
    );
}

#[tokio::test]
async fn priority_and_assignee_changes_are_commands_with_their_rules() {
    let support = spawn_sqlite().await;
    let id = create_urgent(&support, "ridgeline").await["id"].clone();
    let change = "mutation($id: ID!, $priority: TicketPriority!) { changeTicketPriority(id: $id, priority: $priority) { \
        priority slaClocks { metric targetMinutes businessHours } } }";
    let body = mutate(&support, "ridgeline", "support_agent", change, json!({ "id": id, "priority": "HIGH" })).await;
    let clocks = &body["data"]["changeTicketPriority"]["slaClocks"];
    // High: first response 240 and resolution 1440 business minutes.
    assert_eq!(clock(clocks, "FIRST_RESPONSE")["targetMinutes"], 240, "{body}");
    assert_eq!(clock(clocks, "RESOLUTION")["targetMinutes"], 1440);
    assert_eq!(clock(clocks, "RESOLUTION")["businessHours"], true);
    let same = mutate(&support, "ridgeline", "support_agent", change, json!({ "id": id, "priority": "HIGH" })).await;
    assert_eq!(error_code(&same), "BAD_USER_INPUT", "{same}");

    let assign = "mutation($id: ID!) { assignTicket(id: $id, assigneeUserId: \"agent-7\") { assigneeUserId } }";
    let forbidden = mutate(&support, "ridgeline", "consultant", assign, json!({ "id": id })).await;
    assert_eq!(error_code(&forbidden), "FORBIDDEN", "{forbidden}");
    let body = mutate(&support, "ridgeline", "support_agent", assign, json!({ "id": id })).await;
    assert_eq!(body["data"]["assignTicket"]["assigneeUserId"], "agent-7", "{body}");
}

#[tokio::test]
async fn create_ticket_is_idempotent_and_names_bad_fields() {
    let support = spawn_sqlite().await;
    let key = json!("ticket-retry-1");
    let first = mutate(
        &support,
        "ridgeline",
        "support_agent",
        CREATE,
        json!({ "input": urgent_input("ridgeline"), "key": key }),
    )
    .await;
    let again = mutate(
        &support,
        "ridgeline",
        "support_agent",
        CREATE,
        json!({ "input": urgent_input("ridgeline"), "key": key }),
    )
    .await;
    assert_eq!(first["data"]["createTicket"]["id"], again["data"]["createTicket"]["id"], "{first} {again}");
    assert_eq!(first["data"]["createTicket"]["number"], again["data"]["createTicket"]["number"]);

    let mut bad = urgent_input("ridgeline");
    bad["requesterEmail"] = json!("not-an-address");
    let body = mutate(&support, "ridgeline", "support_agent", CREATE, json!({ "input": bad })).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("requesterEmail"), "{body}");
    let mut blank = urgent_input("ridgeline");
    blank["subject"] = json!("  ");
    let body = mutate(&support, "ridgeline", "support_agent", CREATE, json!({ "input": blank })).await;
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("subject"), "{body}");
}

async fn count(connection: &DatabaseConnection, sql: &str) -> i64 {
    let backend = connection.get_database_backend();
    let row = connection.query_one_raw(Statement::from_string(backend, sql.to_owned())).await.unwrap().unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

#[tokio::test]
async fn a_comment_on_another_tenants_ticket_is_not_found_and_writes_nothing() {
    let Some(database) = TestDatabase::create("support_foreign_comment").await else { return };
    let support = spawn(database.runtime_url.clone(), Some(database.owner_url.clone())).await;
    let helix_ticket = support.data("helix", "{ tickets(first: 1, status: [OPEN]) { nodes { id } } }", json!({})).await;
    let id = helix_ticket["tickets"]["nodes"][0]["id"].clone();
    let owner = Database::connect(&database.owner_url).await.unwrap();
    let tables = ["ticket_comments", "audit_log", "change_outbox", "sla_clocks WHERE fulfilled_at IS NOT NULL"];
    let mut before = Vec::new();
    for table in tables {
        before.push(count(&owner, &format!("SELECT count(*) AS n FROM {table}")).await);
    }
    let body =
        mutate(&support, "ridgeline", "support_agent", COMMENT, json!({ "id": id, "body": "Hello", "public": true }))
            .await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
    for (table, before) in tables.iter().zip(before) {
        assert_eq!(count(&owner, &format!("SELECT count(*) AS n FROM {table}")).await, before, "{table}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_evaluator_announces_each_warning_and_breach_once_with_two_runners_on_postgres() {
    let Some(database) = TestDatabase::create("support_sla_evaluator").await else { return };
    let support = spawn(database.runtime_url.clone(), Some(database.owner_url.clone())).await;
    let id = create_urgent(&support, "ridgeline").await["id"].as_str().unwrap().to_owned();
    let runtime = Database::connect(&database.runtime_url).await.unwrap();
    let owner = Database::connect(&database.owner_url).await.unwrap();
    let tenant = demo::tenant_id("ridgeline");
    let events = |kind: &str| {
        format!("SELECT count(*) AS n FROM change_outbox WHERE event_type = '{kind}' AND envelope LIKE '%{id}%'")
    };
    // Urgent first response is due after 60 calendar minutes: 50 minutes in is past 80 %,
    // 61 minutes in is a breach of it (the 480-minute resolution clock is at 13 %).
    let created = Utc::now();
    for (now, warned, breached) in [(created + TimeDelta::minutes(50), 1, 0), (created + TimeDelta::minutes(61), 1, 1)]
    {
        let (a, b) = tokio::join!(
            sla_jobs::evaluate_sla_clocks(&runtime, tenant, now),
            sla_jobs::evaluate_sla_clocks(&runtime, tenant, now)
        );
        a.unwrap();
        b.unwrap();
        // A later pass finds nothing new to announce.
        sla_jobs::evaluate_sla_clocks(&runtime, tenant, now).await.unwrap();
        assert_eq!(count(&owner, &events("support.sla.warning")).await, warned, "warnings at {now}");
        assert_eq!(count(&owner, &events("support.sla.breached")).await, breached, "breaches at {now}");
    }
    let data = support.data("ridgeline", TICKET, json!({ "id": id })).await;
    let first = clock(&data["ticket"]["slaClocks"], "FIRST_RESPONSE");
    assert_eq!(first["status"], "BREACHED");
    assert_eq!(first["breachedAt"], first["dueAt"]);
    assert_eq!(clock(&data["ticket"]["slaClocks"], "RESOLUTION")["status"], "RUNNING");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_schedulers_announce_each_breach_exactly_once_on_postgres() {
    let Some(database) = TestDatabase::create("support_sla_schedulers").await else { return };
    let support = spawn(database.runtime_url.clone(), Some(database.owner_url.clone())).await;
    let id = create_urgent(&support, "ridgeline").await["id"].as_str().unwrap().to_owned();
    let created = Utc::now();
    let runtime = Database::connect(&database.runtime_url).await.unwrap();
    let owner = Database::connect(&database.owner_url).await.unwrap();
    let replica = |holder: &str| {
        Scheduler::new(runtime.clone(), holder)
            .with_job(Arc::new(sla_jobs::SlaEvaluatorJob))
            .with_tenants(vec![demo::tenant_id("ridgeline")])
    };
    let (a, b) = (replica("a"), replica("b"));
    // 61 minutes in, the urgent first response (60 calendar minutes) is breached; the
    // resolution clock (480) has used 13 % and stays quiet.
    for minutes in [61, 62, 70] {
        let now = created + TimeDelta::minutes(minutes);
        let (ran_a, ran_b) = tokio::join!(a.tick(now), b.tick(now));
        let ran: Vec<bool> = ran_a.unwrap().into_iter().chain(ran_b.unwrap()).map(|run| run.ran).collect();
        assert_eq!(ran.iter().filter(|ran| **ran).count(), 1, "one replica holds the lease: {ran:?}");
    }
    let events = |kind: &str| {
        format!("SELECT count(*) AS n FROM change_outbox WHERE event_type = '{kind}' AND envelope LIKE '%{id}%'")
    };
    assert_eq!(count(&owner, &events("support.sla.breached")).await, 1);
    assert_eq!(count(&owner, &events("support.sla.warning")).await, 0);
}

#[tokio::test]
async fn the_timers_solve_long_pending_tickets_and_close_long_solved_ones() {
    let Some(database) = TestDatabase::create("support_ticket_timers").await else { return };
    let support = spawn(database.runtime_url.clone(), Some(database.owner_url.clone())).await;
    let id = create_urgent(&support, "ridgeline").await["id"].clone();
    for status in ["OPEN", "PENDING"] {
        mutate(&support, "ridgeline", "support_agent", CHANGE_STATUS, json!({ "id": id, "status": status })).await;
    }
    let runtime = Database::connect(&database.runtime_url).await.unwrap();
    let tenant = demo::tenant_id("ridgeline");
    let status = |data: &Value| data["ticket"]["status"].as_str().unwrap().to_owned();
    sla_jobs::run_ticket_timers(&runtime, tenant, Utc::now() + TimeDelta::days(13)).await.unwrap();
    assert_eq!(status(&support.data("ridgeline", TICKET, json!({ "id": id })).await), "PENDING");
    let solved_at = Utc::now() + TimeDelta::days(15);
    assert!(sla_jobs::run_ticket_timers(&runtime, tenant, solved_at).await.unwrap() >= 1);
    let data = support.data("ridgeline", TICKET, json!({ "id": id })).await;
    assert_eq!(status(&data), "SOLVED");
    assert_eq!(clock(&data["ticket"]["slaClocks"], "RESOLUTION")["status"], "FULFILLED");
    // Solving stamps the timer's instant; four days later the ticket closes.
    let closed_at = solved_at + TimeDelta::days(4) + TimeDelta::minutes(1);
    sla_jobs::run_ticket_timers(&runtime, tenant, closed_at).await.unwrap();
    assert_eq!(status(&support.data("ridgeline", TICKET, json!({ "id": id })).await), "CLOSED");
}

#[tokio::test]
async fn rheinwerk_shows_breached_high_priority_resolution_clocks() {
    let support = spawn_sqlite().await;
    let veritas = demo::tenant_by_slug("veritas").unwrap();
    let ordinal = veritas.customers.iter().position(|customer| customer.name.starts_with("Rheinwerk")).unwrap();
    let query = "query($representations: [_Any!]!) { _entities(representations: $representations) { \
        ... on CustomerAccount { tickets(first: 50) { nodes { priority status slaClocks { metric status breachedAt } } } } } }";
    let representations = json!([{ "__typename": "CustomerAccount", "id": demo::customer_id(veritas, ordinal) }]);
    let data = support.data("veritas", query, json!({ "representations": representations })).await;
    let tickets = data["_entities"][0]["tickets"]["nodes"].as_array().unwrap();
    let breached_high = tickets
        .iter()
        .filter(|ticket| ticket["priority"] == "HIGH")
        .filter(|ticket| clock(&ticket["slaClocks"], "RESOLUTION")["breachedAt"].is_string())
        .count();
    // Solved after 240 h and 200 h against a 3-business-day target, and on hold after 10
    // days: at least these three (random solve times may add more).
    assert!(breached_high >= 3, "{data}");
    // Every seeded ticket has its two clocks.
    assert!(tickets.iter().all(|ticket| ticket["slaClocks"].as_array().unwrap().len() == 2), "{data}");
}

#[tokio::test]
async fn clocks_comments_and_escalations_of_many_tickets_load_in_one_statement_each() {
    let statements = StatementLog::default();
    let support = spawn_observed(atrium_kit::testing::sqlite_url("support"), None, Some(statements.observer())).await;
    let mut counts = Vec::new();
    for first in [2, 10] {
        let query = format!(
            "{{ tickets(first: {first}) {{ nodes {{ id slaClocks {{ metric }} comments {{ body }} escalations {{ level }} }} }} }}"
        );
        statements.clear();
        let data = support.data("ridgeline", &query, json!({})).await;
        assert_eq!(data["tickets"]["nodes"].as_array().unwrap().len(), first);
        counts.push(statements.statements().len());
    }
    assert_eq!(counts[0], counts[1], "{counts:?}");
    // The page, then one statement each for all clocks, all comments, all escalations.
    assert_eq!(counts[0], 4, "{counts:?}: {:#?}", statements.statements());
}

/// The seed gives every demo tenant the standard policy in the tenant's time zone.
#[tokio::test]
async fn every_demo_tenant_has_its_standard_policy() {
    let url = atrium_kit::testing::sqlite_url("support");
    let _support = spawn(url.clone(), None).await;
    let database = Database::connect(&url).await.unwrap();
    for tenant in demo::TENANTS {
        let tx = TenantTransaction::begin(&database, &context_for(tenant.slug, "support_agent")).await.unwrap();
        let policy = repository::sla::policy(&tx, None).await.unwrap().expect("a policy");
        assert_eq!((policy.code.as_str(), policy.schedule.time_zone.as_str()), ("standard", tenant.timezone));
        assert_eq!(policy.targets.len(), 12);
    }
}

#[tokio::test]
async fn every_ticket_command_is_audited_and_a_refusal_only_as_rejected() {
    let support = spawn_sqlite().await;
    let id = create_urgent(&support, "ridgeline").await["id"].clone();
    let steps = [
        ("support_agent", COMMENT, json!({ "id": id, "body": "On it", "public": true })),
        ("support_agent", CHANGE_STATUS, json!({ "id": id, "status": "OPEN" })),
        (
            "support_agent",
            "mutation($id: ID!) { changeTicketPriority(id: $id, priority: HIGH) { id } }",
            json!({ "id": id }),
        ),
        (
            "support_agent",
            "mutation($id: ID!) { assignTicket(id: $id, assigneeUserId: \"agent-7\") { id } }",
            json!({ "id": id }),
        ),
        (
            "support_lead",
            "mutation($id: ID!) { escalateTicket(id: $id, reason: URGENT_INCIDENT) { id } }",
            json!({ "id": id }),
        ),
        // Refused: NEW is not reachable from OPEN.
        ("support_agent", CHANGE_STATUS, json!({ "id": id, "status": "NEW" })),
    ];
    for (role, query, variables) in steps {
        mutate(&support, "ridgeline", role, query, variables).await;
    }
    let log = "{ auditLog(first: 50) { nodes { operation outcome entityIds } } }";
    let (_, body) = support.query(Some(&context_for("ridgeline", "tenant_admin")), log, json!({})).await;
    let entries: Vec<(String, String)> = body["data"]["auditLog"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["entityIds"].as_array().unwrap().contains(&id))
        .map(|entry| (entry["operation"].as_str().unwrap().to_owned(), entry["outcome"].as_str().unwrap().to_owned()))
        .collect();
    let expected = [
        ("createTicket", "SUCCEEDED"),
        ("commentOnTicket", "SUCCEEDED"),
        ("changeTicketStatus", "SUCCEEDED"),
        ("changeTicketPriority", "SUCCEEDED"),
        ("assignTicket", "SUCCEEDED"),
        ("escalateTicket", "SUCCEEDED"),
        ("changeTicketStatus", "REJECTED"),
    ]
    .map(|(operation, outcome)| (operation.to_owned(), outcome.to_owned()));
    assert_eq!(entries, expected, "{body}");
}
