//! Disputes (docs/domain.md#invoices-payments-and-disputes) and analytics' billing-risk
//! command (docs/domain.md#billing-schedules), on SQLite and PostgreSQL: a dispute moves
//! its invoice to `DISPUTED` and back, a customer-favourable resolution credits through a
//! credit note, refusals write nothing; the command flags a milestone's line once per key.

use atrium_kit::{
    TenantContext,
    events::{DomainEvent, Subject as EventSubject},
    testing::context_for,
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::billing::{Billing, PAY, code, finance_user, on_postgres, on_sqlite, payment, two_issued_invoices};

const OPEN: &str = "mutation($invoice: ID!, $amount: Decimal!, $reason: DisputeReason!) { \
     openDispute(invoiceId: $invoice, amount: $amount, reason: $reason) { \
     dispute { id status reason amount { amount currency } outcome version } \
     invoice { status amountPaid amountCredited balanceDue disputedAmount version } } }";
const REVIEW: &str = "mutation($id: ID!) { reviewDispute(id: $id) { status version } }";
const RESOLVE: &str = "mutation($id: ID!, $outcome: DisputeOutcome!, $credit: Decimal) { \
     resolveDispute(id: $id, outcome: $outcome, creditAmount: $credit) { \
     dispute { status outcome creditedAmount { amount currency } creditNoteId resolvedAt version } \
     invoice { status amountPaid amountCredited balanceDue disputedAmount } } }";

async fn dispute_rows(billing: &Billing) -> [i64; 3] {
    [billing.count("disputes").await, billing.count("credit_notes").await, billing.count("change_outbox").await]
}

async fn open_dispute_amount(billing: &Billing, customer: &str) -> Value {
    let query = "query($id: ID!) { customerAccount(id: $id) { openDisputeAmount \
                 invoices { nodes { number disputes { status outcome amount { amount } } } } } }";
    billing.finance.data("ridgeline", query, json!({ "id": customer })).await["customerAccount"].clone()
}

async fn assert_disputes_hold_and_resolve(billing: &Billing) {
    // Design 4,000.00 and go-live 6,000.01, both issued; 1,000.00 paid on the first
    // leaves 3,000.00 due on it.
    let (billed, design, go_live) = two_issued_invoices(billing, "Quarry Lane Dairy").await;
    let paid = billing
        .ok(
            "recordPayment",
            PAY,
            payment(&billed, "1000.00", "USD", json!([{ "invoiceId": design["id"], "amount": "1000.00" }])),
        )
        .await;
    assert_eq!(paid["allocations"][0]["invoice"]["status"], "PARTIALLY_PAID");

    // Refusals: above the balance due, not positive, sub-cent, a draft's id unknown; nothing written.
    let before = dispute_rows(billing).await;
    for amount in ["3000.01", "0", "-5", "1.001"] {
        let refused = billing
            .call(&finance_user(), OPEN, json!({ "invoice": design["id"], "amount": amount, "reason": "PRICING" }))
            .await;
        assert_eq!(code(&refused), "BAD_USER_INPUT", "{amount}: {refused}");
    }
    let unknown = billing
        .call(&finance_user(), OPEN, json!({ "invoice": Uuid::now_v7(), "amount": "1", "reason": "PRICING" }))
        .await;
    assert_eq!(code(&unknown), "NOT_FOUND");
    let csm = billing
        .call(
            &context_for("ridgeline", "csm"),
            OPEN,
            json!({ "invoice": design["id"], "amount": "1", "reason": "PRICING" }),
        )
        .await;
    assert_eq!(code(&csm), "FORBIDDEN");
    assert_eq!(dispute_rows(billing).await, before);

    // 1,200.00 disputed: the invoice is DISPUTED and holds it.
    let opened = billing
        .ok("openDispute", OPEN, json!({ "invoice": design["id"], "amount": "1200", "reason": "PRICING" }))
        .await;
    assert_eq!(opened["dispute"]["status"], "OPEN");
    assert_eq!(opened["dispute"]["amount"], json!({ "amount": "1200.00", "currency": "USD" }));
    assert_eq!(
        opened["invoice"],
        json!({ "status": "DISPUTED", "amountPaid": "1000.00", "amountCredited": "0.00", "balanceDue": "3000.00",
            "disputedAmount": "1200.00", "version": 4 })
    );
    let dispute_id = opened["dispute"]["id"].clone();
    let disputed = billing.events_of_type("finance.invoice.disputed").await;
    assert_eq!(disputed.len(), 1);
    assert_eq!(disputed[0]["subject"]["id"], design["id"]);
    assert_eq!(disputed[0]["refs"]["dispute_id"], dispute_id);
    assert_eq!(disputed[0]["refs"]["customer_account_id"], billed.customer_id.as_str());
    assert_eq!(
        disputed[0]["data"],
        json!({ "dispute_id": dispute_id, "amount": "1200.00", "currency": "USD", "reason": "pricing" })
    );
    let again =
        billing.call(&finance_user(), OPEN, json!({ "invoice": design["id"], "amount": "1", "reason": "SCOPE" })).await;
    assert_eq!(code(&again), "INVALID_TRANSITION", "one open dispute per invoice");
    let account = open_dispute_amount(billing, &billed.customer_id).await;
    assert_eq!(account["openDisputeAmount"], "1200.00");

    // Review, once.
    let reviewed = billing.ok("reviewDispute", REVIEW, json!({ "id": dispute_id })).await;
    assert_eq!(reviewed, json!({ "status": "UNDER_REVIEW", "version": 2 }));
    let twice = billing.call(&finance_user(), REVIEW, json!({ "id": dispute_id })).await;
    assert_eq!(code(&twice), "INVALID_TRANSITION");
    assert_eq!(
        twice["errors"][0]["extensions"]["allowed"],
        json!(["RESOLVED_CUSTOMER", "RESOLVED_PROVIDER", "WITHDRAWN"])
    );

    // Partially upheld needs a credit strictly between 0 and 1,200.00.
    let before = dispute_rows(billing).await;
    for credit in [json!(null), json!("1200.00"), json!("0")] {
        let refused = billing
            .call(
                &finance_user(),
                RESOLVE,
                json!({ "id": dispute_id, "outcome": "PARTIALLY_UPHELD", "credit": credit }),
            )
            .await;
        assert_eq!(code(&refused), "BAD_USER_INPUT", "{credit}: {refused}");
    }
    assert_eq!(dispute_rows(billing).await, before);

    // 500.00 credited: 4,000.00 − 1,000.00 paid − 500.00 credited = 2,500.00 due, back to
    // PARTIALLY_PAID with nothing disputed.
    let resolved = billing
        .ok("resolveDispute", RESOLVE, json!({ "id": dispute_id, "outcome": "PARTIALLY_UPHELD", "credit": "500" }))
        .await;
    assert_eq!(resolved["dispute"]["status"], "RESOLVED_CUSTOMER");
    assert_eq!(resolved["dispute"]["outcome"], "PARTIALLY_UPHELD");
    assert_eq!(resolved["dispute"]["creditedAmount"], json!({ "amount": "500.00", "currency": "USD" }));
    assert!(resolved["dispute"]["creditNoteId"].is_string());
    assert_eq!(
        resolved["invoice"],
        json!({ "status": "PARTIALLY_PAID", "amountPaid": "1000.00", "amountCredited": "500.00",
            "balanceDue": "2500.00", "disputedAmount": "0.00" })
    );
    let event = billing.events_of_type("finance.dispute.resolved").await.pop().unwrap();
    assert_eq!(event["subject"]["type"], "Dispute");
    assert_eq!(
        event["data"],
        json!({ "dispute_id": dispute_id, "outcome": "partially_upheld", "credited_amount": "500.00", "currency": "USD" })
    );
    assert_eq!(event["refs"]["invoice_id"], design["id"]);
    let note = billing.events_of_type("finance.credit_note.issued").await.pop().unwrap();
    assert_eq!(note["data"]["amount"], "500.00");
    assert_eq!(note["data"]["balance_due"], "2500.00");
    let final_state = billing.call(&finance_user(), RESOLVE, json!({ "id": dispute_id, "outcome": "REJECTED" })).await;
    assert_eq!(code(&final_state), "INVALID_TRANSITION");

    // Rejected: nothing credited, no credit note, the invoice as it was.
    let notes = billing.count("credit_notes").await;
    let second =
        billing.ok("openDispute", OPEN, json!({ "invoice": design["id"], "amount": "100", "reason": "QUALITY" })).await;
    let rejected =
        billing.ok("resolveDispute", RESOLVE, json!({ "id": second["dispute"]["id"], "outcome": "REJECTED" })).await;
    assert_eq!(rejected["dispute"]["status"], "RESOLVED_PROVIDER");
    assert_eq!(rejected["dispute"]["creditedAmount"]["amount"], "0.00");
    assert!(rejected["dispute"]["creditNoteId"].is_null());
    assert_eq!(rejected["invoice"]["status"], "PARTIALLY_PAID");
    assert_eq!(rejected["invoice"]["balanceDue"], "2500.00");
    assert_eq!(billing.count("credit_notes").await, notes);

    // Upheld in full on the go-live invoice: 6,000.01 credited leaves nothing due: PAID.
    let whole = billing
        .ok("openDispute", OPEN, json!({ "invoice": go_live["id"], "amount": "6000.01", "reason": "NOT_RECEIVED" }))
        .await;
    let account = open_dispute_amount(billing, &billed.customer_id).await;
    assert_eq!(account["openDisputeAmount"], "6000.01");
    let upheld =
        billing.ok("resolveDispute", RESOLVE, json!({ "id": whole["dispute"]["id"], "outcome": "UPHELD" })).await;
    assert_eq!(upheld["invoice"]["status"], "PAID");
    assert_eq!(upheld["invoice"]["balanceDue"], "0.00");
    assert_eq!(upheld["dispute"]["creditedAmount"]["amount"], "6000.01");
    let paid = billing.events_of_type("finance.invoice.paid").await.pop().unwrap();
    assert_eq!(paid["subject"]["id"], go_live["id"]);

    let account = open_dispute_amount(billing, &billed.customer_id).await;
    assert_eq!(account["openDisputeAmount"], "0.00");
    let invoices = account["invoices"]["nodes"].as_array().unwrap();
    let design_disputes = &invoices.iter().find(|invoice| invoice["number"] == design["number"]).unwrap()["disputes"];
    assert_eq!(
        design_disputes,
        &json!([
            { "status": "RESOLVED_CUSTOMER", "outcome": "PARTIALLY_UPHELD", "amount": { "amount": "1200.00" } },
            { "status": "RESOLVED_PROVIDER", "outcome": "REJECTED", "amount": { "amount": "100.00" } },
        ])
    );
    assert_eq!(billing.audited("openDispute", "succeeded").await, 3);
    assert_eq!(billing.audited("resolveDispute", "succeeded").await, 3);
}

fn analytics() -> TenantContext {
    TenantContext::automation(context_for("ridgeline", "finance").tenant_id, "automation:A2")
}

fn flag_command(milestone_id: Uuid, key: &str) -> DomainEvent {
    let subject = EventSubject { entity_type: "Milestone".to_owned(), id: milestone_id, version: 1 };
    DomainEvent::new(&analytics(), "finance.command.flag_billing_line_at_risk", subject).with_data(json!({
        "milestone_id": milestone_id, "reason": "Go-live forecast slipped", "expected_slip_days": 12,
        "rule_code": "A2", "idempotency_key": key,
    }))
}

async fn assert_the_risk_command_flags_once_per_key(billing: &Billing) {
    let billed = billing.billed_contract("Oxbow Mills").await;
    let go_live = billed.milestones[2].id;
    billing.deliver(&flag_command(go_live, "A2:go-live:1")).await;
    let schedules = billing.schedules(&billed).await;
    let line = &schedules[0]["lines"][1];
    assert_eq!(line["status"], "AT_RISK");
    assert_eq!(line["riskReason"], "Go-live forecast slipped (expected slip 12 days, rule A2)");
    assert_eq!(line["version"], 2);
    assert_eq!(schedules[0]["lines"][0]["status"], "PLANNED", "only the slipping milestone's line");
    let flagged = billing.events_of_type("finance.billing_line.at_risk").await;
    assert_eq!(flagged.len(), 1);
    assert_eq!(flagged[0]["refs"]["milestone_id"], go_live.to_string());

    // The same key again (another event) does nothing, nor does a new key for a line
    // already at risk.
    let outbox = billing.count("change_outbox").await;
    billing.deliver(&flag_command(go_live, "A2:go-live:1")).await;
    billing.deliver(&flag_command(go_live, "A2:go-live:2")).await;
    assert_eq!(billing.count("change_outbox").await, outbox);
    assert_eq!(billing.schedules(&billed).await[0]["lines"][1]["version"], 2);
    assert_eq!(billing.count("applied_command_keys").await, 2);
    assert_eq!(billing.audited("flagBillingLineAtRisk", "succeeded").await, 1);
}

#[tokio::test]
async fn disputes_on_sqlite() {
    let billing = on_sqlite("finance-disputes").await;
    assert_disputes_hold_and_resolve(&billing).await;
}

#[tokio::test]
async fn disputes_on_postgres_under_row_level_security() {
    let Some(billing) = on_postgres("finance_disputes").await else { return };
    assert_disputes_hold_and_resolve(&billing).await;
}

#[tokio::test]
async fn billing_risk_command_on_sqlite() {
    let billing = on_sqlite("finance-risk-command").await;
    assert_the_risk_command_flags_once_per_key(&billing).await;
}

#[tokio::test]
async fn billing_risk_command_on_postgres_under_row_level_security() {
    let Some(billing) = on_postgres("finance_risk_command").await else { return };
    assert_the_risk_command_flags_once_per_key(&billing).await;
}
