//! The automation engine at the service level (docs/domain.md#automation-rules,
//! docs/domain.md#cs-actions-and-playbooks): hand-built trigger events go through the
//! analytics consumer as the event runtime runs them, scheduled rules through the kit's
//! scheduler, and the subgraph answers the CS actions, runs and notifications; commands
//! for finance and support land in analytics' outbox.

use atrium_analytics::{automation::schedule::AutomationSchedule, events::AnalyticsEvents};
use atrium_kit::{
    TenantContext, TenantTransaction,
    demo::{self, Story},
    events::{DomainEvent, EventHandler, Subject},
    schedule::Scheduler,
    testing::{self, TestDatabase, context_for},
};
use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use serde_json::{Value, json};
use std::sync::Arc;
use uuid::Uuid;

use crate::helpers::{TestAnalytics, spawn_with_database};

const ACTIONS_QUERY: &str = "query($filter: CsActionFilterInput) { csActions(filter: $filter, first: 50) { \
    nodes { id customerAccountId type priority ownerRole dueDate status reason playbookId sourceRuleId \
    steps { ordinal title ownerRole dueDate } } pageInfo { hasNextPage } } }";

const RUNS_QUERY: &str = "{ automationRuns(first: 100) { nodes { id ruleId subjectType subjectId \
    triggeredByEventId outcome actionsResult } } }";

const NOTIFICATIONS_QUERY: &str = "{ notifications(first: 50) { nodes { recipientRole template message } } }";

fn customer_of(slug: &str, story: Story) -> Uuid {
    let tenant = demo::tenant_by_slug(slug).unwrap();
    let ordinal = tenant.customers.iter().position(|customer| customer.story == Some(story)).unwrap();
    demo::customer_id(tenant, ordinal)
}

fn event(
    slug: &str,
    event_type: &str,
    subject_type: &str,
    subject_id: Uuid,
    customer: Uuid,
    data: Value,
) -> DomainEvent {
    let producer = event_type.split('.').next().unwrap();
    let subject = Subject { entity_type: subject_type.to_owned(), id: subject_id, version: 1 };
    DomainEvent::new(&context_for(slug, producer), event_type, subject)
        .with_ref("customer_account_id", customer)
        .with_data(data)
}

fn aging(slug: &str, customer: Uuid, invoice: Uuid, bucket: &str, days_past_due: i64) -> DomainEvent {
    event(
        slug,
        "finance.invoice.aging_bucket_changed",
        "Invoice",
        invoice,
        customer,
        json!({
        "bucket": bucket, "previous_bucket": "31_60", "balance": "4200.00", "currency": "EUR",
        "days_past_due": days_past_due, "due_date": "2026-10-01", "as_of": "2026-12-04" }),
    )
    .with_ref("invoice_id", invoice)
}

/// Runs the consumer on `event` as the event runtime does.
async fn deliver(database: &DatabaseConnection, event: &DomainEvent) {
    let handler = AnalyticsEvents::new();
    assert!(handler.wants(&event.event_type), "{}", event.event_type);
    let context = TenantContext::automation(event.tenant_id, "consumer:analytics");
    let tx = TenantTransaction::begin(database, &context).await.unwrap();
    handler.handle(&tx, event).await.expect("event applied");
    tx.commit().await.unwrap();
}

/// Analytics' outbox entries of `event_type` for the tenant, oldest first.
async fn outbox(database: &DatabaseConnection, tenant_id: Uuid, event_type: &str) -> Vec<DomainEvent> {
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

async fn as_role(analytics: &TestAnalytics, context: &TenantContext, query: &str, variables: Value) -> Value {
    let (status, body) = analytics.query(Some(context), query, variables).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("errors").is_none(), "{body}");
    body["data"].clone()
}

async fn actions_of(analytics: &TestAnalytics, slug: &str, customer: Uuid) -> Vec<Value> {
    let variables = json!({ "filter": { "customerAccountId": customer } });
    let data = as_role(analytics, &context_for(slug, "csm"), ACTIONS_QUERY, variables).await;
    data["csActions"]["nodes"].as_array().unwrap().clone()
}

async fn runs_of(analytics: &TestAnalytics, slug: &str, rule_code: &str) -> Vec<Value> {
    let rules =
        as_role(analytics, &context_for(slug, "tenant_admin"), "{ automationRules { id code } }", json!({})).await;
    let rule_id =
        rules["automationRules"].as_array().unwrap().iter().find(|rule| rule["code"] == rule_code).unwrap()["id"]
            .clone();
    let runs = as_role(analytics, &context_for(slug, "tenant_admin"), RUNS_QUERY, json!({})).await;
    runs["automationRuns"]["nodes"].as_array().unwrap().iter().filter(|run| run["ruleId"] == rule_id).cloned().collect()
}

async fn update_rule(analytics: &TestAnalytics, slug: &str, arguments: &str) -> Value {
    let mutation = format!("mutation {{ updateAutomationRule({arguments}) {{ code enabled cooldownHours version }} }}");
    as_role(analytics, &context_for(slug, "tenant_admin"), &mutation, json!({})).await["updateAutomationRule"].clone()
}

/// A9: the invoice-aging rule by bucket; a re-delivered trigger runs it once; a tenant
/// that switched the rule off gets nothing while another tenant's rule still runs; the
/// CS action is visible to the CSM and to the customer's partner only, and closes once.
async fn assert_invoice_aging(analytics: &TestAnalytics, database: &DatabaseConnection) {
    // Helix customer 0 (Nordlys Shipping) is sold through partner 0.
    let helix = demo::tenant_by_slug("helix").unwrap();
    let nordlys = demo::customer_id(helix, 0);
    let invoice = Uuid::now_v7();
    let crossed = aging("helix", nordlys, invoice, "61_90", 64);
    deliver(database, &crossed).await;
    deliver(database, &crossed).await;

    let actions = actions_of(analytics, "helix", nordlys).await;
    assert_eq!(actions.len(), 1, "{actions:?}");
    let action = &actions[0];
    assert_eq!(action["type"], "FINANCE");
    assert_eq!(action["priority"], "HIGH");
    assert_eq!(action["ownerRole"], "csm");
    assert_eq!(action["status"], "OPEN");
    assert_eq!(action["reason"], "Invoice 64 days past due");
    let runs = runs_of(analytics, "helix", "A9").await;
    assert_eq!(runs.len(), 1, "a re-delivered trigger runs the rule once: {runs:?}");
    assert_eq!(runs[0]["outcome"], "SUCCEEDED");
    assert_eq!(runs[0]["subjectType"], "Invoice");
    assert_eq!(runs[0]["triggeredByEventId"], json!(crossed.id));
    let notifications = as_role(analytics, &context_for("helix", "tenant_admin"), NOTIFICATIONS_QUERY, json!({})).await;
    let templates: Vec<(&str, &str)> = notifications["notifications"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|node| (node["recipientRole"].as_str().unwrap(), node["template"].as_str().unwrap()))
        .collect();
    assert_eq!(templates, [("csm", "dunning_61_90")]);
    assert_eq!(outbox(database, helix_id(), "analytics.cs_action.created").await.len(), 1);
    assert_eq!(outbox(database, helix_id(), "analytics.automation.run_completed").await.len(), 1);

    // A bucket the rule does not act on: a skipped run, nothing created.
    deliver(database, &aging("helix", nordlys, Uuid::now_v7(), "1_30", 3)).await;
    assert_eq!(actions_of(analytics, "helix", nordlys).await.len(), 1);
    let outcomes: Vec<Value> =
        runs_of(analytics, "helix", "A9").await.iter().map(|run| run["outcome"].clone()).collect();
    assert_eq!(outcomes, [json!("SUCCEEDED"), json!("SKIPPED_CONDITION")]);

    // Partner users see their customers' actions only.
    let partner = |ordinal: usize| {
        let mut context = context_for("helix", "partner_user");
        context.channel_partner_id = Some(demo::partner_id(helix, ordinal));
        context
    };
    for (context, expected) in [(partner(0), 1), (partner(1), 0)] {
        let data = as_role(analytics, &context, ACTIONS_QUERY, json!({})).await;
        assert_eq!(data["csActions"]["nodes"].as_array().unwrap().len(), expected, "{context:?}");
    }

    // One tenant switches A9 off: its next crossing runs nothing, another tenant's still runs.
    let updated = update_rule(analytics, "helix", "code: \"A9\", enabled: false").await;
    assert_eq!(updated, json!({ "code": "A9", "enabled": false, "cooldownHours": 0, "version": 2 }));
    deliver(database, &aging("helix", nordlys, Uuid::now_v7(), "90_plus", 95)).await;
    assert_eq!(runs_of(analytics, "helix", "A9").await.len(), 2);
    let prairie = customer_of("ridgeline", Story::PrairieFoods);
    deliver(database, &aging("ridgeline", prairie, Uuid::now_v7(), "90_plus", 95)).await;
    let ridgeline_actions = actions_of(analytics, "ridgeline", prairie).await;
    assert_eq!(ridgeline_actions.len(), 1);
    assert_eq!(ridgeline_actions[0]["priority"], "URGENT");
    assert_eq!(ridgeline_actions[0]["ownerRole"], "finance");

    // The CSM closes the action; a second close is an invalid transition.
    let close = format!(
        "mutation {{ closeCsAction(id: \"{}\", outcome: SUCCESS) {{ status closedAt }} }}",
        action["id"].as_str().unwrap()
    );
    let closed = as_role(analytics, &context_for("helix", "csm"), &close, json!({})).await;
    assert_eq!(closed["closeCsAction"]["status"], "CLOSED_SUCCESS");
    let (_, again) = analytics.query(Some(&context_for("helix", "csm")), &close, json!({})).await;
    assert_eq!(again["errors"][0]["extensions"]["code"], "INVALID_TRANSITION", "{again}");
    let closed_events = outbox(database, helix_id(), "analytics.cs_action.closed").await;
    assert_eq!(closed_events.len(), 1);
    assert_eq!(closed_events[0].data["status"], "closed_success");
    // Another partner's user cannot reach it.
    let dismiss = format!("mutation {{ dismissCsAction(id: \"{}\") {{ status }} }}", action["id"].as_str().unwrap());
    let (_, foreign) = analytics.query(Some(&partner(1)), &dismiss, json!({})).await;
    assert_eq!(foreign["errors"][0]["extensions"]["code"], "NOT_FOUND", "{foreign}");
}

fn helix_id() -> Uuid {
    demo::tenant_id("helix")
}

/// A7: a go-live slip opens a risk action (and tells the executive sponsor past 30 days);
/// its cooldown keeps a second slip of the same engagement from opening another.
async fn assert_go_live_slip(analytics: &TestAnalytics, database: &DatabaseConnection) {
    let customer = customer_of("veritas", Story::Harborview);
    let engagement = Uuid::now_v7();
    let slip = |old: &str, new: &str, variance: i64| {
        event(
            "veritas",
            "delivery.engagement.go_live_forecast_changed",
            "Engagement",
            engagement,
            customer,
            json!({
            "old": old, "new": new, "target": "2027-01-15", "variance_days": variance }),
        )
        .with_ref("engagement_id", engagement)
    };
    // 2027-01-20 → 2027-02-20: 31 days later, 36 days past the target.
    deliver(database, &slip("2027-01-20", "2027-02-20", 36)).await;
    let actions = actions_of(analytics, "veritas", customer).await;
    assert_eq!(actions.len(), 1, "{actions:?}");
    assert_eq!(actions[0]["type"], "RISK");
    assert_eq!(actions[0]["reason"], "Go-live forecast slipped 31 days (now 36 days late)");
    let notifications =
        as_role(analytics, &context_for("veritas", "tenant_admin"), NOTIFICATIONS_QUERY, json!({})).await;
    assert_eq!(notifications["notifications"]["nodes"][0]["template"], "go_live_slip_exec");

    // A 2-day shift is below the 5-day step: skipped.
    deliver(database, &slip("2027-02-20", "2027-02-22", 38)).await;
    // With a cooldown, a further slip of the same engagement within it opens nothing.
    update_rule(analytics, "veritas", "code: \"A7\", cooldownHours: 72").await;
    deliver(database, &slip("2027-02-22", "2027-03-01", 45)).await;
    assert_eq!(actions_of(analytics, "veritas", customer).await.len(), 1);
    let outcomes: Vec<Value> =
        runs_of(analytics, "veritas", "A7").await.iter().map(|run| run["outcome"].clone()).collect();
    assert_eq!(outcomes, [json!("SUCCEEDED"), json!("SKIPPED_CONDITION"), json!("SKIPPED_COOLDOWN")]);
}

/// A10: an SLA breach on an urgent ticket asks support to escalate at level 2, a warning
/// at level 1; a low-priority breach of a customer without a red band is left alone.
async fn assert_sla_escalation(analytics: &TestAnalytics, database: &DatabaseConnection) {
    let tenant_id = demo::tenant_id("ridgeline");
    let customer = customer_of("ridgeline", Story::LakeshoreDental);
    let ticket = Uuid::now_v7();
    let sla = |event_type: &str, priority: &str| {
        event(
            "ridgeline",
            event_type,
            "Ticket",
            ticket,
            customer,
            json!({
            "metric": "resolution", "priority": priority, "policy": "standard" }),
        )
        .with_ref("ticket_id", ticket)
    };
    let breached = sla("support.sla.breached", "urgent");
    deliver(database, &breached).await;
    deliver(database, &sla("support.sla.warning", "high")).await;
    deliver(database, &sla("support.sla.breached", "low")).await;
    let commands = outbox(database, tenant_id, "support.command.escalate").await;
    assert_eq!(commands.len(), 2, "{commands:?}");
    let rule_id = runs_of(analytics, "ridgeline", "A10").await[0]["ruleId"].as_str().unwrap().to_owned();
    assert_eq!(commands[0].producer, "analytics");
    assert_eq!(commands[0].actor, "automation:A10");
    assert_eq!(commands[0].data["level"], 2);
    assert_eq!(commands[0].data["ticket_id"], json!(ticket));
    assert_eq!(commands[0].data["customer_account_id"], json!(customer));
    assert_eq!(commands[0].data["rule_code"], "A10");
    assert_eq!(commands[0].data["reason"], "SLA breached (resolution, urgent)");
    assert_eq!(commands[0].idempotency_key(), Some(format!("{rule_id}:{ticket}:{}", breached.id).as_str()));
    assert_eq!(commands[1].data["level"], 1);
    let outcomes: Vec<Value> =
        runs_of(analytics, "ridgeline", "A10").await.iter().map(|run| run["outcome"].clone()).collect();
    assert_eq!(outcomes, [json!("SUCCEEDED"), json!("SUCCEEDED"), json!("SKIPPED_CONDITION")]);
}

/// A12 pointed at a playbook that does not exist: the run fails, is retried with backoff
/// by the scheduled job (not before it is due), and after the fifth attempt tenant admins
/// are alerted.
async fn assert_failing_actions_retry_then_alert(analytics: &TestAnalytics, database: &DatabaseConnection) {
    let tenant_id = demo::tenant_id("veritas");
    let customer = customer_of("veritas", Story::ThamesMutual);
    // The scheduled rules are switched off, so that the passes below only retry (whatever
    // the local time of day the test runs at).
    for code in ["A3", "A4", "A5", "A11"] {
        update_rule(analytics, "veritas", &format!("code: \"{code}\", enabled: false")).await;
    }
    update_rule(
        analytics,
        "veritas",
        r#"code: "A12", actions: "[{\"type\":\"analytics.start_playbook\",\"params\":{\"playbook\":\"no_such_playbook\"}}]""#,
    )
    .await;
    let dropped = event(
        "veritas",
        "analytics.health.band_changed",
        "CustomerAccount",
        customer,
        customer,
        json!({
        "from": "yellow", "to": "red", "score": 41 }),
    );
    let delivered_at = Utc::now();
    deliver(database, &dropped).await;
    let run = &runs_of(analytics, "veritas", "A12").await[0];
    assert_eq!(run["outcome"], "FAILED");
    assert_eq!(run["subjectType"], "CustomerAccount");

    let scheduler = Scheduler::new(database.clone(), "analytics-a")
        .with_job(Arc::new(AutomationSchedule::new()))
        .with_tenants(vec![tenant_id]);
    let attempts = |at: DateTime<Utc>| {
        let scheduler = scheduler.clone();
        async move { scheduler.tick(at).await.unwrap()[0].items }
    };
    // Not yet due (first retry after 5 minutes).
    assert_eq!(attempts(delivered_at + Duration::minutes(2)).await, 0);
    // Retries 2–5 at +5, +10, +20, +40 minutes after each failure; the leases are renewed
    // by the one holder.
    let mut at = delivered_at;
    for delay in [5, 10, 20, 40] {
        at += Duration::minutes(delay) + Duration::seconds(1);
        assert_eq!(attempts(at).await, 1, "retry after {delay} minutes");
    }
    assert_eq!(attempts(at + Duration::days(1)).await, 0, "no retry after the fifth attempt");
    let run = &runs_of(analytics, "veritas", "A12").await[0];
    assert_eq!(run["outcome"], "FAILED");
    let result: Value = serde_json::from_str(run["actionsResult"].as_str().unwrap()).unwrap();
    assert_eq!(result["attempt"], 5, "{result}");
    let notifications =
        as_role(analytics, &context_for("veritas", "tenant_admin"), NOTIFICATIONS_QUERY, json!({})).await;
    let alerts: Vec<&Value> = notifications["notifications"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|node| node["template"] == "automation_run_failed")
        .collect();
    assert_eq!(alerts.len(), 1, "{notifications}");
    assert_eq!(alerts[0]["recipientRole"], "tenant_admin");
    let completed = outbox(database, tenant_id, "analytics.automation.run_completed").await;
    assert!(completed.iter().all(|event| event.data["outcome"] == "failed"), "{completed:?}");
}

/// A scheduled rule runs once per customer and day, whichever of two replicas ticks, and
/// again on the next day.
async fn assert_schedules_run_once_a_day(analytics: &TestAnalytics, database: &DatabaseConnection) {
    let tenant_id = demo::tenant_id("ridgeline");
    // A3 narrowed to customers whose CSM pulse is 1: Prairie Foods among the story accounts.
    update_rule(
        analytics,
        "ridgeline",
        r#"code: "A3", condition: "{\"fact\":\"customer.csm_pulse\",\"op\":\"lte\",\"value\":1}""#,
    )
    .await;
    let prairie = customer_of("ridgeline", Story::PrairieFoods);
    let before = actions_of(analytics, "ridgeline", prairie).await.len();
    let replica = |holder: &str| {
        Scheduler::new(database.clone(), holder)
            .with_job(Arc::new(AutomationSchedule::new()))
            .with_tenants(vec![tenant_id])
    };
    let (first, second) = (replica("analytics-1"), replica("analytics-2"));
    // 2026-12-07 06:30 in Chicago (ridgeline's zone, UTC−6) is 12:30 UTC; 05:30 is not due yet.
    let early: DateTime<Utc> = "2026-12-07T11:30:00Z".parse().unwrap();
    assert_eq!(first.tick(early).await.unwrap()[0].items, 0);
    let due: DateTime<Utc> = "2026-12-07T12:30:00Z".parse().unwrap();
    let (one, two) = tokio::join!(first.tick(due), second.tick(due));
    let ran: u64 = [one.unwrap(), two.unwrap()].iter().map(|runs| runs[0].items).sum();
    assert!(ran >= 1, "the holder ran the due rule");
    second.tick(due + Duration::hours(2)).await.unwrap();
    first.tick(due + Duration::hours(3)).await.unwrap();
    let actions = actions_of(analytics, "ridgeline", prairie).await;
    assert_eq!(actions.len(), before + 1, "{actions:?}");
    let started = actions.last().unwrap();
    assert_eq!(started["type"], "RENEWAL");
    let steps: Vec<&str> =
        started["steps"].as_array().unwrap().iter().map(|step| step["title"].as_str().unwrap()).collect();
    assert_eq!(steps, ["Schedule an advisory session", "Send the usage summary", "Executive check-in"]);
    // Started on 2026-12-07: the last step is due 21 days later.
    assert_eq!(started["dueDate"], "2026-12-28");
    let prairie_runs: Vec<Value> = runs_of(analytics, "ridgeline", "A3")
        .await
        .into_iter()
        .filter(|run| run["subjectId"] == json!(prairie))
        .collect();
    assert_eq!(prairie_runs.len(), 1, "{prairie_runs:?}");
    // The next day runs again (A3 normally also waits for the open renewal action to close;
    // the narrowed condition does not).
    first.tick(due + Duration::days(1) + Duration::minutes(10)).await.unwrap();
    assert_eq!(actions_of(analytics, "ridgeline", prairie).await.len(), before + 2);
}

#[tokio::test]
async fn invoice_aging_opens_actions_once_per_trigger_on_sqlite() {
    let (analytics, database) = spawn_with_database(testing::sqlite_url("analytics"), None).await;
    assert_invoice_aging(&analytics, &database).await;
}

#[tokio::test]
async fn invoice_aging_opens_actions_once_per_trigger_on_postgres() {
    let Some(test_database) = TestDatabase::create("analytics").await else { return };
    let (analytics, database) =
        spawn_with_database(test_database.runtime_url.clone(), Some(test_database.owner_url.clone())).await;
    assert_invoice_aging(&analytics, &database).await;
}

#[tokio::test]
async fn go_live_slips_open_risk_actions_within_the_cooldown_once() {
    let (analytics, database) = spawn_with_database(testing::sqlite_url("analytics"), None).await;
    assert_go_live_slip(&analytics, &database).await;
}

#[tokio::test]
async fn sla_events_send_escalation_commands_to_support() {
    let (analytics, database) = spawn_with_database(testing::sqlite_url("analytics"), None).await;
    assert_sla_escalation(&analytics, &database).await;
}

#[tokio::test]
async fn failing_actions_are_retried_with_backoff_then_alerted_on_sqlite() {
    let (analytics, database) = spawn_with_database(testing::sqlite_url("analytics"), None).await;
    assert_failing_actions_retry_then_alert(&analytics, &database).await;
}

#[tokio::test]
async fn failing_actions_are_retried_with_backoff_then_alerted_on_postgres() {
    let Some(test_database) = TestDatabase::create("analytics").await else { return };
    let (analytics, database) =
        spawn_with_database(test_database.runtime_url.clone(), Some(test_database.owner_url.clone())).await;
    assert_failing_actions_retry_then_alert(&analytics, &database).await;
}

#[tokio::test]
async fn scheduled_rules_run_once_a_day_under_the_lease_on_sqlite() {
    let (analytics, database) = spawn_with_database(testing::sqlite_url("analytics"), None).await;
    assert_schedules_run_once_a_day(&analytics, &database).await;
}

#[tokio::test]
async fn scheduled_rules_run_once_a_day_under_the_lease_on_postgres() {
    let Some(test_database) = TestDatabase::create("analytics").await else { return };
    let (analytics, database) =
        spawn_with_database(test_database.runtime_url.clone(), Some(test_database.owner_url.clone())).await;
    assert_schedules_run_once_a_day(&analytics, &database).await;
}

#[tokio::test]
async fn rule_edits_are_for_tenant_admins_and_refuse_unreadable_conditions() {
    let (analytics, _database) = spawn_with_database(testing::sqlite_url("analytics"), None).await;
    let mutation = "mutation { updateAutomationRule(code: \"A9\", enabled: false) { version } }";
    let (_, body) = analytics.query(Some(&context_for("helix", "csm")), mutation, json!({})).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHORIZED_FIELD_OR_TYPE", "{body}");
    let bad = r#"mutation { updateAutomationRule(code: "A9", condition: "{\"fact\":\"event.bucket\",\"op\":\"like\",\"value\":1}") { version } }"#;
    let (_, body) = analytics.query(Some(&context_for("helix", "tenant_admin")), bad, json!({})).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{body}");
    let missing = "mutation { updateAutomationRule(code: \"Z9\", enabled: false) { version } }";
    let (_, body) = analytics.query(Some(&context_for("helix", "tenant_admin")), missing, json!({})).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "NOT_FOUND", "{body}");
    let playbooks = as_role(
        &analytics,
        &context_for("helix", "tenant_admin"),
        "{ playbooks { code csActionType steps { title dueOffsetDays } } }",
        json!({}),
    )
    .await;
    let codes: Vec<&str> =
        playbooks["playbooks"].as_array().unwrap().iter().map(|playbook| playbook["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["expansion_upsell", "reprice_or_rescope", "risk_recovery", "value_realization"]);
}
