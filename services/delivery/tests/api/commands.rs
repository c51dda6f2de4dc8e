//! Engagements that run, on SQLite and PostgreSQL: catalog's blueprint and package events
//! fed through delivery's consumer, the cross-service command creating (and activating) an
//! engagement from a blueprint, idempotent redelivery, and the mutations with their
//! refusals — each change with its events in the outbox, each refusal leaving nothing.

use atrium_delivery::{calendar::BusinessCalendar, events::DeliveryEvents};
use atrium_kit::{
    TenantContext, TenantTransaction, demo,
    events::{DomainEvent, EventHandler, Subject},
    testing::{self, TestDatabase, context_for},
};
use chrono::Duration;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestDelivery, spawn, test_today};

/// The service under test and a connection of its runtime role for the consumer.
struct Harness {
    delivery: TestDelivery,
    database: DatabaseConnection,
    _postgres: Option<TestDatabase>,
}

async fn sqlite_harness() -> Harness {
    let url = testing::sqlite_url("delivery_commands");
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

/// A blueprint of one onboarding milestone (two required checklist items, one optional,
/// one work task) and a go-live milestone the customer accepts.
fn blueprint_version_event(blueprint_id: Uuid, version: i64, name: &str) -> DomainEvent {
    let catalog = TenantContext::automation(ridgeline(), "user:catalog-admin");
    let subject = Subject { entity_type: "Blueprint".to_owned(), id: blueprint_id, version };
    let task = |seq: i32, title: &str, kind: &str, required: bool, owner_role: &str, offset_days: i64| {
        json!({ "task_template_id": Uuid::now_v7(), "seq": seq, "title": title, "kind": kind,
                "required": required, "owner_role": owner_role, "customer_facing": owner_role == "customer",
                "offset_days": offset_days, "estimate_hours": "2" })
    };
    DomainEvent::new(&catalog, "catalog.blueprint.version_published", subject).with_data(json!({
        "blueprint_id": blueprint_id,
        "blueprint_version_id": Uuid::now_v7(),
        "name": name,
        "engagement_type": "implementation",
        "version": version,
        "target_onboard_days": 14,
        "target_go_live_days": 90,
        "hypercare_days": 30,
        "budget_hours": "400",
        "milestones": [
            { "milestone_template_id": Uuid::now_v7(), "seq": 1, "code": "KICKOFF", "name": "Kickoff & onboarding",
              "phase": "onboarding", "offset_days": 14, "weight": "1", "is_go_live": false, "is_billing": false,
              "billing_pct": "0", "requires_customer_acceptance": false,
              "tasks": [
                  task(1, "Welcome call", "checklist", true, "csm", 2),
                  task(2, "Kickoff workshop", "checklist", true, "delivery_manager", 5),
                  task(3, "Share org chart", "checklist", false, "customer", 7),
                  task(4, "Configure sandbox", "work", true, "consultant", 10),
              ] },
            { "milestone_template_id": Uuid::now_v7(), "seq": 2, "code": "GOLIVE", "name": "Go-live",
              "phase": "deploy", "offset_days": 90, "weight": "1", "is_go_live": true, "is_billing": true,
              "billing_pct": "100", "requires_customer_acceptance": true, "tasks": [] },
        ],
    }))
}

fn package_event(package_id: Uuid, blueprint_id: Option<Uuid>) -> DomainEvent {
    let catalog = TenantContext::automation(ridgeline(), "user:catalog-admin");
    let subject = Subject { entity_type: "ServicePackage".to_owned(), id: package_id, version: 1 };
    DomainEvent::new(&catalog, "catalog.package.published", subject).with_data(json!({
        "code": "BC-IMPL-TEST", "name": "BC implementation", "blueprint_id": blueprint_id,
        "category": "implementation", "billing_model": "fixed_fee",
    }))
}

fn create_command(customer: Uuid, package_id: Uuid, then_activate: bool) -> DomainEvent {
    create_command_for(ridgeline(), customer, package_id, then_activate)
}

fn create_command_for(tenant: Uuid, customer: Uuid, package_id: Uuid, then_activate: bool) -> DomainEvent {
    let analytics = TenantContext::automation(tenant, "automation:A1");
    let contract_id = Uuid::now_v7();
    let line_id = Uuid::now_v7();
    let subject = Subject { entity_type: "Contract".to_owned(), id: contract_id, version: 3 };
    let key = format!("A1:{contract_id}:{}:{line_id}", Uuid::now_v7());
    DomainEvent::command(
        &analytics,
        "analytics",
        "delivery",
        "create_engagement_from_blueprint",
        subject,
        &key,
        json!({
            "customer_account_id": customer, "contract_id": contract_id, "contract_line_id": line_id,
            "service_package_id": package_id, "start_date": test_today(), "then_activate": then_activate,
            "rule_code": "A1", "currency": "usd",
        }),
    )
}

/// Applies `event` the way the event runtime does: in the tenant's transaction with the
/// automation context, committed when the handler succeeds.
async fn deliver(database: &DatabaseConnection, event: &DomainEvent) {
    let handler = DeliveryEvents::with_calendar(BusinessCalendar::Fixed(test_today()));
    assert!(handler.wants(&event.event_type), "{}", event.event_type);
    let context = TenantContext::automation(event.tenant_id, "consumer:delivery");
    let tx = TenantTransaction::begin(database, &context).await.expect("begin");
    handler.handle(&tx, event).await.expect("handled");
    tx.commit().await.expect("commit");
}

fn statement(database: &DatabaseConnection, sql: &str, values: Vec<sea_orm::Value>) -> Statement {
    Statement::from_sql_and_values(database.get_database_backend(), sql, values)
}

/// The domain events in the tenant's outbox, oldest first.
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

fn types_of(events: &[DomainEvent]) -> Vec<&str> {
    events.iter().map(|event| event.event_type.as_str()).collect()
}

const ENGAGEMENT: &str = "query($id: ID!) { engagement(id: $id) { id name status version startDate goLiveTargetDate \
    goLiveActualDate milestones { id name status dueDate isGoLive } \
    tasks(first: 50) { nodes { id title kind status dueDate ownerRole assigneeUserId required } } } }";

async fn engagement(delivery: &TestDelivery, id: &str) -> Value {
    delivery.data("ridgeline", ENGAGEMENT, json!({ "id": id })).await["engagement"].clone()
}

fn task_id(engagement: &Value, title: &str) -> String {
    let tasks = engagement["tasks"]["nodes"].as_array().unwrap();
    tasks.iter().find(|task| task["title"] == title).unwrap()["id"].as_str().unwrap().to_owned()
}

fn date(days: i64) -> String {
    (test_today() + Duration::days(days)).to_string()
}

/// Runs a mutation as `context`; answers `(data, first error code, the error)`.
async fn mutate(delivery: &TestDelivery, context: &TenantContext, query: &str, variables: Value) -> (Value, Value) {
    let (status, body) = delivery.query(Some(context), query, variables).await;
    assert_eq!(status, 200, "{body}");
    (body["data"].clone(), body["errors"][0].clone())
}

const COMPLETE_TASK: &str = "mutation($id: ID!) { completeTask(id: $id) { id status } }";
const CHANGE_STATUS: &str = "mutation($id: ID!, $status: EngagementStatus!, $reason: String) { \
    changeEngagementStatus(id: $id, status: $status, reason: $reason) { id status version } }";

async fn assert_a_blueprint_becomes_a_running_engagement(harness: &Harness) {
    let (delivery, database) = (&harness.delivery, &harness.database);
    let tenant = ridgeline();
    let customer = demo::customer_id(demo::tenant_by_slug("ridgeline").unwrap(), 0);
    let (blueprint_id, package_id, bare_package_id) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());

    // Catalog's events: version 2 arrives before version 1, which must not replace it.
    deliver(database, &blueprint_version_event(blueprint_id, 2, "BC Essentials v2")).await;
    deliver(database, &blueprint_version_event(blueprint_id, 1, "BC Essentials v1")).await;
    deliver(database, &package_event(package_id, Some(blueprint_id))).await;
    deliver(database, &package_event(bare_package_id, None)).await;
    let engagements_before = count(database, tenant, "engagements").await;
    assert!(outbox(database, tenant).await.is_empty(), "catalog copies emit nothing");

    // A package without a blueprint: nothing to create.
    deliver(database, &create_command(customer, bare_package_id, true)).await;
    assert_eq!(count(database, tenant, "engagements").await, engagements_before);
    assert!(outbox(database, tenant).await.is_empty());

    // The A1 command: created and activated in one go.
    let command = create_command(customer, package_id, true);
    deliver(database, &command).await;
    let events = outbox(database, tenant).await;
    assert_eq!(
        types_of(&events),
        ["delivery.engagement.created", "delivery.engagement.activated", "delivery.onboarding_task.activated"]
    );
    let created = &events[0];
    assert_eq!(created.subject.entity_type, "Engagement");
    assert_eq!(created.subject.version, 1);
    assert_eq!(created.refs["customer_account_id"], customer);
    assert_eq!(created.refs["contract_id"].to_string(), command.data["contract_id"].as_str().unwrap());
    assert_eq!(created.data["status"], "draft");
    assert_eq!(created.data["source_rule"], "A1");
    // What finance builds the billing schedule from (catalog's 100 % is the fraction 1.00).
    assert_eq!(created.refs["contract_line_id"].to_string(), command.data["contract_line_id"].as_str().unwrap());
    assert_eq!(created.data["currency"], "USD");
    let listed = created.data["milestones"].as_array().unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0]["seq"], 1);
    assert_eq!(listed[0]["name"], "Kickoff & onboarding");
    assert_eq!(listed[0]["due_date"], date(14));
    assert_eq!((listed[0]["is_billing"].clone(), listed[0]["billing_pct"].clone()), (json!(false), Value::Null));
    assert_eq!(listed[0]["requires_acceptance"], false);
    assert_eq!(listed[1]["name"], "Go-live");
    assert_eq!(listed[1]["due_date"], date(90));
    assert_eq!((listed[1]["is_go_live"].clone(), listed[1]["is_billing"].clone()), (json!(true), json!(true)));
    assert_eq!(listed[1]["billing_pct"], "1.00");
    assert_eq!(listed[1]["requires_acceptance"], true);
    assert!(listed[1]["milestone_id"].as_str().is_some_and(|id| id.parse::<Uuid>().is_ok()));
    assert_eq!(events[1].data["status"], "onboarding");
    assert_eq!(events[1].data["go_live_target_date"], date(90));
    assert_eq!(events[1].subject.version, 2);
    assert_eq!(events[2].data["task_ids"].as_array().unwrap().len(), 3, "the three checklist items");

    let id = created.subject.id.to_string();
    let running = engagement(delivery, &id).await;
    assert_eq!(running["status"], "ONBOARDING");
    assert_eq!(running["version"], 2);
    let customer_name = demo::tenant_by_slug("ridgeline").unwrap().customers[0].name;
    assert_eq!(running["name"], format!("{customer_name} – BC Essentials v2"), "newest blueprint version wins");
    assert_eq!(running["startDate"], date(0));
    assert_eq!(running["goLiveTargetDate"], date(90));
    let milestones = running["milestones"].as_array().unwrap();
    assert_eq!(milestones.len(), 2);
    assert!(milestones.iter().all(|milestone| milestone["status"] == "NOT_STARTED"));
    assert_eq!(milestones[0]["dueDate"], date(14));
    let tasks: Vec<(&str, &str, Value)> = running["tasks"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|task| (task["title"].as_str().unwrap(), task["status"].as_str().unwrap(), task["dueDate"].clone()))
        .collect();
    assert_eq!(
        tasks,
        [
            ("Welcome call", "TODO", json!(date(2))),
            ("Kickoff workshop", "TODO", json!(date(5))),
            ("Share org chart", "TODO", json!(date(7))),
            ("Configure sandbox", "INACTIVE", Value::Null),
        ]
    );

    // The same query shape as the dashboard's, through the customer entity.
    let nested = "query($r: [_Any!]!) { _entities(representations: $r) { ... on CustomerAccount { \
                  engagements { nodes { status tasks(first: 50) { nodes { title status dueDate } } } } } } }";
    let representations = json!([{ "__typename": "CustomerAccount", "id": customer }]);
    let data = delivery.data("ridgeline", nested, json!({ "r": representations })).await;
    let nodes = data["_entities"][0]["engagements"]["nodes"].as_array().unwrap();
    assert!(nodes.iter().any(|node| node["tasks"]["nodes"].as_array().unwrap().len() == 4), "{data}");

    // Redelivery of the command: nothing new.
    deliver(database, &command).await;
    assert_eq!(count(database, tenant, "engagements").await, engagements_before + 1);
    assert_eq!(outbox(database, tenant).await.len(), 3);

    assert_the_mutations_run_onboarding_to_go_live(harness, &id).await;
}

async fn assert_the_mutations_run_onboarding_to_go_live(harness: &Harness, id: &str) {
    let (delivery, database) = (&harness.delivery, &harness.database);
    let tenant = ridgeline();
    let manager = context_for("ridgeline", "delivery_manager");
    let running = engagement(delivery, id).await;
    let welcome = task_id(&running, "Welcome call");
    let workshop = task_id(&running, "Kickoff workshop");
    let sandbox = task_id(&running, "Configure sandbox");
    let events_before = outbox(database, tenant).await.len();

    // Refusals: an inactive task, a role without the right, another tenant's id, a guard.
    let (data, error) = mutate(delivery, &manager, COMPLETE_TASK, json!({ "id": sandbox })).await;
    assert_eq!(data, Value::Null);
    assert_eq!(error["extensions"]["code"], "INVALID_TRANSITION", "{error}");
    assert_eq!(error["extensions"]["current"], "INACTIVE");
    assert_eq!(error["extensions"]["allowed"], json!(["TODO", "CANCELLED"]));
    let consultant = context_for("ridgeline", "consultant");
    let (_, error) = mutate(delivery, &consultant, COMPLETE_TASK, json!({ "id": welcome })).await;
    assert_eq!(error["extensions"]["code"], "FORBIDDEN", "{error}");
    let helix = context_for("helix", "delivery_manager");
    let helix_audit = count(database, demo::tenant_id("helix"), "audit_log").await;
    let (_, error) = mutate(delivery, &helix, COMPLETE_TASK, json!({ "id": welcome })).await;
    assert_eq!(error["extensions"]["code"], "NOT_FOUND", "{error}");
    assert_eq!(count(database, demo::tenant_id("helix"), "audit_log").await, helix_audit);
    assert!(outbox(database, demo::tenant_id("helix")).await.is_empty());
    let (_, error) = mutate(delivery, &manager, CHANGE_STATUS, json!({ "id": id, "status": "DELIVERING" })).await;
    assert_eq!(error["extensions"]["code"], "CONFLICT", "checklist still open: {error}");
    assert_eq!(outbox(database, tenant).await.len(), events_before, "refusals write no events");
    let unchanged = engagement(delivery, id).await;
    assert_eq!((unchanged["status"].clone(), unchanged["version"].clone()), (json!("ONBOARDING"), json!(2)));
    assert_eq!(task_id(&unchanged, "Welcome call"), welcome);

    // The two required checklist items: the second ends onboarding in the same command.
    let csm = context_for("ridgeline", "csm");
    let (data, error) = mutate(delivery, &csm, COMPLETE_TASK, json!({ "id": welcome })).await;
    assert_eq!(data["completeTask"]["status"], "DONE", "{error}");
    assert_eq!(engagement(delivery, id).await["status"], "ONBOARDING", "one required item is still open");
    let (data, error) = mutate(delivery, &manager, COMPLETE_TASK, json!({ "id": workshop })).await;
    assert_eq!(data["completeTask"]["status"], "DONE", "{error}");
    let delivering = engagement(delivery, id).await;
    assert_eq!(delivering["status"], "DELIVERING");
    let (_, error) = mutate(delivery, &manager, COMPLETE_TASK, json!({ "id": welcome })).await;
    assert_eq!(error["extensions"]["code"], "INVALID_TRANSITION");
    assert_eq!(error["extensions"]["allowed"], json!([]));

    // The go-live milestone: started, not acceptable before completion, completed (→ live), accepted.
    let go_live =
        delivering["milestones"].as_array().unwrap().iter().find(|m| m["isGoLive"] == true).unwrap()["id"].clone();
    let milestone = |operation: &str| format!("mutation($id: ID!) {{ {operation}(id: $id) {{ id status }} }}");
    let (data, error) = mutate(delivery, &manager, &milestone("startMilestone"), json!({ "id": go_live })).await;
    assert_eq!(data["startMilestone"]["status"], "IN_PROGRESS", "{error}");
    let (_, error) = mutate(delivery, &manager, &milestone("acceptMilestone"), json!({ "id": go_live })).await;
    assert_eq!(error["extensions"]["code"], "INVALID_TRANSITION");
    assert_eq!(error["extensions"]["current"], "IN_PROGRESS");
    assert_eq!(error["extensions"]["allowed"], json!(["COMPLETED", "WAIVED", "CANCELLED"]));
    let (data, error) = mutate(delivery, &manager, &milestone("completeMilestone"), json!({ "id": go_live })).await;
    assert_eq!(data["completeMilestone"]["status"], "COMPLETED", "{error}");
    let live = engagement(delivery, id).await;
    assert_eq!(live["status"], "LIVE");
    assert_eq!(live["goLiveActualDate"], date(0));
    let (data, error) = mutate(delivery, &csm, &milestone("acceptMilestone"), json!({ "id": go_live })).await;
    assert_eq!(data["acceptMilestone"]["status"], "ACCEPTED", "{error}");

    // Live engagements are not cancelled: the error names what is allowed.
    let (_, error) = mutate(delivery, &manager, CHANGE_STATUS, json!({ "id": id, "status": "CANCELLED" })).await;
    assert_eq!(error["extensions"]["code"], "INVALID_TRANSITION");
    assert_eq!(error["extensions"]["current"], "LIVE");
    assert_eq!(error["extensions"]["allowed"], json!(["CLOSED"]));

    let events = outbox(database, tenant).await;
    assert_eq!(
        types_of(&events[events_before..]),
        [
            "delivery.task.completed",
            "delivery.task.completed",
            "delivery.engagement.onboarding_completed",
            "delivery.milestone.started",
            "delivery.milestone.completed",
            "delivery.engagement.went_live",
            "delivery.milestone.accepted",
        ]
    );
    let onboarding_completed = &events[events_before + 2];
    assert_eq!(onboarding_completed.data, json!({ "from": "onboarding", "to": "delivering" }));
    assert_eq!(onboarding_completed.subject.version, 3);
    let mut completed = events[events_before].data.clone();
    let milestone = completed.as_object_mut().unwrap().remove("milestone_id");
    assert!(milestone.is_some_and(|id| id.is_string()), "the checklist item's milestone");
    // Activated today, the welcome call's offset is 2 days.
    assert_eq!(
        completed,
        json!({ "title": "Welcome call", "kind": "checklist", "due_date": date(2), "customer_facing": false,
                "required": true, "completed_on": date(0) })
    );
    assert_eq!(events[events_before + 4].data["is_go_live"], true);
}

async fn assert_a_draft_engagement_is_activated_and_held_by_mutations(harness: &Harness) {
    let (delivery, database) = (&harness.delivery, &harness.database);
    let tenant = ridgeline();
    let customer = demo::customer_id(demo::tenant_by_slug("ridgeline").unwrap(), 1);
    let (blueprint_id, package_id) = (Uuid::now_v7(), Uuid::now_v7());
    deliver(database, &blueprint_version_event(blueprint_id, 1, "NetSuite Standard")).await;
    deliver(database, &package_event(package_id, Some(blueprint_id))).await;
    let before = outbox(database, tenant).await.len();
    deliver(database, &create_command(customer, package_id, false)).await;
    let events = outbox(database, tenant).await;
    assert_eq!(types_of(&events[before..]), ["delivery.engagement.created"]);
    let id = events[before].subject.id.to_string();
    let draft = engagement(delivery, &id).await;
    assert_eq!(draft["status"], "DRAFT");
    assert!(draft["tasks"]["nodes"].as_array().unwrap().iter().all(|task| task["status"] == "INACTIVE"));

    let manager = context_for("ridgeline", "delivery_manager");
    let activate = "mutation($id: ID!) { activateOnboarding(engagementId: $id) { status tasks { nodes { title \
                    status dueDate assigneeUserId } } } }";
    let (data, error) = mutate(delivery, &manager, activate, json!({ "id": id })).await;
    let activated = &data["activateOnboarding"];
    assert_eq!(activated["status"], "ONBOARDING", "{error}");
    let workshop = activated["tasks"]["nodes"].as_array().unwrap().iter().find(|t| t["title"] == "Kickoff workshop");
    let workshop = workshop.unwrap();
    assert_eq!(workshop["status"], "TODO");
    assert_eq!(workshop["dueDate"], date(5));
    assert_eq!(workshop["assigneeUserId"], manager.subject, "the activating delivery manager takes the role");
    let (_, error) = mutate(delivery, &manager, activate, json!({ "id": id })).await;
    assert_eq!(error["extensions"]["code"], "INVALID_TRANSITION");
    assert_eq!(error["extensions"]["current"], "ONBOARDING");

    // Hold and resume: only to where it was paused from.
    let hold = json!({ "id": id, "status": "ON_HOLD", "reason": "customer paused the project" });
    let (data, error) = mutate(delivery, &manager, CHANGE_STATUS, hold).await;
    assert_eq!(data["changeEngagementStatus"]["status"], "ON_HOLD", "{error}");
    let (_, error) = mutate(delivery, &manager, CHANGE_STATUS, json!({ "id": id, "status": "DELIVERING" })).await;
    assert_eq!(error["extensions"]["allowed"], json!(["ONBOARDING", "CANCELLED"]), "{error}");
    let (data, error) = mutate(delivery, &manager, CHANGE_STATUS, json!({ "id": id, "status": "ONBOARDING" })).await;
    assert_eq!(data["changeEngagementStatus"]["status"], "ONBOARDING", "{error}");
    let events = outbox(database, tenant).await;
    assert_eq!(
        types_of(&events[before + 1..]),
        [
            "delivery.engagement.activated",
            "delivery.onboarding_task.activated",
            "delivery.engagement.on_hold",
            "delivery.engagement.resumed",
        ]
    );
    assert_eq!(events[before + 3].data["reason"], "customer paused the project");
}

/// On demo data alone (delivery's seeded copies of the demo catalog): A1 for a customer
/// sold through a channel partner creates an engagement that partner's users see, tasks
/// included, and other partners' users do not; and a seeded onboarding engagement
/// finishes onboarding when its required checklist is done.
async fn assert_demo_data_runs_a1_under_partner_scopes(harness: &Harness) {
    let (delivery, database) = (&harness.delivery, &harness.database);
    let helix = demo::tenant_by_slug("helix").unwrap();
    let fjord_customer = demo::customer_id(helix, 0);
    let package = demo::package_id(helix, "HLX-ONB").unwrap();
    deliver(database, &create_command_for(helix_id(), fjord_customer, package, true)).await;
    let created =
        outbox(database, helix_id()).await.into_iter().find(|e| e.event_type == "delivery.engagement.created");
    let created = created.expect("an engagement from the demo blueprint");
    // Helix pays its staff in EUR and this engagement is sold in USD: no planned cost rate
    // without an exchange rate.
    assert_eq!(created.data["planned_cost_rate"], Value::Null, "{}", created.data);
    let id = created.subject.id.to_string();

    // Ridgeline pays in USD: the planned blended cost rate is the mean of its eight seeded
    // staff's hourly costs, (68 + 88 + 82 + 95 + 62 + 65 + 70 + 58) / 8 = 588 / 8 = 73.50.
    let ridgeline_tenant = demo::tenant_by_slug("ridgeline").unwrap();
    let package = demo::package_id(ridgeline_tenant, "BC-IMPL-ESS").unwrap();
    deliver(database, &create_command(demo::customer_id(ridgeline_tenant, 2), package, false)).await;
    let planned = outbox(database, ridgeline())
        .await
        .into_iter()
        .find(|event| event.event_type == "delivery.engagement.created")
        .expect("a ridgeline engagement");
    let rate: rust_decimal::Decimal =
        serde_json::from_value(planned.data["planned_cost_rate"].clone()).expect("a planned cost rate");
    assert_eq!(rate, rust_decimal::Decimal::new(7350, 2), "{}", planned.data);
    // The blueprint's budget travels with it (the demo blueprints set none: null).
    assert!(planned.data.get("budget_hours").is_some(), "{}", planned.data);

    let query = "query($id: ID!) { engagement(id: $id) { status tasks { nodes { title status } } } }";
    let mut fjord_user = context_for("helix", "partner_user");
    fjord_user.channel_partner_id = Some(demo::partner_id(helix, 0));
    let (_, body) = delivery.query(Some(&fjord_user), query, json!({ "id": id })).await;
    let seen = &body["data"]["engagement"];
    assert_eq!(seen["status"], "ONBOARDING", "{body}");
    let titles: Vec<&str> =
        seen["tasks"]["nodes"].as_array().unwrap().iter().map(|t| t["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["Welcome call", "Kickoff workshop", "Access and data collection", "Success plan agreed"]);
    let mut other_partner = fjord_user.clone();
    other_partner.channel_partner_id = Some(demo::partner_id(helix, 1));
    let (_, body) = delivery.query(Some(&other_partner), query, json!({ "id": id })).await;
    assert_eq!(body["data"]["engagement"], Value::Null, "{body}");

    // Blue Heron's seeded onboarding: its three required checklist items end it.
    let ridgeline = demo::tenant_by_slug("ridgeline").unwrap();
    let blue_heron = ridgeline.customers.iter().position(|c| c.story == Some(demo::Story::BlueHeron)).unwrap();
    let representations = json!([{ "__typename": "CustomerAccount", "id": demo::customer_id(ridgeline, blue_heron) }]);
    let nested = "query($r: [_Any!]!) { _entities(representations: $r) { ... on CustomerAccount { \
                  engagements { nodes { id status tasks(first: 50) { nodes { id title status dueDate required } } } } } } }";
    let data = delivery.data("ridgeline", nested, json!({ "r": representations })).await;
    let onboarding = &data["_entities"][0]["engagements"]["nodes"][0];
    assert_eq!(onboarding["status"], "ONBOARDING");
    let tasks = onboarding["tasks"]["nodes"].as_array().unwrap();
    assert_eq!(tasks.len(), 4);
    assert!(tasks.iter().all(|task| task["status"] == "TODO"), "{tasks:?}");
    assert_eq!(tasks[0]["dueDate"], date(0), "welcome call: start (two days ago) + 2");
    let manager = context_for("ridgeline", "delivery_manager");
    for task in tasks.iter().filter(|task| task["required"] == true) {
        let (data, error) = mutate(delivery, &manager, COMPLETE_TASK, json!({ "id": task["id"] })).await;
        assert_eq!(data["completeTask"]["status"], "DONE", "{error}");
    }
    let id = onboarding["id"].as_str().unwrap();
    assert_eq!(engagement(delivery, id).await["status"], "DELIVERING");
}

fn helix_id() -> Uuid {
    demo::tenant_id("helix")
}

#[tokio::test]
async fn demo_data_runs_a1_under_partner_scopes_on_sqlite() {
    assert_demo_data_runs_a1_under_partner_scopes(&sqlite_harness().await).await;
}

#[tokio::test]
async fn demo_data_runs_a1_under_partner_scopes_on_postgres() {
    let Some(harness) = postgres_harness("delivery_demo_a1").await else { return };
    assert_demo_data_runs_a1_under_partner_scopes(&harness).await;
}

#[tokio::test]
async fn a_blueprint_event_and_the_a1_command_make_a_running_engagement_on_sqlite() {
    assert_a_blueprint_becomes_a_running_engagement(&sqlite_harness().await).await;
}

#[tokio::test]
async fn a_blueprint_event_and_the_a1_command_make_a_running_engagement_on_postgres() {
    let Some(harness) = postgres_harness("delivery_commands").await else { return };
    assert_a_blueprint_becomes_a_running_engagement(&harness).await;
}

#[tokio::test]
async fn a_draft_engagement_is_activated_held_and_resumed_on_sqlite() {
    assert_a_draft_engagement_is_activated_and_held_by_mutations(&sqlite_harness().await).await;
}

#[tokio::test]
async fn a_draft_engagement_is_activated_held_and_resumed_on_postgres() {
    let Some(harness) = postgres_harness("delivery_activation").await else { return };
    assert_a_draft_engagement_is_activated_and_held_by_mutations(&harness).await;
}

#[tokio::test]
async fn concurrent_completions_of_one_task_let_exactly_one_win_on_postgres() {
    let Some(harness) = postgres_harness("delivery_task_race").await else { return };
    let (delivery, database) = (&harness.delivery, &harness.database);
    let customer = demo::customer_id(demo::tenant_by_slug("ridgeline").unwrap(), 2);
    let package = demo::package_id(demo::tenant_by_slug("ridgeline").unwrap(), "BC-IMPL-ESS").unwrap();
    deliver(database, &create_command(customer, package, true)).await;
    let id = outbox(database, ridgeline()).await[0].subject.id.to_string();
    let running = engagement(delivery, &id).await;
    let manager = context_for("ridgeline", "delivery_manager");
    let csm = context_for("ridgeline", "csm");
    for title in ["Welcome call", "Kickoff workshop", "Success plan agreed"] {
        let task = json!({ "id": task_id(&running, title) });
        let (left, right) = tokio::join!(
            mutate(delivery, &manager, COMPLETE_TASK, task.clone()),
            mutate(delivery, &csm, COMPLETE_TASK, task.clone()),
        );
        let outcomes = [left, right];
        let winners = outcomes.iter().filter(|(data, _)| data["completeTask"]["status"] == "DONE").count();
        assert_eq!(winners, 1, "{title}: {outcomes:?}");
        let loser = outcomes.iter().find(|(data, _)| data.is_null()).expect("a refused completion");
        let code = loser.1["extensions"]["code"].as_str().unwrap();
        assert!(["CONFLICT", "INVALID_TRANSITION"].contains(&code), "{title}: {code}");
    }
    let completed =
        outbox(database, ridgeline()).await.iter().filter(|e| e.event_type == "delivery.task.completed").count();
    assert_eq!(completed, 3, "one event per task");
}
