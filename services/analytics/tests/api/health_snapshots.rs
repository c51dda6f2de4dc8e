//! Health snapshots (docs/domain.md#health-snapshots): the nightly pass stores one per
//! customer and day; an event that can move a score recomputes its customer, debounced
//! for 15 minutes unless the band changes; the events announce both; `healthHistory`
//! answers them newest first.

use atrium_analytics::{events::AnalyticsEvents, health};
use atrium_kit::{
    TenantContext, TenantTransaction,
    demo::{self, Story},
    events::{DomainEvent, EventHandler, Subject},
    schedule::TenantTick,
    testing::context_for,
};
use chrono::Utc;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestAnalytics, spawn_with_database};

const HISTORY: &str = "query($representations: [_Any!]!) { _entities(representations: $representations) { \
    ... on CustomerAccount { healthHistory(first: 10) { nodes { asOf score band trend previousScore profile \
    modelVersion } pageInfo { hasNextPage } } } } }";

fn customer(slug: &str, story: Story) -> Uuid {
    let tenant = demo::tenant_by_slug(slug).unwrap();
    demo::customer_id(tenant, tenant.customers.iter().position(|c| c.story == Some(story)).unwrap())
}

async fn history(analytics: &TestAnalytics, slug: &str, customer: Uuid) -> Vec<Value> {
    let representation = json!({ "__typename": "CustomerAccount", "id": customer });
    let data = analytics.data(slug, HISTORY, json!({ "representations": [representation] })).await;
    data["_entities"][0]["healthHistory"]["nodes"].as_array().unwrap().clone()
}

/// The envelopes of `event_type` in analytics' outbox for `tenant_id`, oldest first.
async fn announced(database: &DatabaseConnection, tenant_id: Uuid, event_type: &str) -> Vec<DomainEvent> {
    let tx = TenantTransaction::begin(database, &TenantContext::automation(tenant_id, "test")).await.unwrap();
    let sql = "SELECT envelope FROM change_outbox WHERE tenant_id = $1 AND event_type = $2 ORDER BY id";
    let statement = Statement::from_sql_and_values(
        tx.connection().get_database_backend(),
        sql,
        vec![tenant_id.into(), event_type.into()],
    );
    let rows = tx.connection().query_all_raw(statement).await.unwrap();
    rows.iter().map(|row| serde_json::from_str(&row.try_get_by_index::<String>(0).unwrap()).unwrap()).collect()
}

async fn deliver(database: &DatabaseConnection, event: &DomainEvent) {
    let handler = AnalyticsEvents::new();
    assert!(handler.wants(&event.event_type), "{}", event.event_type);
    let tx = TenantTransaction::begin(database, &TenantContext::automation(event.tenant_id, "consumer:analytics"))
        .await
        .unwrap();
    handler.handle(&tx, event).await.expect("event applied");
    tx.commit().await.unwrap();
}

fn sla_breached(slug: &str, customer: Uuid) -> DomainEvent {
    let context = TenantContext::automation(demo::tenant_id(slug), "schedule:support.sla_evaluator");
    let subject = Subject { entity_type: "SlaClock".to_owned(), id: Uuid::now_v7(), version: 1 };
    DomainEvent::new(&context, "support.sla.breached", subject)
        .with_ref("customer_account_id", customer)
        .with_data(json!({ "metric": "first_response", "priority": "urgent" }))
}

async fn admin(analytics: &TestAnalytics, slug: &str, query: &str, variables: Value) -> Value {
    let (status, body) = analytics.query(Some(&context_for(slug, "tenant_admin")), query, variables).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("errors").is_none(), "{body}");
    body["data"].clone()
}

#[tokio::test]
async fn the_nightly_pass_snapshots_every_customer_once_a_day() {
    let (analytics, database) = spawn_with_database(atrium_kit::testing::sqlite_url("analytics"), None).await;
    let tenant = demo::tenant_by_slug("ridgeline").unwrap();
    // The seed stored the seed day's snapshots: that day's pass (due two hours later, by
    // when the day's 02:00 has passed) has nothing to do.
    let seed_day = TenantTick::at(demo::tenant_id("ridgeline"), Utc::now() + chrono::Duration::hours(2));
    assert_eq!(health::nightly_day(&seed_day), atrium_kit::calendar::tenant_date(seed_day.tenant_id, Utc::now()));
    assert_eq!(health::nightly_snapshots(&database, &seed_day).await.unwrap(), 0, "seeded already");
    // Two days on (past 02:00 whatever the hour now), every customer is due once.
    let tick = TenantTick::at(demo::tenant_id("ridgeline"), Utc::now() + chrono::Duration::days(2));
    let stored = health::nightly_snapshots(&database, &tick).await.unwrap();
    assert_eq!(stored as usize, tenant.customers.len(), "one per customer");
    assert_eq!(health::nightly_snapshots(&database, &tick).await.unwrap(), 0, "the day is done");

    let prairie = history(&analytics, "ridgeline", customer("ridgeline", Story::PrairieFoods)).await;
    assert_eq!(prairie.len(), 2, "the seed day's and the nightly one, newest first");
    // Analytics' own facts alone (pulse 8 + exec touch 7 of 100): no score.
    assert_eq!(prairie[0]["band"], "UNKNOWN");
    assert_eq!(prairie[0]["score"], Value::Null);
    assert_eq!(prairie[0]["trend"], "flat");
    assert_eq!(prairie[0]["modelVersion"], "standard_v1@1");
    assert_eq!(prairie[0]["asOf"], health::nightly_day(&tick).to_string());
    let computed = announced(&database, demo::tenant_id("ridgeline"), "analytics.health.snapshot_computed").await;
    assert_eq!(computed.len(), tenant.customers.len());
    assert_eq!(computed[0].data["model_version"], "standard_v1@1");
    assert!(computed.iter().all(|event| event.refs.contains_key("customer_account_id")));
    // Another tenant's pass is its own.
    assert!(announced(&database, demo::tenant_id("helix"), "analytics.health.snapshot_computed").await.is_empty());
}

#[tokio::test]
async fn events_recompute_their_customer_debounced_unless_the_band_moves() {
    let (analytics, database) = spawn_with_database(atrium_kit::testing::sqlite_url("analytics"), None).await;
    let ridgeline = demo::tenant_id("ridgeline");
    let lakeshore = customer("ridgeline", Story::LakeshoreDental);

    // The seed's snapshot is minutes old and the band still UNKNOWN: skipped.
    assert_eq!(history(&analytics, "ridgeline", lakeshore).await.len(), 1, "the seed day's");
    deliver(&database, &sla_breached("ridgeline", lakeshore)).await;
    assert_eq!(history(&analytics, "ridgeline", lakeshore).await.len(), 1, "debounced");

    // A model under which Lakeshore has a score: pulse 3 → 50 (weight 60), exec touch 40
    // days → 100 (7), and from the read models the breached clocks give SLA attainment
    // 0 → 0 (10) and one open urgent ticket → 100·(1 − 3)/(0 − 3) = 66.7 → 67 (5):
    // 82 of 159 = 0.52 ≥ 0.4; (3000 + 700 + 0 + 335)/82 = 49.2 → 49, red (the urgent
    // breach's cap at 50 changes nothing).
    let draft = admin(&analytics, "ridgeline", "mutation { createHealthModelDraft { id } }", json!({})).await;
    let id = draft["createHealthModelDraft"]["id"].clone();
    let input = json!({
        "measures": [{ "profile": "STEADY_STATE", "code": "csm_pulse", "weight": 60.0 }],
        "minDataCoverage": 0.4,
    });
    let update =
        "mutation($id: ID!, $input: HealthModelDraftInput!) { updateHealthModelDraft(id: $id, input: $input) { id } }";
    admin(&analytics, "ridgeline", update, json!({ "id": id, "input": input })).await;
    admin(&analytics, "ridgeline", "mutation($id: ID!) { activateHealthModel(id: $id) { id } }", json!({ "id": id }))
        .await;

    // The band moves UNKNOWN → RED: stored despite the debounce.
    deliver(&database, &sla_breached("ridgeline", lakeshore)).await;
    let snapshots = history(&analytics, "ridgeline", lakeshore).await;
    assert_eq!(snapshots.len(), 2);
    assert_eq!((snapshots[0]["score"].clone(), snapshots[0]["band"].clone()), (json!(49), json!("RED")));
    assert_eq!(snapshots[0]["modelVersion"], "standard_v1@2");
    // The older snapshot keeps the version it was computed with.
    assert_eq!(snapshots[1]["modelVersion"], "standard_v1@1");
    let changed = announced(&database, ridgeline, "analytics.health.band_changed").await;
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].data, json!({ "from": "unknown", "to": "red", "score": 49 }));
    assert_eq!(changed[0].refs["customer_account_id"], lakeshore);
    assert_eq!(announced(&database, ridgeline, "analytics.health.snapshot_computed").await.len(), 1);
}

const PULSE: &str = "mutation($id: ID!, $pulse: Int!, $comment: String) { \
    recordCsmPulse(customerAccountId: $id, pulse: $pulse, comment: $comment) { customerAccountId csmPulse csmPulseComment } }";
const TOUCH: &str = "mutation($id: ID!, $on: NaiveDate!) { \
    recordExecTouch(customerAccountId: $id, kind: QBR_HELD, on: $on) { lastExecTouchOn } }";

async fn as_role(analytics: &TestAnalytics, slug: &str, role: &str, query: &str, variables: Value) -> Value {
    let (status, body) = analytics.query(Some(&context_for(slug, role)), query, variables).await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn a_csm_records_pulse_and_exec_touch_which_recompute_the_snapshot() {
    let (analytics, database) = spawn_with_database(atrium_kit::testing::sqlite_url("analytics"), None).await;
    let prairie = customer("ridgeline", Story::PrairieFoods);
    let body = as_role(
        &analytics,
        "ridgeline",
        "csm",
        PULSE,
        json!({ "id": prairie, "pulse": 2, "comment": "Sponsor left; new CFO unconvinced" }),
    )
    .await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(
        body["data"]["recordCsmPulse"],
        json!({ "customerAccountId": prairie, "csmPulse": 2, "csmPulseComment": "Sponsor left; new CFO unconvinced" })
    );
    assert_eq!(history(&analytics, "ridgeline", prairie).await.len(), 2, "the seed's and one with the new pulse");
    let recorded = announced(&database, demo::tenant_id("ridgeline"), "analytics.csm_pulse.recorded").await;
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].data["pulse"], 2);
    // The comment is kept with the pulse's measure score of the snapshot.
    let tx = TenantTransaction::begin(&database, &TenantContext::automation(demo::tenant_id("ridgeline"), "test"))
        .await
        .unwrap();
    let sql = "SELECT raw_value, score, comment FROM health_measure_scores \
               WHERE measure_code = 'csm_pulse' AND comment IS NOT NULL";
    let statement = Statement::from_string(tx.connection().get_database_backend(), sql);
    let rows = tx.connection().query_all_raw(statement).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].try_get_by_index::<f64>(0).unwrap(), 2.0);
    assert_eq!(rows[0].try_get_by_index::<i32>(1).unwrap(), 25);
    assert_eq!(rows[0].try_get_by_index::<String>(2).unwrap(), "Sponsor left; new CFO unconvinced");
    drop(tx);

    let today = atrium_kit::calendar::tenant_date(demo::tenant_id("ridgeline"), Utc::now());
    let touched = as_role(&analytics, "ridgeline", "tenant_admin", TOUCH, json!({ "id": prairie, "on": today })).await;
    assert_eq!(touched["data"]["recordExecTouch"]["lastExecTouchOn"], today.to_string(), "{touched}");
    // An older meeting recorded later does not move the last touch back.
    let older = today - chrono::Duration::days(30);
    let again = as_role(&analytics, "ridgeline", "csm", TOUCH, json!({ "id": prairie, "on": older })).await;
    assert_eq!(again["data"]["recordExecTouch"]["lastExecTouchOn"], today.to_string(), "{again}");

    let refusals = [
        ("csm", PULSE, json!({ "id": prairie, "pulse": 6 }), "BAD_USER_INPUT"),
        ("csm", TOUCH, json!({ "id": prairie, "on": today + chrono::Duration::days(1) }), "BAD_USER_INPUT"),
        ("support_agent", PULSE, json!({ "id": prairie, "pulse": 3 }), "FORBIDDEN"),
        // Veritas's customer, from ridgeline.
        ("csm", PULSE, json!({ "id": customer("veritas", Story::Rheinwerk), "pulse": 3 }), "NOT_FOUND"),
    ];
    for (role, query, variables, code) in refusals {
        let body = as_role(&analytics, "ridgeline", role, query, variables.clone()).await;
        assert_eq!(body["errors"][0]["extensions"]["code"], code, "{variables}: {body}");
    }
}
