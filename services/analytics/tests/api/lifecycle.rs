//! The customer journey and automation rule A1 end to end: hand-built finance and delivery
//! envelopes go through the analytics consumer inside a tenant transaction (as the event
//! runtime runs it), then the subgraph answers the timeline, the stage and the runs, and
//! the outbox holds the commands for delivery (docs/domain.md#customer-lifecycle,
//! docs/domain.md#automation-rules).

use atrium_analytics::{automation::seed as automation_seed, events::AnalyticsEvents};
use atrium_kit::{
    TenantContext, TenantTransaction,
    demo::{self, Story},
    events::{DomainEvent, EventHandler, Subject},
    testing::{self, TestDatabase, context_for},
};
use chrono::{Duration, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestAnalytics, spawn_with_database};

const COMMAND_TYPE: &str = "delivery.command.create_engagement_from_blueprint";

const JOURNEY_QUERY: &str = "query($representations: [_Any!]!, $first: Int, $after: String) { \
    _entities(representations: $representations) { ... on CustomerAccount { id lifecycleStage \
    timeline(first: $first, after: $after) { nodes { id type occurredAt sourceService payload } \
    pageInfo { hasNextPage endCursor } } } } }";

const RUNS_QUERY: &str = "{ automationRuns(first: 10) { nodes { ruleId ruleVersion subjectType subjectId \
    triggeredByEventId outcome actionsResult } pageInfo { hasNextPage } } }";

struct Journey {
    slug: &'static str,
    customer: Uuid,
    contract: Uuid,
    engagement: Uuid,
    lines: Vec<Uuid>,
}

impl Journey {
    fn new(slug: &'static str, story: Story) -> Self {
        let tenant = demo::tenant_by_slug(slug).unwrap();
        let ordinal = tenant.customers.iter().position(|customer| customer.story == Some(story)).unwrap();
        Journey::of_customer(slug, ordinal)
    }

    fn of_customer(slug: &'static str, ordinal: usize) -> Self {
        let tenant = demo::tenant_by_slug(slug).unwrap();
        Journey {
            slug,
            customer: demo::customer_id(tenant, ordinal),
            contract: Uuid::now_v7(),
            engagement: Uuid::now_v7(),
            lines: vec![Uuid::now_v7(), Uuid::now_v7()],
        }
    }

    fn tenant_id(&self) -> Uuid {
        demo::tenant_id(self.slug)
    }

    /// `finance.contract.signed` for the journey's contract with `lines`, two hours ago.
    fn contract_signed(&self, lines: &[Uuid]) -> DomainEvent {
        let subject = Subject { entity_type: "Contract".to_owned(), id: self.contract, version: 4 };
        let tenant = demo::tenant_by_slug(self.slug).unwrap();
        let package = demo::package_id(tenant, tenant.packages[0]).unwrap();
        let lines: Vec<Value> = lines
            .iter()
            .map(|line| {
                json!({ "contract_line_id": line, "service_package_id": package,
                        "description": "Managed services essentials", "amount": "1200.00" })
            })
            .collect();
        let mut event = DomainEvent::new(&context_for(self.slug, "finance"), "finance.contract.signed", subject)
            .with_ref("customer_account_id", self.customer)
            .with_ref("contract_id", self.contract)
            .with_data(json!({ "number": "C-2026-0042", "status": "signed", "signed_date": "2026-12-02",
                               "start_date": "2026-12-07", "lines": lines }));
        event.occurred_at = Utc::now() - Duration::hours(2);
        event
    }

    /// An engagement event of delivery at subject `version`, `minutes_ago`.
    fn engagement(&self, event_type: &str, version: i64, data: Value, minutes_ago: i64) -> DomainEvent {
        let subject = Subject { entity_type: "Engagement".to_owned(), id: self.engagement, version };
        let automation = TenantContext::automation(self.tenant_id(), "automation:A1");
        let mut event = DomainEvent::new(&automation, event_type, subject)
            .with_ref("customer_account_id", self.customer)
            .with_ref("contract_id", self.contract)
            .with_ref("engagement_id", self.engagement)
            .with_data(data);
        event.occurred_at = Utc::now() - Duration::minutes(minutes_ago);
        event
    }

    fn representation(&self) -> Value {
        json!({ "__typename": "CustomerAccount", "id": self.customer })
    }
}

/// Runs the consumer on `event` as the event runtime does: in a transaction of the
/// event's tenant with the automation context, committed when the handler succeeds.
async fn deliver(database: &DatabaseConnection, event: &DomainEvent) {
    let handler = AnalyticsEvents::new();
    assert!(handler.wants(&event.event_type), "{}", event.event_type);
    let context = TenantContext::automation(event.tenant_id, "consumer:analytics");
    let tx = TenantTransaction::begin(database, &context).await.unwrap();
    handler.handle(&tx, event).await.expect("event applied");
    tx.commit().await.unwrap();
}

fn statement(database: &impl ConnectionTrait, sql: &str, values: Vec<sea_orm::Value>) -> Statement {
    Statement::from_sql_and_values(database.get_database_backend(), sql, values)
}

/// The commands analytics' outbox holds for delivery, oldest first.
async fn commands_in_outbox(database: &DatabaseConnection, tenant_id: Uuid) -> Vec<DomainEvent> {
    let tx = TenantTransaction::begin(database, &TenantContext::automation(tenant_id, "test")).await.unwrap();
    let sql = "SELECT envelope FROM change_outbox WHERE tenant_id = $1 AND event_type = $2 ORDER BY id";
    let rows = tx
        .connection()
        .query_all_raw(statement(tx.connection(), sql, vec![tenant_id.into(), COMMAND_TYPE.into()]))
        .await
        .unwrap();
    rows.iter().map(|row| serde_json::from_str(&row.try_get_by_index::<String>(0).unwrap()).unwrap()).collect()
}

async fn set_rule_enabled(database: &DatabaseConnection, tenant_id: Uuid, enabled: bool) {
    let tx = TenantTransaction::begin(database, &TenantContext::automation(tenant_id, "test")).await.unwrap();
    let sql = "UPDATE automation_rules SET enabled = $1 WHERE tenant_id = $2 AND code = 'A1'";
    let updated = tx
        .connection()
        .execute_raw(statement(tx.connection(), sql, vec![enabled.into(), tenant_id.into()]))
        .await
        .unwrap();
    assert_eq!(updated.rows_affected(), 1);
    tx.commit().await.unwrap();
}

async fn journey_of(
    analytics: &TestAnalytics,
    slug: &str,
    journey: &Journey,
    first: Option<i32>,
    after: Option<&str>,
) -> Value {
    let variables = json!({ "representations": [journey.representation()], "first": first, "after": after });
    let data = analytics.data(slug, JOURNEY_QUERY, variables).await;
    data["_entities"][0].clone()
}

async fn as_tenant_admin(analytics: &TestAnalytics, slug: &str, query: &str) -> Value {
    let (status, body) = analytics.query(Some(&context_for(slug, "tenant_admin")), query, json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("errors").is_none(), "{body}");
    body["data"].clone()
}

fn timeline_types(entity: &Value) -> Vec<String> {
    testing::node_strings(&entity["timeline"], "type")
}

async fn assert_a_signed_contract_leads_to_onboarding(analytics: &TestAnalytics, database: &DatabaseConnection) {
    let journey = Journey::new("ridgeline", Story::BlueHeron);
    let signed = journey.contract_signed(&journey.lines);
    deliver(database, &signed).await;

    // A1 asked delivery for one engagement per line, in the rule's name.
    let rule = automation_seed::default_rules(demo::tenant_by_slug("ridgeline").unwrap()).remove(0);
    assert_eq!(rule.code, "A1");
    let commands = commands_in_outbox(database, journey.tenant_id()).await;
    assert_eq!(commands.len(), 2, "{commands:?}");
    for (command, line) in commands.iter().zip(&journey.lines) {
        assert_eq!(command.event_type, COMMAND_TYPE);
        assert_eq!(command.producer, "analytics");
        assert_eq!(command.actor, "automation:A1");
        assert_eq!(command.subject, signed.subject);
        let key = format!("{}:{}:{}:{}", rule.id, journey.contract, signed.id, line);
        assert_eq!(command.idempotency_key(), Some(key.as_str()));
        assert_eq!(command.data["customer_account_id"], json!(journey.customer));
        assert_eq!(command.data["contract_id"], json!(journey.contract));
        assert_eq!(command.data["contract_line_id"], json!(line));
        assert_eq!(command.data["service_package_id"], signed.data["lines"][0]["service_package_id"]);
        assert_eq!(command.data["start_date"], "2026-12-07");
        assert_eq!(command.data["then_activate"], true);
        assert_eq!(command.data["rule_code"], "A1");
    }

    // Delivery's answer: the engagement is created (draft), then activated.
    let created = journey.engagement(
        "delivery.engagement.created",
        1,
        json!({ "status": "draft", "blueprint_version_id": Uuid::now_v7(), "name": "Onboarding", "source_rule": "A1" }),
        90,
    );
    deliver(database, &created).await;
    let activated = journey.engagement(
        "delivery.engagement.activated",
        2,
        json!({ "status": "onboarding", "start_date": "2026-12-07", "target_onboard_date": "2027-01-06",
                "go_live_target_date": "2027-03-07" }),
        60,
    );
    deliver(database, &activated).await;

    let entity = journey_of(analytics, "ridgeline", &journey, None, None).await;
    assert_eq!(entity["lifecycleStage"], "ONBOARDING", "{entity}");
    assert_eq!(timeline_types(&entity), ["CONTRACT_SIGNED", "ONBOARDING_STARTED"]);
    let nodes = entity["timeline"]["nodes"].as_array().unwrap();
    assert_eq!(nodes[0]["sourceService"], "finance");
    assert_eq!(nodes[1]["sourceService"], "delivery");
    let payload: Value = serde_json::from_str(nodes[0]["payload"].as_str().unwrap()).unwrap();
    assert_eq!(payload["number"], "C-2026-0042");
    assert_eq!(payload["contract_id"], json!(journey.contract));
    assert_eq!(entity["timeline"]["pageInfo"]["hasNextPage"], false);

    // Paging follows the journey's order.
    let first_page = journey_of(analytics, "ridgeline", &journey, Some(1), None).await;
    assert_eq!(timeline_types(&first_page), ["CONTRACT_SIGNED"]);
    assert_eq!(first_page["timeline"]["pageInfo"]["hasNextPage"], true);
    let cursor = first_page["timeline"]["pageInfo"]["endCursor"].as_str().unwrap().to_owned();
    let second_page = journey_of(analytics, "ridgeline", &journey, Some(1), Some(&cursor)).await;
    assert_eq!(timeline_types(&second_page), ["ONBOARDING_STARTED"]);
    assert_eq!(second_page["timeline"]["pageInfo"]["hasNextPage"], false);

    // The run is on record for the tenant admin.
    let runs = as_tenant_admin(analytics, "ridgeline", RUNS_QUERY).await;
    let nodes = runs["automationRuns"]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 1, "{runs}");
    assert_eq!(nodes[0]["outcome"], "SUCCEEDED");
    assert_eq!(nodes[0]["ruleId"], json!(rule.id));
    assert_eq!(nodes[0]["subjectType"], "Contract");
    assert_eq!(nodes[0]["subjectId"], json!(journey.contract));
    assert_eq!(nodes[0]["triggeredByEventId"], json!(signed.id));
    let result: Value = serde_json::from_str(nodes[0]["actionsResult"].as_str().unwrap()).unwrap();
    let sent = result[0]["commands"].as_array().unwrap();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0]["idempotency_key"], json!(commands[0].idempotency_key()));

    // Re-delivery of the trigger and a late, older engagement event change nothing.
    deliver(database, &signed).await;
    deliver(database, &created).await;
    assert_eq!(commands_in_outbox(database, journey.tenant_id()).await.len(), 2);
    let again = journey_of(analytics, "ridgeline", &journey, None, None).await;
    assert_eq!(timeline_types(&again), ["CONTRACT_SIGNED", "ONBOARDING_STARTED"]);
    assert_eq!(again["lifecycleStage"], "ONBOARDING");
    let runs = as_tenant_admin(analytics, "ridgeline", RUNS_QUERY).await;
    assert_eq!(runs["automationRuns"]["nodes"].as_array().unwrap().len(), 1);

    // The engagement moves on: delivering is implementing, live is hypercare.
    let delivering = journey.engagement(
        "delivery.engagement.onboarding_completed",
        3,
        json!({ "from": "onboarding", "to": "delivering" }),
        30,
    );
    deliver(database, &delivering).await;
    let entity = journey_of(analytics, "ridgeline", &journey, None, None).await;
    assert_eq!(entity["lifecycleStage"], "IMPLEMENTING");
    assert_eq!(timeline_types(&entity), ["CONTRACT_SIGNED", "ONBOARDING_STARTED", "ONBOARDING_COMPLETED"]);
    let live =
        journey.engagement("delivery.engagement.went_live", 4, json!({ "from": "delivering", "to": "live" }), 10);
    deliver(database, &live).await;
    assert_eq!(journey_of(analytics, "ridgeline", &journey, None, None).await["lifecycleStage"], "HYPERCARE");

    // Another tenant asking about the same customer id sees nothing of it.
    let foreign = journey_of(analytics, "helix", &journey, None, None).await;
    assert_eq!(foreign["lifecycleStage"], Value::Null, "{foreign}");
    assert_eq!(timeline_types(&foreign), Vec::<String>::new());
    let runs = as_tenant_admin(analytics, "helix", RUNS_QUERY).await;
    assert_eq!(runs["automationRuns"]["nodes"], json!([]));
    assert!(commands_in_outbox(database, demo::tenant_id("helix")).await.is_empty());
}

async fn assert_disabled_and_unmet_rules_send_nothing(analytics: &TestAnalytics, database: &DatabaseConnection) {
    let tenant_id = demo::tenant_id("veritas");

    // A contract without lines does not meet A1's condition: a skipped run, no command.
    let empty = Journey::new("veritas", Story::ThamesMutual);
    deliver(database, &empty.contract_signed(&[])).await;
    assert!(commands_in_outbox(database, tenant_id).await.is_empty());
    let runs = as_tenant_admin(analytics, "veritas", RUNS_QUERY).await;
    assert_eq!(runs["automationRuns"]["nodes"][0]["outcome"], "SKIPPED_CONDITION", "{runs}");

    // A disabled rule is not evaluated: no command and no run; the timeline still grows.
    set_rule_enabled(database, tenant_id, false).await;
    let journey = Journey::new("veritas", Story::Harborview);
    deliver(database, &journey.contract_signed(&journey.lines)).await;
    assert!(commands_in_outbox(database, tenant_id).await.is_empty());
    let runs = as_tenant_admin(analytics, "veritas", RUNS_QUERY).await;
    assert_eq!(runs["automationRuns"]["nodes"].as_array().unwrap().len(), 1, "{runs}");
    let entity = journey_of(analytics, "veritas", &journey, None, None).await;
    assert_eq!(timeline_types(&entity), ["CONTRACT_SIGNED"]);
    // A signed contract alone is no engagement: the rules' otherwise-stage.
    assert_eq!(entity["lifecycleStage"], "STEADY_STATE");

    // Enabled again, a new signing triggers it.
    set_rule_enabled(database, tenant_id, true).await;
    let next = Journey::new("veritas", Story::Harborview);
    deliver(database, &next.contract_signed(&next.lines[..1])).await;
    assert_eq!(commands_in_outbox(database, tenant_id).await.len(), 1);
}

/// Partner users see the journeys of their partner's customers only, customer-portal users
/// their own account's.
async fn assert_scoped_users_see_only_their_customers(analytics: &TestAnalytics, database: &DatabaseConnection) {
    let helix = demo::tenant_by_slug("helix").unwrap();
    // Nordlys Shipping, sold through Fjord Systems (partner 0).
    let journey = Journey::of_customer("helix", 0);
    assert_eq!(helix.customers[0].partner, Some(0));
    deliver(database, &journey.contract_signed(&journey.lines)).await;

    let scoped = |role: &str, partner: Option<usize>, customer: Option<usize>| {
        let mut context = context_for("helix", role);
        context.channel_partner_id = partner.map(|partner| demo::partner_id(helix, partner));
        context.customer_account_id = customer.map(|customer| demo::customer_id(helix, customer));
        context
    };
    let cases = [
        (scoped("partner_user", Some(0), None), true),
        (scoped("partner_user", Some(1), None), false),
        (scoped("customer_user", None, Some(0)), true),
        (scoped("customer_user", None, Some(2)), false),
        (context_for("helix", "csm"), true),
    ];
    for (context, sees) in cases {
        let variables = json!({ "representations": [journey.representation()] });
        let (status, body) = analytics.query(Some(&context), JOURNEY_QUERY, variables).await;
        assert_eq!(status, 200, "{body}");
        assert!(body.get("errors").is_none(), "{body}");
        let entity = &body["data"]["_entities"][0];
        let expected_types: Vec<String> = if sees { vec!["CONTRACT_SIGNED".to_owned()] } else { Vec::new() };
        assert_eq!(timeline_types(entity), expected_types, "{context:?}");
        let expected_stage = if sees { json!("STEADY_STATE") } else { Value::Null };
        assert_eq!(entity["lifecycleStage"], expected_stage, "{context:?}");
    }
}

#[tokio::test]
async fn scoped_users_see_only_their_customers_journeys_on_sqlite() {
    let (analytics, database) = spawn_with_database(testing::sqlite_url("analytics"), None).await;
    assert_scoped_users_see_only_their_customers(&analytics, &database).await;
}

#[tokio::test]
async fn scoped_users_see_only_their_customers_journeys_on_postgres() {
    let Some(test_database) = TestDatabase::create("analytics").await else { return };
    let (analytics, database) =
        spawn_with_database(test_database.runtime_url.clone(), Some(test_database.owner_url.clone())).await;
    assert_scoped_users_see_only_their_customers(&analytics, &database).await;
}

#[tokio::test]
async fn a_signed_contract_leads_to_onboarding_on_sqlite() {
    let (analytics, database) = spawn_with_database(testing::sqlite_url("analytics"), None).await;
    assert_a_signed_contract_leads_to_onboarding(&analytics, &database).await;
}

#[tokio::test]
async fn a_signed_contract_leads_to_onboarding_on_postgres() {
    let Some(test_database) = TestDatabase::create("analytics").await else { return };
    let (analytics, database) =
        spawn_with_database(test_database.runtime_url.clone(), Some(test_database.owner_url.clone())).await;
    assert_a_signed_contract_leads_to_onboarding(&analytics, &database).await;
}

#[tokio::test]
async fn disabled_and_unmet_rules_send_nothing_on_sqlite() {
    let (analytics, database) = spawn_with_database(testing::sqlite_url("analytics"), None).await;
    assert_disabled_and_unmet_rules_send_nothing(&analytics, &database).await;
}

#[tokio::test]
async fn disabled_and_unmet_rules_send_nothing_on_postgres() {
    let Some(test_database) = TestDatabase::create("analytics").await else { return };
    let (analytics, database) =
        spawn_with_database(test_database.runtime_url.clone(), Some(test_database.owner_url.clone())).await;
    assert_disabled_and_unmet_rules_send_nothing(&analytics, &database).await;
}

#[tokio::test]
async fn automation_rules_are_for_tenant_admins_only() {
    let (analytics, _database) = spawn_with_database(testing::sqlite_url("analytics"), None).await;
    let rules =
        as_tenant_admin(&analytics, "helix", "{ automationRules { code name trigger actions enabled version } }").await;
    let rules = rules["automationRules"].as_array().unwrap();
    // A1–A12, by code.
    assert_eq!(rules.len(), 12);
    assert_eq!(rules[0]["code"], "A1");
    assert_eq!(rules[0]["enabled"], true);
    let trigger: Value = serde_json::from_str(rules[0]["trigger"].as_str().unwrap()).unwrap();
    assert_eq!(trigger, json!({ "event": "finance.contract.signed" }));
    let actions: Value = serde_json::from_str(rules[0]["actions"].as_str().unwrap()).unwrap();
    assert_eq!(
        actions,
        json!([{ "type": "delivery.create_engagement_from_blueprint" }, { "type": "delivery.activate_onboarding" }])
    );

    for query in ["{ automationRules { code } }", "{ automationRuns { nodes { id } } }"] {
        let (status, body) = analytics.query(Some(&context_for("helix", "csm")), query, json!({})).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHORIZED_FIELD_OR_TYPE", "{body}");
    }
}
