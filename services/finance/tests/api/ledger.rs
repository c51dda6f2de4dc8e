//! Entitlement drawdown through finance's event consumer (docs/domain.md#entitlements):
//! a contract with 20 advisory hours a month is signed through the subgraph; hand-built
//! `delivery.time_entry.approved` envelopes are applied by `FinanceEvents` in the tenant's
//! transaction: advisory time draws down (once per time entry, a redelivery changes
//! nothing), other categories and dates outside the grant do not.

use atrium_finance::{domain::Clock, events::FinanceEvents};
use atrium_kit::{
    TenantContext, TenantTransaction, demo,
    events::{DomainEvent, EventHandler, Subject},
    testing::sqlite_url,
};
use chrono::TimeDelta;
use sea_orm::Database;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{spawn, test_today};

async fn ok(finance: &crate::helpers::TestFinance, query: &str, variables: Value) -> Value {
    let (_, body) =
        finance.query(Some(&atrium_kit::testing::context_for("ridgeline", "finance")), query, variables).await;
    assert!(body.get("errors").is_none(), "{query}: {body}");
    body["data"].clone()
}

fn time_entry_approved(
    customer: Uuid,
    time_entry: Uuid,
    work_date: chrono::NaiveDate,
    hours: &str,
    category: &str,
) -> DomainEvent {
    let context = TenantContext::automation(demo::tenant_id("ridgeline"), "delivery");
    let subject = Subject { entity_type: "TimeEntry".to_owned(), id: time_entry, version: 2 };
    DomainEvent::new(&context, "delivery.time_entry.approved", subject)
        .with_ref("customer_account_id", customer)
        .with_data(json!({
            "time_entry_id": time_entry, "staff_member_id": Uuid::now_v7(), "engagement_id": Uuid::now_v7(),
            "work_date": work_date, "hours": hours, "billable": true, "cost_amount": "100.00",
            "bill_amount": "150.00", "currency": "USD", "category": category,
        }))
}

#[tokio::test]
async fn approved_advisory_time_draws_down_the_grant_once() {
    let url = sqlite_url("finance_ledger");
    let finance = spawn(url.clone(), None).await;
    let today = test_today();
    let start = today - TimeDelta::days(5);
    let customer = ok(
        &finance,
        "mutation($input: CreateCustomerAccountInput!) { createCustomerAccount(input: $input) { id } }",
        json!({ "input": { "name": "Drawdown Co", "segment": "SMB", "erpPlatform": "netsuite",
                           "dataRegion": "us_east", "billingCurrency": "USD" } }),
    )
    .await["createCustomerAccount"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let contract = ok(
        &finance,
        "mutation($input: CreateContractInput!) { createContract(input: $input) { id } }",
        json!({ "input": { "customerAccountId": customer, "type": "ORDER_FORM", "startDate": start,
            "endDate": start + TimeDelta::days(364), "currency": "USD",
            "lines": [{ "description": "Advisory retainer", "quantity": "12", "unitPrice": "3000",
                        "billingModel": "RECURRING", "billingInterval": "MONTH",
                        "entitlementKind": "advisory", "entitlementHoursPerPeriod": "20" }] } }),
    )
    .await["createContract"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for step in ["submitContract", "approveContract"] {
        ok(&finance, &format!("mutation($id: ID!) {{ {step}(id: $id) {{ id }} }}"), json!({ "id": contract })).await;
    }
    ok(
        &finance,
        "mutation($id: ID!) { signContract(id: $id, signerName: \"A\", signerEmail: \"a@example.com\") { id } }",
        json!({ "id": contract }),
    )
    .await;

    let customer_id: Uuid = customer.parse().unwrap();
    let entry = Uuid::now_v7();
    let events = [
        time_entry_approved(customer_id, entry, start + TimeDelta::days(1), "6.50", "advisory"),
        // The same entry delivered again: nothing more.
        time_entry_approved(customer_id, entry, start + TimeDelta::days(1), "6.50", "advisory"),
        time_entry_approved(customer_id, Uuid::now_v7(), start + TimeDelta::days(2), "2.25", "Advisory"),
        // Another category, and a date before the grant: not drawn.
        time_entry_approved(customer_id, Uuid::now_v7(), start + TimeDelta::days(2), "4.00", "implementation"),
        time_entry_approved(customer_id, Uuid::now_v7(), start - TimeDelta::days(1), "3.00", "advisory"),
    ];
    let database = Database::connect(&url).await.unwrap();
    let handler = FinanceEvents::with_clock(Clock::Fixed(today));
    for event in &events {
        assert!(handler.wants(&event.event_type));
        let context = TenantContext::automation(demo::tenant_id("ridgeline"), "finance-events");
        let tx = TenantTransaction::begin_write(&database, &context).await.unwrap();
        handler.handle(&tx, event).await.expect("applied");
        tx.commit().await.unwrap();
    }

    // 6.50 + 2.25 = 8.75 of 20 used in the running period; 11.25 remain, none forfeited.
    let balances = ok(
        &finance,
        "query($id: ID!) { customerAccount(id: $id) { entitlements { kind usedHours remainingHours forfeitedHours periodStart } } }",
        json!({ "id": customer }),
    )
    .await["customerAccount"]["entitlements"]
        .clone();
    assert_eq!(
        balances,
        json!([{ "kind": "advisory", "usedHours": "8.75", "remainingHours": "11.25", "forfeitedHours": "0.00",
                 "periodStart": start }])
    );
}
