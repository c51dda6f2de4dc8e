//! Status reports, time off and assignments through the delivery subgraph
//! (docs/domain.md#status-reports-time-off-and-assignments): a report is drafted, published
//! once (setting the engagement's RAG, with its event) and refused a second time; time off
//! takes hours out of utilization; assignments list on both ends; bad input writes
//! nothing. Also the payloads analytics reads: the go-live forecast change and the
//! task events.

use atrium_kit::{
    TenantContext, TenantTransaction, demo,
    events::DomainEvent,
    testing::{self, context_for},
};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use serde_json::{Value, json};

use crate::helpers::{TestDelivery, spawn, test_today};

async fn harness() -> (TestDelivery, DatabaseConnection) {
    let url = testing::sqlite_url("delivery_reporting");
    let delivery = spawn(url.clone(), None).await;
    let database = Database::connect(&url).await.expect("sqlite connects");
    (delivery, database)
}

fn statement(database: &DatabaseConnection, sql: &str, values: Vec<sea_orm::Value>) -> Statement {
    Statement::from_sql_and_values(database.get_database_backend(), sql, values)
}

async fn outbox_of(database: &DatabaseConnection, kind: &str) -> Vec<DomainEvent> {
    let tenant = demo::tenant_id("ridgeline");
    let tx = TenantTransaction::begin(database, &TenantContext::automation(tenant, "test")).await.unwrap();
    let sql = "SELECT envelope FROM change_outbox WHERE tenant_id = $1 AND envelope IS NOT NULL ORDER BY id";
    let rows = tx.connection().query_all_raw(statement(database, sql, vec![tenant.into()])).await.unwrap();
    rows.iter()
        .map(|row| serde_json::from_str::<DomainEvent>(&row.try_get_by_index::<String>(0).unwrap()).unwrap())
        .filter(|event| event.event_type == kind)
        .collect()
}

async fn count(database: &DatabaseConnection, table: &str) -> i64 {
    let tenant = demo::tenant_id("ridgeline");
    let tx = TenantTransaction::begin(database, &TenantContext::automation(tenant, "test")).await.unwrap();
    let sql = format!("SELECT COUNT(*) FROM {table} WHERE tenant_id = $1");
    let row = tx.connection().query_one_raw(statement(database, &sql, vec![tenant.into()])).await.unwrap().unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

/// Runs a mutation as `role` of Ridgeline; answers `(data, first error)`.
async fn mutate(delivery: &TestDelivery, role: &str, query: &str, variables: Value) -> (Value, Value) {
    let (status, body) = delivery.query(Some(&context_for("ridgeline", role)), query, variables).await;
    assert_eq!(status, 200, "{body}");
    (body["data"].clone(), body["errors"][0].clone())
}

/// The first engagement of a Ridgeline story customer, with what these tests read.
async fn story_engagement(delivery: &TestDelivery, story: demo::Story) -> Value {
    let tenant = demo::tenant_by_slug("ridgeline").unwrap();
    let ordinal = tenant.customers.iter().position(|customer| customer.story == Some(story)).unwrap();
    let query = "query($r: [_Any!]!) { _entities(representations: $r) { ... on CustomerAccount { \
                 engagements { nodes { id status rag goLiveTargetDate goLiveForecastDate \
                 milestones { id isGoLive status } \
                 tasks(first: 50) { nodes { id kind status dueDate } } \
                 statusReports { id rag status periodEnd } \
                 assignments { staffMemberId allocationPct fromDate toDate } } } } } }";
    let representations = json!([{ "__typename": "CustomerAccount", "id": demo::customer_id(tenant, ordinal) }]);
    let data = delivery.data("ridgeline", query, json!({ "r": representations })).await;
    data["_entities"][0]["engagements"]["nodes"][0].clone()
}

const CREATE_REPORT: &str = "mutation($engagement: ID!, $start: NaiveDate!, $end: NaiveDate!, $summary: String!) { \
    createStatusReport(engagementId: $engagement, periodStart: $start, periodEnd: $end, rag: AMBER, summary: $summary) { \
    id status rag periodEnd summary } }";
const PUBLISH_REPORT: &str =
    "mutation($id: ID!) { publishStatusReport(id: $id) { id status rag publishedAt publishedBy version } }";

fn date(days: i64) -> String {
    (test_today() + chrono::Duration::days(days)).to_string()
}

#[tokio::test]
async fn a_status_report_is_published_once_and_sets_the_engagements_rag() {
    let (delivery, database) = harness().await;
    let prairie = story_engagement(&delivery, demo::Story::PrairieFoods).await;
    assert_eq!(prairie["rag"], "RED", "seeded: {prairie}");
    // Seeded: last week's published report, red.
    let seeded = prairie["statusReports"].as_array().unwrap().clone();
    assert_eq!(seeded.len(), 1, "{prairie}");
    assert_eq!((seeded[0]["rag"].as_str(), seeded[0]["status"].as_str()), (Some("RED"), Some("PUBLISHED")));
    let reports_before = count(&database, "status_reports").await;
    let variables = |end: String, summary: &str| json!({ "engagement": prairie["id"], "start": date(-13), "end": end, "summary": summary });

    // Refusals write nothing: a consultant, a period ending tomorrow, an empty summary.
    let (_, error) = mutate(&delivery, "consultant", CREATE_REPORT, variables(date(0), "UAT recovering")).await;
    assert_eq!(error["extensions"]["code"], "FORBIDDEN", "{error}");
    let (_, error) = mutate(&delivery, "delivery_manager", CREATE_REPORT, variables(date(1), "UAT recovering")).await;
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{error}");
    assert!(error["message"].as_str().unwrap().contains("periodEnd"), "{error}");
    let (_, error) = mutate(&delivery, "delivery_manager", CREATE_REPORT, variables(date(0), "   ")).await;
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{error}");
    assert_eq!(count(&database, "status_reports").await, reports_before);

    let (data, error) =
        mutate(&delivery, "delivery_manager", CREATE_REPORT, variables(date(0), " UAT recovering ")).await;
    assert!(error.is_null(), "{error}");
    let report = &data["createStatusReport"];
    assert_eq!(
        (report["status"].as_str(), report["rag"].as_str(), report["summary"].as_str()),
        (Some("DRAFT"), Some("AMBER"), Some("UAT recovering"))
    );
    let id = report["id"].clone();
    // A draft does not speak for the engagement yet.
    assert_eq!(story_engagement(&delivery, demo::Story::PrairieFoods).await["rag"], "RED");

    let (data, error) = mutate(&delivery, "delivery_manager", PUBLISH_REPORT, json!({ "id": id })).await;
    assert!(error.is_null(), "{error}");
    let published = &data["publishStatusReport"];
    assert_eq!((published["status"].as_str(), published["version"].as_i64()), (Some("PUBLISHED"), Some(2)));
    assert_eq!(published["publishedBy"], context_for("ridgeline", "delivery_manager").subject);
    let after = story_engagement(&delivery, demo::Story::PrairieFoods).await;
    assert_eq!(after["rag"], "AMBER", "{after}");
    let reports = after["statusReports"].as_array().unwrap();
    assert_eq!(reports.len(), 2, "newest first: {after}");
    assert_eq!(reports[0], json!({ "id": id, "rag": "AMBER", "status": "PUBLISHED", "periodEnd": date(0) }));
    assert_eq!(reports[1], seeded[0]);

    let events = outbox_of(&database, "delivery.status_report.published").await;
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!((event.subject.entity_type.as_str(), event.subject.version), ("StatusReport", 2));
    assert_eq!(event.data["rag"], "amber");
    assert_eq!(event.data["previous_rag"], "red");
    assert_eq!(event.data["period_end"], date(0));
    assert_eq!(event.refs["engagement_id"].to_string(), prairie["id"].as_str().unwrap());
    assert!(event.refs.contains_key("customer_account_id"));
    assert_eq!(outbox_of(&database, "delivery.status_report.created").await.len(), 1);

    let (_, error) = mutate(&delivery, "delivery_manager", PUBLISH_REPORT, json!({ "id": id })).await;
    assert_eq!(error["extensions"]["code"], "INVALID_TRANSITION", "{error}");
    assert_eq!(error["extensions"]["current"], "PUBLISHED", "{error}");
    assert_eq!(error["extensions"]["allowed"], json!([]), "{error}");
    assert_eq!(outbox_of(&database, "delivery.status_report.published").await.len(), 1);

    // A closed engagement takes no report.
    let closed = story_engagement(&delivery, demo::Story::LakeshoreDental).await;
    let variables = json!({ "engagement": closed["id"], "start": date(-13), "end": date(0), "summary": "Done" });
    let (_, error) = mutate(&delivery, "delivery_manager", CREATE_REPORT, variables).await;
    assert_eq!(error["extensions"]["code"], "CONFLICT", "{error}");
}

const STAFF: &str = "{ staffMembers(first: 20, role: CONSULTANT) { nodes { id userId \
    utilization(from: \"2026-05-18\", to: \"2026-05-22\") { billableHours availableHours timeOffHours ratio } \
    timeOff(from: \"2026-05-01\", to: \"2026-05-31\") { hours startDate endDate reason } \
    assignments { engagementId allocationPct } } } }";
const TIME_OFF: &str = "mutation($staff: ID!, $start: NaiveDate!, $end: NaiveDate!, $hours: Decimal!) { \
    recordTimeOff(staffMemberId: $staff, startDate: $start, endDate: $end, hours: $hours, reason: \"Dentist\") { id hours } }";
const ASSIGN: &str = "mutation($staff: ID!, $engagement: ID!, $pct: Decimal!, $to: NaiveDate) { \
    assignStaff(staffMemberId: $staff, engagementId: $engagement, allocationPct: $pct, fromDate: \"2026-06-01\", toDate: $to) { \
    id allocationPct } }";

async fn demo_consultant(delivery: &TestDelivery) -> Value {
    let data = delivery.data("ridgeline", STAFF, json!({})).await;
    data["staffMembers"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|node| node["userId"] == "consultant@ridgeline")
        .unwrap()
        .clone()
}

#[tokio::test]
async fn time_off_takes_hours_out_of_utilization_and_assignments_list_on_both_ends() {
    let (delivery, database) = harness().await;
    let consultant = demo_consultant(&delivery).await;
    let staff = consultant["id"].clone();
    let time_off_before = count(&database, "time_off").await;
    let assignments_before = count(&database, "assignments").await;
    let own_assignments_before = consultant["assignments"].as_array().unwrap().clone();
    let leave =
        |start: &str, end: &str, hours: &str| json!({ "staff": staff, "start": start, "end": end, "hours": hours });

    // Refused, nothing written: no hours, more hours than the days hold, a range backwards.
    for (variables, field) in [
        (leave("2026-05-18", "2026-05-19", "0"), "hours"),
        (leave("2026-05-18", "2026-05-19", "49"), "hours"),
        (leave("2026-05-19", "2026-05-18", "8"), "endDate"),
    ] {
        let (_, error) = mutate(&delivery, "delivery_manager", TIME_OFF, variables).await;
        assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{error}");
        assert!(error["message"].as_str().unwrap().contains(field), "{error}");
    }
    let (_, error) = mutate(&delivery, "consultant", TIME_OFF, leave("2026-05-18", "2026-05-19", "16")).await;
    assert_eq!(error["extensions"]["code"], "FORBIDDEN", "{error}");
    assert_eq!(count(&database, "time_off").await, time_off_before);

    // 12 h from Fri 05-15 to Mon 05-18: 2 weekdays, 6 h each; Monday falls in the week
    // 05-18..05-22: 6 h. 12 h on Thu 05-21: all in the week. 40 − 6 − 12 = 22 available;
    // 30 billable ÷ 22 = 1.363636… → 1.3636.
    let (_, error) = mutate(&delivery, "delivery_manager", TIME_OFF, leave("2026-05-15", "2026-05-18", "12")).await;
    assert!(error.is_null(), "{error}");
    let (_, error) = mutate(&delivery, "delivery_manager", TIME_OFF, leave("2026-05-21", "2026-05-21", "12")).await;
    assert!(error.is_null(), "{error}");
    let consultant = demo_consultant(&delivery).await;
    assert_eq!(
        consultant["utilization"],
        json!({ "billableHours": "30", "availableHours": "22", "timeOffHours": "18", "ratio": "1.3636" })
    );
    assert_eq!(consultant["timeOff"].as_array().unwrap().len(), 2, "{consultant}");
    let recorded = outbox_of(&database, "delivery.time_off.recorded").await;
    assert_eq!(recorded.len(), 2);
    assert_eq!(recorded[0].data["hours"], "12.00");

    // Assignments: half of the consultant's time on Prairie Foods until go-live.
    let prairie = story_engagement(&delivery, demo::Story::PrairieFoods).await;
    let assign =
        |pct: &str, to: Option<&str>| json!({ "staff": staff, "engagement": prairie["id"], "pct": pct, "to": to });
    let (_, error) = mutate(&delivery, "delivery_manager", ASSIGN, assign("150", None)).await;
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{error}");
    let (_, error) = mutate(&delivery, "delivery_manager", ASSIGN, assign("50", Some("2026-05-01"))).await;
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{error}");
    assert_eq!(count(&database, "assignments").await, assignments_before);
    let prairie_before = prairie["assignments"].as_array().unwrap().clone();
    let (data, error) = mutate(&delivery, "delivery_manager", ASSIGN, assign("50", Some("2026-07-31"))).await;
    assert!(error.is_null(), "{error}");
    assert_eq!(data["assignStaff"]["allocationPct"], "50");
    let after = story_engagement(&delivery, demo::Story::PrairieFoods).await;
    let mut expected = prairie_before.clone();
    expected.push(
        json!({ "staffMemberId": staff, "allocationPct": "50", "fromDate": "2026-06-01", "toDate": "2026-07-31" }),
    );
    assert_eq!(after["assignments"], json!(expected));
    let mut expected = own_assignments_before.clone();
    expected.push(json!({ "engagementId": prairie["id"], "allocationPct": "50" }));
    assert_eq!(demo_consultant(&delivery).await["assignments"], json!(expected));
    let created = outbox_of(&database, "delivery.assignment.created").await;
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].data["allocation_pct"], "50.00");
    assert_eq!(created[0].refs["staff_member_id"].to_string(), staff.as_str().unwrap());

    // A closed engagement takes no assignment.
    let closed = story_engagement(&delivery, demo::Story::LakeshoreDental).await;
    let variables = json!({ "staff": staff, "engagement": closed["id"], "pct": "20", "to": null });
    let (_, error) = mutate(&delivery, "delivery_manager", ASSIGN, variables).await;
    assert_eq!(error["extensions"]["code"], "CONFLICT", "{error}");
}

#[tokio::test]
async fn forecasting_go_live_and_completing_tasks_carry_what_analytics_reads() {
    let (delivery, database) = harness().await;
    let prairie = story_engagement(&delivery, demo::Story::PrairieFoods).await;
    let go_live = prairie["milestones"].as_array().unwrap().iter().find(|m| m["isGoLive"] == true).unwrap().clone();
    let query = "mutation($id: ID!, $date: NaiveDate!) { forecastMilestone(id: $id, forecastDate: $date, reason: \"UAT\") { forecastDate } }";
    let (_, error) =
        mutate(&delivery, "delivery_manager", query, json!({ "id": go_live["id"], "date": date(40) })).await;
    assert!(error.is_null(), "{error}");
    let events = outbox_of(&database, "delivery.engagement.go_live_forecast_changed").await;
    assert_eq!(events.len(), 1);
    let target: chrono::NaiveDate = prairie["goLiveTargetDate"].as_str().unwrap().parse().unwrap();
    // Seeded target 10 days ago; new forecast in 40 days ⇒ variance 50 days.
    assert_eq!(target, test_today() - chrono::Duration::days(10));
    assert_eq!(
        events[0].data,
        json!({ "old": prairie["goLiveForecastDate"], "new": date(40), "target": target.to_string(), "variance_days": 50 })
    );
    // The same forecast again changes no go-live date: no second event.
    mutate(&delivery, "delivery_manager", query, json!({ "id": go_live["id"], "date": date(40) })).await;
    assert_eq!(outbox_of(&database, "delivery.engagement.go_live_forecast_changed").await.len(), 1);

    // Blue Heron is onboarding: ticking off a checklist item tells its due date and kind.
    let blue_heron = story_engagement(&delivery, demo::Story::BlueHeron).await;
    let task = blue_heron["tasks"]["nodes"].as_array().unwrap().iter().find(|t| t["status"] == "TODO").unwrap().clone();
    let complete = "mutation($id: ID!) { completeTask(id: $id) { status } }";
    let (_, error) = mutate(&delivery, "delivery_manager", complete, json!({ "id": task["id"] })).await;
    assert!(error.is_null(), "{error}");
    let completed = outbox_of(&database, "delivery.task.completed").await;
    let data = &completed.last().unwrap().data;
    assert_eq!(data["due_date"], task["dueDate"]);
    assert_eq!(data["kind"], "checklist");
    assert!(data["customer_facing"].is_boolean(), "{data}");
    assert_eq!(data["completed_on"], date(0));
}
