//! The daily aging emitter and the aging and DSO queries (docs/domain.md#aging-and-dso),
//! on SQLite and PostgreSQL: each crossing into an older bucket is announced once, with
//! the balance and days past due of that day; settled invoices stop aging; DSO moves by
//! exactly what a new invoice adds.

use std::str::FromStr;

use atrium_finance::aging_job::announce_aging_crossings;
use atrium_kit::testing::context_for;
use chrono::TimeDelta;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::{
    billing::{Billing, PAY, code, on_postgres, on_sqlite, payment, two_issued_invoices},
    helpers::test_today,
};

async fn crossings_of(billing: &Billing, invoice: &Value) -> Vec<Value> {
    billing
        .events_of_type("finance.invoice.aging_bucket_changed")
        .await
        .into_iter()
        .filter(|event| event["subject"]["id"] == invoice["id"])
        .collect()
}

async fn pass(billing: &Billing, days_after_today: i64) -> u64 {
    let tenant = context_for("ridgeline", "finance").tenant_id;
    announce_aging_crossings(&billing.runtime, tenant, test_today() + TimeDelta::days(days_after_today))
        .await
        .expect("aging pass")
}

async fn assert_crossings_are_announced_once(billing: &Billing) {
    // Both issued today, due in 30 days: 4,000.00 (1,000.00 paid: 3,000.00 due) and 6,000.01.
    let (billed, design, go_live) = two_issued_invoices(billing, "Fernhill Orchards").await;
    billing
        .ok(
            "recordPayment",
            PAY,
            payment(&billed, "1000.00", "USD", json!([{ "invoiceId": design["id"], "amount": "1000.00" }])),
        )
        .await;

    // Day 30 is the due date itself: not past due, nothing to announce for them.
    pass(billing, 30).await;
    assert!(crossings_of(billing, &design).await.is_empty());
    // Day 31: one day past due, both cross into 1–30.
    assert!(pass(billing, 31).await >= 2);
    let first = crossings_of(billing, &design).await;
    assert_eq!(first.len(), 1);
    let due = test_today() + TimeDelta::days(30);
    assert_eq!(
        first[0]["data"],
        json!({ "bucket": "1_30", "previous_bucket": "not_due", "balance": "3000.00", "currency": "USD",
            "days_past_due": 1, "due_date": due.to_string(), "as_of": (due + TimeDelta::days(1)).to_string() })
    );
    assert_eq!(first[0]["refs"]["customer_account_id"], billed.customer_id.as_str());
    assert_eq!(first[0]["refs"]["invoice_id"], design["id"]);
    // The same day again: nothing at all; a later day in the same bucket: nothing new
    // for them (the demo invoices age on).
    assert_eq!(pass(billing, 31).await, 0);
    pass(billing, 45).await;
    assert_eq!(crossings_of(billing, &design).await.len(), 1);
    assert_eq!(crossings_of(billing, &go_live).await.len(), 1);

    // The go-live invoice is paid in full on day 50: it stops aging.
    billing
        .ok(
            "recordPayment",
            PAY,
            payment(&billed, "6000.01", "USD", json!([{ "invoiceId": go_live["id"], "amount": "6000.01" }])),
        )
        .await;
    // Day 61: 31 days past due, 31–60.
    pass(billing, 61).await;
    // Day 200 without a pass in between: 170 days past due, one crossing into 90+.
    pass(billing, 200).await;
    let design_crossings = crossings_of(billing, &design).await;
    let buckets: Vec<(&str, &str, i64)> = design_crossings
        .iter()
        .map(|event| {
            (
                event["data"]["previous_bucket"].as_str().unwrap(),
                event["data"]["bucket"].as_str().unwrap(),
                event["data"]["days_past_due"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(buckets, [("not_due", "1_30", 1), ("1_30", "31_60", 31), ("31_60", "90_plus", 170)]);
    assert_eq!(crossings_of(billing, &go_live).await.len(), 1, "a paid invoice stops aging");
}

const DSO: &str = "query($window: Int) { dso(windowDays: $window) { asOf windowDays arBalance { amount currency } \
                   invoiced { amount currency } days } }";

fn amount(value: &Value) -> Decimal {
    Decimal::from_str(value["amount"].as_str().unwrap()).unwrap()
}

async fn assert_dso_moves_by_what_is_invoiced(billing: &Billing) {
    let before = billing.ok("dso", DSO, json!({ "window": 90 })).await;
    assert_eq!(before["asOf"], test_today().to_string());
    // Two invoices issued today: 4,000.00 + 6,000.01 = 10,000.01 more invoiced and due.
    two_issued_invoices(billing, "Wrenfield Cider").await;
    let after = billing.ok("dso", DSO, json!({ "window": 90 })).await;
    let added = Decimal::from_str("10000.01").unwrap();
    assert_eq!(amount(&after["arBalance"]) - amount(&before["arBalance"]), added);
    assert_eq!(amount(&after["invoiced"]) - amount(&before["invoiced"]), added);
    // days = AR ÷ invoiced × 90, one decimal.
    let expected = (amount(&after["arBalance"]) / amount(&after["invoiced"]) * Decimal::from(90))
        .round_dp_with_strategy(1, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    assert_eq!(after["days"], expected.to_string());

    for window in [0, 731] {
        let refused = billing.call(&crate::billing::finance_user(), DSO, json!({ "window": window })).await;
        assert_eq!(code(&refused), "BAD_USER_INPUT", "{window}");
    }
    let csm = billing.call(&context_for("ridgeline", "csm"), DSO, json!({})).await;
    assert_eq!(code(&csm), "FORBIDDEN");

    // Aging on both bases: the new invoices are not due (due-date basis) but 0 days old
    // (invoice-date basis: also the youngest bucket); the totals agree across bases.
    let query = "query($basis: AgingBasis) { receivablesAging(basis: $basis) { currency total { amount } \
                 buckets { bucket balance { amount } invoiceCount } } }";
    let due = billing.ok("receivablesAging", query, json!({ "basis": "DUE_DATE" })).await;
    let issued = billing.ok("receivablesAging", query, json!({ "basis": "INVOICE_DATE" })).await;
    let usd =
        |report: &Value| report.as_array().unwrap().iter().find(|aging| aging["currency"] == "USD").cloned().unwrap();
    assert_eq!(usd(&due)["total"], usd(&issued)["total"]);
    assert_eq!(usd(&due)["buckets"].as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn aging_crossings_on_sqlite() {
    let billing = on_sqlite("finance-aging").await;
    assert_crossings_are_announced_once(&billing).await;
}

#[tokio::test]
async fn aging_crossings_on_postgres_under_row_level_security() {
    let Some(billing) = on_postgres("finance_aging").await else { return };
    assert_crossings_are_announced_once(&billing).await;
}

#[tokio::test]
async fn dso_and_aging_on_sqlite() {
    let billing = on_sqlite("finance-dso").await;
    assert_dso_moves_by_what_is_invoiced(&billing).await;
}

#[tokio::test]
async fn two_overlapping_aging_passes_announce_each_crossing_once_on_postgres() {
    let Some(billing) = on_postgres("finance_aging_race").await else { return };
    let (_, design, _) = two_issued_invoices(&billing, "Mossgate Farms").await;
    let (first, second) = tokio::join!(pass(&billing, 31), pass(&billing, 31));
    assert!(first + second > 0);
    assert_eq!(crossings_of(&billing, &design).await.len(), 1);
}
