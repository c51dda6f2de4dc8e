//! Engagement financials from delivery's events (docs/domain.md#engagement-financials), on
//! SQLite and PostgreSQL: an engagement's ledger opens with its budget and planned rate,
//! change requests and approved time move the forecast, each change announces
//! `finance.engagement_financials.updated` with the hand-computed IMV, and
//! `Engagement.financials` answers the same through the entity resolver.

use atrium_kit::{
    TenantContext,
    events::{DomainEvent, Subject as EventSubject},
    testing::context_for,
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::billing::{Billing, on_postgres, on_sqlite};

fn delivery() -> TenantContext {
    TenantContext::automation(context_for("ridgeline", "finance").tenant_id, "consumer:delivery")
}

fn delivery_event(event_type: &str, subject_type: &str, engagement: Uuid, customer: Uuid, data: Value) -> DomainEvent {
    let subject = EventSubject { entity_type: subject_type.to_owned(), id: Uuid::now_v7(), version: 1 };
    DomainEvent::new(&delivery(), event_type, subject)
        .with_ref("customer_account_id", customer)
        .with_ref("engagement_id", engagement)
        .with_data(data)
}

const FINANCIALS: &str = "query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Engagement { id \
    financials { revenuePlan { amount currency } costPlan { amount } actualCostToDate { amount } actualHours \
    remainingHoursEstimate costEac { amount } plannedMarginPct forecastMarginPct marginVariancePp status closed version } } } }";

async fn assert_the_margin_follows_delivery(billing: &Billing) {
    let customer = Uuid::now_v7();
    let engagement = Uuid::now_v7();
    let created = delivery_event(
        "delivery.engagement.created",
        "Engagement",
        engagement,
        customer,
        json!({ "status": "draft", "name": "Implementation", "currency": "USD", "milestones": [],
            "budget_hours": "400", "planned_cost_rate": "150.00" }),
    );
    billing.deliver(&created).await;
    billing.deliver(&created).await;
    let opened = billing.events_of_type("finance.engagement_financials.updated").await;
    assert_eq!(opened.len(), 1, "a redelivered engagement opens nothing more");
    assert_eq!(opened[0]["data"]["revenue_plan"], "0.00");
    assert_eq!(opened[0]["data"]["status"], Value::Null, "no revenue: nothing to compare");

    // The fixed fee arrives as a change of 100,000.00; then +40 h for +8,000.00.
    for (hours, price) in [("0", "100000.00"), ("40.00", "8000.00")] {
        let data = json!({ "change_request_id": Uuid::now_v7(), "title": "Scope", "impact_hours": hours,
            "impact_price": price, "impact_days": 0, "currency": "USD" });
        billing
            .deliver(&delivery_event("delivery.change_request.approved", "ChangeRequest", engagement, customer, data))
            .await;
    }
    // 300 h approved at 180/h = 54,000.00 (three entries); one entry in EUR is not added.
    for _ in 0..3 {
        let data = json!({ "time_entry_id": Uuid::now_v7(), "engagement_id": engagement, "work_date": "2026-03-10",
            "hours": "100.00", "billable": true, "cost_amount": "18000.00", "bill_amount": "25000.00", "currency": "USD" });
        billing.deliver(&delivery_event("delivery.time_entry.approved", "TimeEntry", engagement, customer, data)).await;
    }
    let foreign = json!({ "time_entry_id": Uuid::now_v7(), "engagement_id": engagement, "work_date": "2026-03-10",
        "hours": "10.00", "billable": true, "cost_amount": "900.00", "bill_amount": "1000.00", "currency": "EUR" });
    billing.deliver(&delivery_event("delivery.time_entry.approved", "TimeEntry", engagement, customer, foreign)).await;

    // Revenue plan 108,000; cost plan (400 + 40) × 150 = 66,000; planned margin
    // 42,000 / 108,000 = 0.3889. Remaining 440 − 300 = 140 h at the actual 180/h:
    // EAC 54,000 + 25,200 = 79,200; forecast 28,800 / 108,000 = 0.2667;
    // IMV (0.26666… − 0.38888…) × 100 = −12.22 pp: red.
    let updates = billing.events_of_type("finance.engagement_financials.updated").await;
    assert_eq!(updates.len(), 6, "open, two changes, three time entries");
    let last = updates.last().unwrap();
    assert_eq!(last["subject"]["type"], "EngagementFinancials");
    assert_eq!(last["subject"]["version"], 6);
    assert_eq!(last["refs"]["engagement_id"], engagement.to_string());
    assert_eq!(last["refs"]["customer_account_id"], customer.to_string());
    assert_eq!(
        last["data"],
        json!({ "revenue_plan": "108000.00", "cost_plan": "66000.00", "actual_cost_to_date": "54000.00",
            "cost_eac": "79200.00", "revenue_eac": "108000.00", "planned_margin_pct": "0.3889",
            "forecast_margin_pct": "0.2667", "margin_variance_pp": "-12.22", "status": "red",
            "currency": "USD", "closed": false })
    );

    let reps = json!({ "reps": [{ "__typename": "Engagement", "id": engagement }, { "__typename": "Engagement", "id": Uuid::now_v7() }] });
    let data = billing.finance.data("ridgeline", FINANCIALS, reps).await;
    let financials = &data["_entities"][0]["financials"];
    assert_eq!(financials["revenuePlan"], json!({ "amount": "108000.00", "currency": "USD" }));
    assert_eq!(financials["costEac"]["amount"], "79200.00");
    assert_eq!(financials["remainingHoursEstimate"], "140.00");
    assert_eq!(financials["marginVariancePp"], "-12.22");
    assert_eq!(financials["status"], "RED");
    assert_eq!(data["_entities"][1]["financials"], Value::Null, "an engagement finance knows nothing of");

    // Closed: actuals only; EAC 54,000, forecast 54,000 / 108,000 = 0.5, IMV +11.11 pp: green.
    billing.deliver(&delivery_event("delivery.engagement.closed", "Engagement", engagement, customer, json!({}))).await;
    let closed = billing.events_of_type("finance.engagement_financials.updated").await.pop().unwrap();
    assert_eq!(closed["data"]["closed"], true);
    assert_eq!(closed["data"]["margin_variance_pp"], "11.11");
    assert_eq!(closed["data"]["status"], "green");
    assert_eq!(billing.audited("updateEngagementFinancials", "succeeded").await, 9);
}

#[tokio::test]
async fn engagement_financials_on_sqlite() {
    let billing = on_sqlite("finance-engagement-financials").await;
    assert_the_margin_follows_delivery(&billing).await;
}

#[tokio::test]
async fn engagement_financials_on_postgres_under_row_level_security() {
    let Some(billing) = on_postgres("finance_engagement_financials").await else { return };
    assert_the_margin_follows_delivery(&billing).await;
}
