//! Delivery operations on SQLite and PostgreSQL: a consultant logs time and the delivery
//! manager approves it (with the event finance prices), the refusals of logging (bad
//! hours, an overfull day, a future date, a closed engagement) leave nothing; change
//! requests replan the engagement; the seeded stories show in the metrics; and the
//! late-milestone emitter announces each milestone once even when two passes race.

use std::sync::Arc;

use atrium_delivery::{
    calendar::BusinessCalendar,
    operations::{LateMilestones, emit_late_milestones},
};
use atrium_kit::{
    ClientKind, TenantContext, TenantTransaction, demo,
    events::DomainEvent,
    schedule::Scheduler,
    testing::{TestDatabase, context_for},
};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestDelivery, spawn, test_today};

struct Harness {
    delivery: TestDelivery,
    database: DatabaseConnection,
    _postgres: Option<TestDatabase>,
}

async fn sqlite_harness() -> Harness {
    let url = atrium_kit::testing::sqlite_url("delivery_operations");
    let delivery = spawn(url.clone(), None).await;
    let database = Database::connect(&url).await.expect("sqlite connects");
    Harness { delivery, database, _postgres: None }
}

async fn postgres_harness(label: &str) -> Option<Harness> {
    let postgres = TestDatabase::create(label).await?;
    let delivery = spawn(postgres.runtime_url.clone(), Some(postgres.owner_url.clone())).await;
    let database = Database::connect(&postgres.runtime_url).await.expect("runtime role connects");
    Some(Harness { delivery, database, _postgres: Some(postgres) })
}

fn ridgeline() -> Uuid {
    demo::tenant_id("ridgeline")
}

/// The seeded demo consultant of Ridgeline, as the gateway would sign them in.
fn consultant() -> TenantContext {
    TenantContext {
        tenant_id: ridgeline(),
        subject: "consultant@ridgeline".to_owned(),
        roles: vec!["consultant".to_owned()],
        client_kind: ClientKind::Dashboard,
        channel_partner_id: None,
        customer_account_id: None,
    }
}

fn statement(database: &DatabaseConnection, sql: &str, values: Vec<sea_orm::Value>) -> Statement {
    Statement::from_sql_and_values(database.get_database_backend(), sql, values)
}

async fn outbox(database: &DatabaseConnection, tenant: Uuid) -> Vec<DomainEvent> {
    let context = TenantContext::automation(tenant, "test");
    let tx = TenantTransaction::begin(database, &context).await.unwrap();
    let sql = "SELECT envelope FROM change_outbox WHERE tenant_id = $1 AND envelope IS NOT NULL ORDER BY id";
    let rows = tx.connection().query_all_raw(statement(database, sql, vec![tenant.into()])).await.unwrap();
    rows.iter().map(|row| serde_json::from_str(&row.try_get_by_index::<String>(0).unwrap()).unwrap()).collect()
}

async fn count(database: &DatabaseConnection, tenant: Uuid, table: &str) -> i64 {
    let context = TenantContext::automation(tenant, "test");
    let tx = TenantTransaction::begin(database, &context).await.unwrap();
    let sql = format!("SELECT COUNT(*) FROM {table} WHERE tenant_id = $1");
    let row = tx.connection().query_one_raw(statement(database, &sql, vec![tenant.into()])).await.unwrap().unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

async fn audit_count(database: &DatabaseConnection, tenant: Uuid, operation: &str, outcome: &str) -> i64 {
    let context = TenantContext::automation(tenant, "test");
    let tx = TenantTransaction::begin(database, &context).await.unwrap();
    let sql = "SELECT COUNT(*) FROM audit_log WHERE tenant_id = $1 AND operation = $2 AND outcome = $3";
    let values = vec![tenant.into(), operation.into(), outcome.into()];
    let row = tx.connection().query_one_raw(statement(database, sql, values)).await.unwrap().unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

async fn mutate(delivery: &TestDelivery, context: &TenantContext, query: &str, variables: Value) -> (Value, Value) {
    let (status, body) = delivery.query(Some(context), query, variables).await;
    assert_eq!(status, 200, "{body}");
    (body["data"].clone(), body["errors"][0].clone())
}

/// The engagements of a story customer (id, status, name).
async fn story_engagement(delivery: &TestDelivery, story: demo::Story) -> Value {
    let tenant = demo::tenant_by_slug("ridgeline").unwrap();
    let ordinal = tenant.customers.iter().position(|customer| customer.story == Some(story)).unwrap();
    let query = "query($r: [_Any!]!) { _entities(representations: $r) { ... on CustomerAccount { \
                 engagements { nodes { id status budgetHours goLiveTargetDate goLiveForecastDate \
                 changeRequestTrend { last30Days priorPer30Days increasing } \
                 milestoneAttainment { due attained rate } } } } } }";
    let representations = json!([{ "__typename": "CustomerAccount", "id": demo::customer_id(tenant, ordinal) }]);
    let data = delivery.data("ridgeline", query, json!({ "r": representations })).await;
    data["_entities"][0]["engagements"]["nodes"][0].clone()
}

const SUBMIT: &str = "mutation($engagement: ID!, $date: NaiveDate!, $hours: Decimal!, $category: TimeCategory!) { \
    submitTimeEntry(engagementId: $engagement, workDate: $date, hours: $hours, billable: true, \
    category: $category, note: \"workshop\") { id status hours costAmount billAmount currency \
    staffMember { userId } engagement { id } } }";
const APPROVE: &str = "mutation($id: ID!) { approveTimeEntry(id: $id) { id status } }";
const REJECT: &str =
    "mutation($id: ID!, $reason: String!) { rejectTimeEntry(id: $id, reason: $reason) { id status rejectionReason } }";
const RESUBMIT: &str =
    "mutation($id: ID!, $hours: Decimal) { resubmitTimeEntry(id: $id, hours: $hours) { id status hours } }";

async fn assert_time_is_logged_approved_and_refused(harness: &Harness) {
    let (delivery, database) = (&harness.delivery, &harness.database);
    let tenant = ridgeline();
    let prairie = story_engagement(delivery, demo::Story::PrairieFoods).await;
    let engagement_id = prairie["id"].as_str().unwrap().to_owned();
    let today = test_today().to_string();

    // The consultant logs 7.25 h today: priced at their seeded rates (68 and 165 USD):
    // cost 7.25 × 68 = 493.00, bill 7.25 × 165 = 1,196.25.
    let variables =
        json!({ "engagement": engagement_id, "date": today, "hours": "7.25", "category": "IMPLEMENTATION" });
    let (data, error) = mutate(delivery, &consultant(), SUBMIT, variables).await;
    assert!(error.is_null(), "{error}");
    let entry = &data["submitTimeEntry"];
    assert_eq!(entry["status"], "SUBMITTED");
    assert_eq!(entry["staffMember"]["userId"], "consultant@ridgeline");
    assert_eq!((entry["costAmount"].as_str(), entry["billAmount"].as_str()), (Some("493.00"), Some("1196.25")));
    assert_eq!(entry["currency"], "USD");
    let entry_id = entry["id"].as_str().unwrap().to_owned();

    // Refusals: nothing written, no events.
    let entries_before = count(database, tenant, "time_entries").await;
    let events_before = outbox(database, tenant).await.len();
    let tomorrow = (test_today() + chrono::Duration::days(1)).to_string();
    for (date, hours, code) in [
        (today.as_str(), "30", "BAD_USER_INPUT"),
        (today.as_str(), "17", "BAD_USER_INPUT"), // 7.25 already logged today: 24.25 in one day
        (today.as_str(), "0", "BAD_USER_INPUT"),
        (today.as_str(), "-2", "BAD_USER_INPUT"),
        (tomorrow.as_str(), "1", "BAD_USER_INPUT"),
    ] {
        let variables =
            json!({ "engagement": engagement_id, "date": date, "hours": hours, "category": "IMPLEMENTATION" });
        let (data, error) = mutate(delivery, &consultant(), SUBMIT, variables).await;
        assert!(data.is_null() || data["submitTimeEntry"].is_null(), "{date} {hours}: {data}");
        assert_eq!(error["extensions"]["code"], code, "{date} {hours}: {error}");
    }
    // A person who is no staff member is told to name one.
    let (_, error) = mutate(
        delivery,
        &context_for("ridgeline", "consultant"),
        SUBMIT,
        json!({
        "engagement": engagement_id, "date": today, "hours": "1", "category": "ADVISORY" }),
    )
    .await;
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT");
    assert!(error["message"].as_str().unwrap().contains("staffMemberId"), "{error}");
    // A closed engagement takes no time.
    let closed = story_engagement(delivery, demo::Story::LakeshoreDental).await;
    assert_eq!(closed["status"], "CLOSED");
    let (_, error) = mutate(
        delivery,
        &consultant(),
        SUBMIT,
        json!({
        "engagement": closed["id"], "date": today, "hours": "1", "category": "ADVISORY" }),
    )
    .await;
    assert_eq!(error["extensions"]["code"], "CONFLICT", "{error}");
    assert_eq!(count(database, tenant, "time_entries").await, entries_before, "refusals write nothing");
    assert_eq!(outbox(database, tenant).await.len(), events_before, "refusals emit nothing");

    // A consultant cannot approve; the delivery manager can, once.
    let (_, error) = mutate(delivery, &consultant(), APPROVE, json!({ "id": entry_id })).await;
    assert_eq!(error["extensions"]["code"], "FORBIDDEN");
    let manager = context_for("ridgeline", "delivery_manager");
    let (data, error) = mutate(delivery, &manager, APPROVE, json!({ "id": entry_id })).await;
    assert!(error.is_null(), "{error}");
    assert_eq!(data["approveTimeEntry"]["status"], "APPROVED");
    let (_, error) = mutate(delivery, &manager, APPROVE, json!({ "id": entry_id })).await;
    assert_eq!(error["extensions"]["code"], "INVALID_TRANSITION");
    assert_eq!(error["extensions"]["current"], "APPROVED");

    // Audited: the approval once, by the manager; the refused logging attempts as rejected.
    let approvals = audit_count(database, tenant, "approveTimeEntry", "succeeded").await;
    assert_eq!(approvals, 1);
    assert!(audit_count(database, tenant, "submitTimeEntry", "rejected").await >= 6);
    assert_eq!(audit_count(database, tenant, "submitTimeEntry", "succeeded").await, 1);

    let events = outbox(database, tenant).await;
    let approved = events.iter().find(|event| event.event_type == "delivery.time_entry.approved").expect("approved");
    assert_eq!(approved.subject.entity_type, "TimeEntry");
    assert_eq!(approved.subject.id.to_string(), entry_id);
    assert_eq!(approved.subject.version, 2);
    assert_eq!(approved.refs["engagement_id"].to_string(), engagement_id);
    let customer = demo::customer_id(
        demo::tenant_by_slug("ridgeline").unwrap(),
        demo::tenant_by_slug("ridgeline")
            .unwrap()
            .customers
            .iter()
            .position(|c| c.story == Some(demo::Story::PrairieFoods))
            .unwrap(),
    );
    assert_eq!(approved.refs["customer_account_id"], customer);
    let staff_member_id = approved.refs["staff_member_id"].to_string();
    assert_eq!(
        approved.data,
        json!({
            "time_entry_id": entry_id, "staff_member_id": staff_member_id, "engagement_id": engagement_id,
            "work_date": today, "hours": "7.25", "billable": true, "cost_amount": "493.00",
            "bill_amount": "1196.25", "currency": "USD", "category": "implementation",
        })
    );

    // Rejected and resubmitted with corrected hours.
    let variables = json!({ "engagement": engagement_id, "date": today, "hours": "2", "category": "ADVISORY" });
    let (data, _) = mutate(delivery, &consultant(), SUBMIT, variables).await;
    let second = data["submitTimeEntry"]["id"].as_str().unwrap().to_owned();
    let (_, error) = mutate(delivery, &manager, REJECT, json!({ "id": second, "reason": " " })).await;
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT");
    let (data, _) = mutate(delivery, &manager, REJECT, json!({ "id": second, "reason": "wrong engagement" })).await;
    assert_eq!(data["rejectTimeEntry"]["status"], "REJECTED");
    // 7.25 + 17 = 24.25: still too much once resubmitted.
    let (_, error) = mutate(delivery, &consultant(), RESUBMIT, json!({ "id": second, "hours": "17" })).await;
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT");
    let (data, error) = mutate(delivery, &consultant(), RESUBMIT, json!({ "id": second, "hours": "1.5" })).await;
    assert!(error.is_null(), "{error}");
    assert_eq!(
        (data["resubmitTimeEntry"]["status"].as_str(), data["resubmitTimeEntry"]["hours"].as_str()),
        (Some("SUBMITTED"), Some("1.5"))
    );

    // The engagement lists both, loaded through its loader; the filter finds the approved one.
    let query = "query($id: ID!) { engagement(id: $id) { timeEntries(first: 100) { nodes { id status } } team { userId } } \
                 timeEntries(engagementId: $id, status: APPROVED, from: \"2026-06-01\", to: \"2026-06-01\", first: 10) { nodes { id } } }";
    let data = delivery.data("ridgeline", query, json!({ "id": engagement_id })).await;
    let listed: Vec<&str> = data["engagement"]["timeEntries"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap())
        .collect();
    assert!(listed.contains(&entry_id.as_str()) && listed.contains(&second.as_str()));
    assert!(
        data["engagement"]["team"].as_array().unwrap().iter().any(|staff| staff["userId"] == "consultant@ridgeline")
    );
    assert_eq!(data["timeEntries"]["nodes"], json!([{ "id": entry_id }]));
}

const SUBMIT_CR: &str = "mutation($engagement: ID!, $title: String!) { submitChangeRequest(engagementId: $engagement, \
    title: $title, impactHours: \"40\", impactPrice: \"6000.00\", impactDays: 5, reason: \"scope_add\") { id number status } }";

async fn assert_change_requests_replan_the_engagement(harness: &Harness) {
    let (delivery, database) = (&harness.delivery, &harness.database);
    let tenant = ridgeline();
    let manager = context_for("ridgeline", "delivery_manager");
    let prairie = story_engagement(delivery, demo::Story::PrairieFoods).await;
    // Seeded: 4 change requests in the last 30 days, 1 in the 90 before: 1 ÷ 3 = 0.3333 per 30 days.
    assert_eq!(
        prairie["changeRequestTrend"],
        json!({ "last30Days": 4, "priorPer30Days": "0.3333", "increasing": true })
    );

    let (data, error) =
        mutate(delivery, &manager, SUBMIT_CR, json!({ "engagement": prairie["id"], "title": "Second warehouse" }))
            .await;
    assert!(error.is_null(), "{error}");
    assert_eq!(data["submitChangeRequest"]["number"], "CR-006");
    let id = data["submitChangeRequest"]["id"].as_str().unwrap().to_owned();
    let (data, error) = mutate(
        delivery,
        &manager,
        "mutation($id: ID!) { approveChangeRequest(id: $id) { status } }",
        json!({ "id": id }),
    )
    .await;
    assert!(error.is_null(), "{error}");
    assert_eq!(data["approveChangeRequest"]["status"], "APPROVED");
    let after = story_engagement(delivery, demo::Story::PrairieFoods).await;
    // No budget seeded: 0 + 40; go-live target and forecast move 5 days.
    assert_eq!(after["budgetHours"], "40");
    let shifted = |field: &str| {
        let before: chrono::NaiveDate = prairie[field].as_str().unwrap().parse().unwrap();
        (before + chrono::Duration::days(5)).to_string()
    };
    assert_eq!(after["goLiveTargetDate"], shifted("goLiveTargetDate"));
    assert_eq!(after["goLiveForecastDate"], shifted("goLiveForecastDate"));
    let approved = outbox(database, tenant)
        .await
        .into_iter()
        .find(|e| e.event_type == "delivery.change_request.approved")
        .unwrap();
    assert_eq!(
        approved.data,
        json!({ "change_request_id": id, "title": "Second warehouse", "impact_hours": "40.00",
                "impact_price": "6000.00", "impact_days": 5, "currency": "USD" })
    );
    let (_, error) = mutate(
        delivery,
        &manager,
        "mutation($id: ID!) { withdrawChangeRequest(id: $id) { status } }",
        json!({ "id": id }),
    )
    .await;
    assert_eq!(error["extensions"]["code"], "INVALID_TRANSITION");

    // A closed engagement takes no change request.
    let closed = story_engagement(delivery, demo::Story::LakeshoreDental).await;
    let before = count(database, tenant, "change_requests").await;
    let (_, error) =
        mutate(delivery, &manager, SUBMIT_CR, json!({ "engagement": closed["id"], "title": "Late idea" })).await;
    assert_eq!(error["extensions"]["code"], "CONFLICT", "{error}");
    assert_eq!(count(database, tenant, "change_requests").await, before);
}

#[tokio::test]
async fn time_is_logged_approved_and_refused_on_sqlite() {
    assert_time_is_logged_approved_and_refused(&sqlite_harness().await).await;
}

#[tokio::test]
async fn time_is_logged_approved_and_refused_on_postgres() {
    let Some(harness) = postgres_harness("delivery_time").await else { return };
    assert_time_is_logged_approved_and_refused(&harness).await;
}

#[tokio::test]
async fn change_requests_replan_the_engagement_on_sqlite() {
    assert_change_requests_replan_the_engagement(&sqlite_harness().await).await;
}

#[tokio::test]
async fn change_requests_replan_the_engagement_on_postgres() {
    let Some(harness) = postgres_harness("delivery_changes").await else { return };
    assert_change_requests_replan_the_engagement(&harness).await;
}

#[tokio::test]
async fn cedar_valley_logged_nine_advisory_hours_in_ninety_days() {
    let harness = sqlite_harness().await;
    let cedar = story_engagement(&harness.delivery, demo::Story::CedarValley).await;
    let query = "query($id: ID!) { timeEntries(engagementId: $id, from: \"2026-03-03\", to: \"2026-06-01\", first: 50) { \
                 nodes { hours category status } } }";
    let data = harness.delivery.data("ridgeline", query, json!({ "id": cedar["id"] })).await;
    let nodes = data["timeEntries"]["nodes"].as_array().unwrap();
    assert!(nodes.iter().all(|node| node["category"] == "ADVISORY" && node["status"] == "APPROVED"), "{data}");
    let hours: f64 = nodes.iter().map(|node| node["hours"].as_str().unwrap().parse::<f64>().unwrap()).sum();
    assert_eq!(hours, 9.0);
}

#[tokio::test]
async fn the_demo_consultant_is_utilized_by_their_seeded_hours() {
    let harness = sqlite_harness().await;
    // 2026-05-18 (Mon) to 2026-05-22 (Fri): 5 weekdays × 8 h = 40 available; entries of
    // the last 7 days (after 05-25) are still submitted, these are approved. The demo
    // consultant logs 6 h a weekday on one engagement: 30 ÷ 40 = 0.75.
    let query = "{ staffMembers(first: 20, role: CONSULTANT) { nodes { userId \
                 utilization(from: \"2026-05-18\", to: \"2026-05-22\") { billableHours availableHours ratio } } } }";
    let data = harness.delivery.data("ridgeline", query, json!({})).await;
    let nodes = data["staffMembers"]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 3, "three consultants seeded: {data}");
    let consultant = nodes.iter().find(|node| node["userId"] == "consultant@ridgeline").unwrap();
    assert_eq!(consultant["utilization"], json!({ "billableHours": "30", "availableHours": "40", "ratio": "0.75" }));
}

/// Two passes of the emitter racing on PostgreSQL, then a third: every overdue open
/// milestone of a running engagement announced exactly once.
#[tokio::test]
async fn the_late_milestone_emitter_fires_once_per_milestone_across_racing_passes_on_postgres() {
    let Some(harness) = postgres_harness("delivery_late").await else { return };
    let database = &harness.database;
    let tenant = ridgeline();
    let today = test_today();
    let (first, second) =
        tokio::join!(emit_late_milestones(database, tenant, today), emit_late_milestones(database, tenant, today));
    let announced = first.unwrap() + second.unwrap();
    assert!(announced > 0, "the seed has overdue milestones (Prairie Foods' UAT among them)");
    assert_eq!(emit_late_milestones(database, tenant, today).await.unwrap(), 0, "a later pass finds nothing new");
    let events = outbox(database, tenant).await;
    let late: Vec<&DomainEvent> = events.iter().filter(|e| e.event_type == "delivery.milestone.became_late").collect();
    assert_eq!(late.len() as u64, announced);
    let mut subjects: Vec<Uuid> = late.iter().map(|event| event.subject.id).collect();
    subjects.sort();
    subjects.dedup();
    assert_eq!(subjects.len(), late.len(), "no milestone twice");
    // Every announced milestone is late by the schedule signal's definition.
    let query = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Milestone { late } } }";
    let representations: Vec<Value> =
        subjects.iter().map(|id| json!({ "__typename": "Milestone", "id": id })).collect();
    let data = harness.delivery.data("ridgeline", query, json!({ "r": representations })).await;
    assert!(data["_entities"].as_array().unwrap().iter().all(|m| m["late"] == true), "{data}");
    // Prairie Foods' UAT (due 20 days ago) is among them.
    assert!(late.iter().any(|event| event.data["name"] == "UAT" && event.data["days_late"] == 20));
}

/// Two replicas' schedulers ("a" and "b") on one PostgreSQL database tick together, then
/// again later (after the lease could have passed to the other): every milestone that is
/// late by the business date is announced exactly once.
#[tokio::test]
async fn two_schedulers_announce_each_late_milestone_once_on_postgres() {
    let Some(harness) = postgres_harness("delivery_late_schedulers").await else { return };
    let database = &harness.database;
    let tenant = ridgeline();
    let job = Arc::new(LateMilestones::new(BusinessCalendar::Fixed(test_today())));
    let replica =
        |holder: &str| Scheduler::new(database.clone(), holder).with_job(job.clone()).with_tenants(vec![tenant]);
    let (a, b) = (replica("a"), replica("b"));
    let now = chrono::Utc::now();
    let (first_a, first_b) = tokio::join!(a.tick(now), b.tick(now));
    let (first_a, first_b) = (first_a.unwrap(), first_b.unwrap());
    assert_eq!(first_a[0].ran as u8 + first_b[0].ran as u8, 1, "one holder of the lease: {first_a:?} {first_b:?}");
    let announced = first_a[0].items + first_b[0].items;
    assert!(announced > 0, "the seed has late milestones");
    // Later, past the lease (2 × 5 minutes): whoever runs finds nothing new.
    let later = now + chrono::Duration::minutes(11);
    let (second_a, second_b) = tokio::join!(a.tick(later), b.tick(later));
    assert_eq!(second_a.unwrap()[0].items + second_b.unwrap()[0].items, 0);
    let late: Vec<DomainEvent> = outbox(database, tenant)
        .await
        .into_iter()
        .filter(|event| event.event_type == "delivery.milestone.became_late")
        .collect();
    assert_eq!(late.len() as u64, announced);
    let mut subjects: Vec<Uuid> = late.iter().map(|event| event.subject.id).collect();
    subjects.sort();
    subjects.dedup();
    assert_eq!(subjects.len(), late.len(), "each milestone once");
}
