//! Milestone billing to a resolved dispute through the gateway
//! (docs/domain.md#billing-schedules, #invoices-payments-and-disputes): a finance user
//! signs a contract for a package with a blueprint; delivery's engagement (automation A1)
//! gives the line its milestone schedule; accepting the first billing milestone makes its
//! line `READY`; `generateInvoices` and `issueInvoice` bill it; a partial payment leaves
//! the rest due; `openDispute` moves the invoice to `DISPUTED`, `resolveDispute` (partly
//! upheld) credits part of it through a credit note and returns it to `PARTIALLY_PAID`
//! with the hand-computed balance; each command is audited.

use std::time::{Duration, Instant};

use atrium_system_tests::{Backend, Stack};
use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, Database, DatabaseBackend, Statement};
use serde_json::{Value, json};
use std::str::FromStr;

/// How long events may take between services (a loaded CI machine gets more).
const EVENT_DEADLINE: Duration = Duration::from_secs(20);

async fn graphql(stack: &Stack, token: &str, query: &str, variables: Value) -> Value {
    let (status, body) = stack.post(Some(token), json!({ "query": query, "variables": variables }), &[]).await;
    assert_eq!(status, 200, "{body:#}");
    body
}

async fn ok(stack: &Stack, token: &str, query: &str, variables: Value) -> Value {
    let body = graphql(stack, token, query, variables).await;
    assert!(body.get("errors").is_none(), "{query}: {body:#}");
    body["data"].clone()
}

fn error_code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"].as_str().unwrap_or_else(|| panic!("an error code in {body:#}"))
}

/// Polls `query` until `done` holds for its data, or fails after the deadline.
async fn eventually(stack: &Stack, token: &str, query: &str, variables: Value, done: impl Fn(&Value) -> bool) -> Value {
    let started = Instant::now();
    loop {
        let body = graphql(stack, token, query, variables.clone()).await;
        if done(&body["data"]) {
            return body["data"].clone();
        }
        assert!(started.elapsed() < EVENT_DEADLINE, "not reached after {EVENT_DEADLINE:?}: {body:#}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn package_with_blueprint(stack: &Stack, token: &str) -> String {
    let body = ok(
        stack,
        token,
        "{ servicePackages(first: 100) { nodes { id status blueprint { currentVersion { version } } } } }",
        json!({}),
    )
    .await;
    body["servicePackages"]["nodes"]
        .as_array()
        .expect("packages")
        .iter()
        .find(|package| package["status"] == "PUBLISHED" && !package["blueprint"]["currentVersion"].is_null())
        .map(|package| package["id"].as_str().expect("id").to_owned())
        .unwrap_or_else(|| panic!("a published package with a blueprint: {body:#}"))
}

const SCHEDULES: &str = "query($id: ID!) { customerAccount(id: $id) { \
    engagements { nodes { id milestones { id seq isBilling requiresAcceptance billingPct status } } } \
    contracts { nodes { billingSchedules { lines { id status milestoneId amount { amount currency } invoiceId } } } } } }";

const INVOICE: &str = "id number status total amountPaid amountCredited balanceDue disputedAmount";

fn decimal(value: &Value) -> Decimal {
    Decimal::from_str(value.as_str().unwrap_or_else(|| panic!("a decimal string: {value}"))).expect("decimal")
}

async fn billing_journey(backend: Backend) {
    let Some(stack) = Stack::start(backend).await else { return };
    let finance = stack.token("ridgeline", &["finance"]);
    let admin = stack.token("ridgeline", &["tenant_admin"]);
    let package_id = package_with_blueprint(&stack, &finance).await;

    let account = ok(
        &stack,
        &finance,
        "mutation($input: CreateCustomerAccountInput!) { createCustomerAccount(input: $input) { id } }",
        json!({ "input": { "name": "Copperleaf Kitchens", "segment": "MID_MARKET", "erpPlatform": "netsuite",
            "dataRegion": "us_central", "billingCurrency": "USD", "paymentTermsDays": 30 } }),
    )
    .await;
    let customer = account["createCustomerAccount"]["id"].as_str().expect("account id").to_owned();
    let today = chrono::Utc::now().date_naive();
    let contract = ok(
        &stack,
        &finance,
        "mutation($input: CreateContractInput!) { createContract(input: $input) { id } }",
        json!({ "input": { "customerAccountId": customer, "type": "SOW", "startDate": today.to_string(),
            "endDate": (today + chrono::Days::new(365)).to_string(), "currency": "USD",
            "lines": [{ "servicePackageId": package_id, "description": "Implementation", "quantity": "1",
                "unitPrice": "40000.00", "billingModel": "MILESTONE" }] } }),
    )
    .await;
    let contract_id = contract["createContract"]["id"].clone();
    for step in ["submitContract", "approveContract"] {
        ok(
            &stack,
            &finance,
            &format!("mutation($id: ID!) {{ {step}(id: $id) {{ status }} }}"),
            json!({ "id": contract_id }),
        )
        .await;
    }
    ok(
        &stack,
        &finance,
        "mutation($id: ID!) { signContract(id: $id, signerName: \"Ana Reyes\", signerEmail: \"ana@copperleaf.example\") { status } }",
        json!({ "id": contract_id }),
    )
    .await;

    // finance.contract.signed → analytics A1 → delivery's engagement → finance's schedule.
    let view = eventually(&stack, &finance, SCHEDULES, json!({ "id": customer }), |data| {
        data["customerAccount"]["contracts"]["nodes"][0]["billingSchedules"][0]["lines"]
            .as_array()
            .is_some_and(|lines| !lines.is_empty())
    })
    .await;
    let lines =
        view["customerAccount"]["contracts"]["nodes"][0]["billingSchedules"][0]["lines"].as_array().unwrap().clone();
    let total: Decimal = lines.iter().map(|line| decimal(&line["amount"]["amount"])).sum();
    assert_eq!(total, Decimal::from(40_000), "the schedule bills the whole line: {lines:?}");
    let first_line = lines[0].clone();
    assert_eq!(first_line["status"], "PLANNED");
    let billed_amount = decimal(&first_line["amount"]["amount"]);
    let milestones = view["customerAccount"]["engagements"]["nodes"][0]["milestones"].as_array().unwrap().clone();
    let milestone =
        milestones.iter().find(|milestone| milestone["id"] == first_line["milestoneId"]).expect("its milestone");

    // Delivery starts, completes and (when the customer signs off) accepts the milestone.
    let mut steps = vec!["startMilestone", "completeMilestone"];
    if milestone["requiresAcceptance"] == true {
        steps.push("acceptMilestone");
    }
    for step in steps {
        ok(
            &stack,
            &admin,
            &format!("mutation($id: ID!) {{ {step}(id: $id) {{ status }} }}"),
            json!({ "id": milestone["id"] }),
        )
        .await;
    }
    eventually(&stack, &finance, SCHEDULES, json!({ "id": customer }), |data| {
        data["customerAccount"]["contracts"]["nodes"][0]["billingSchedules"][0]["lines"][0]["status"] == "READY"
    })
    .await;

    // Billed and issued.
    let drafts = ok(
        &stack,
        &finance,
        &format!("mutation($customer: ID) {{ generateInvoices(customerAccountId: $customer) {{ {INVOICE} }} }}"),
        json!({ "customer": customer }),
    )
    .await;
    let draft = drafts["generateInvoices"][0].clone();
    assert_eq!(decimal(&draft["total"]), billed_amount);
    let issued = ok(
        &stack,
        &finance,
        &format!("mutation($id: ID!) {{ issueInvoice(id: $id) {{ {INVOICE} }} }}"),
        json!({ "id": draft["id"] }),
    )
    .await["issueInvoice"]
        .clone();
    assert_eq!(issued["status"], "ISSUED");
    let invoice_id = issued["id"].clone();

    // 40 % of the amount paid: total − paid = what is due.
    let paid_amount = (billed_amount * Decimal::from_str("0.4").unwrap()).round_dp(2);
    let paid = ok(
        &stack,
        &finance,
        "mutation($input: RecordPaymentInput!) { recordPayment(input: $input, idempotencyKey: \"copperleaf-1\") { \
         allocations { invoice { status amountPaid balanceDue } } } }",
        json!({ "input": { "customerAccountId": customer, "amount": paid_amount, "currency": "USD", "method": "WIRE",
            "reference": "WIRE-7731", "allocations": [{ "invoiceId": invoice_id, "amount": paid_amount }] } }),
    )
    .await;
    let after_payment = &paid["recordPayment"]["allocations"][0]["invoice"];
    assert_eq!(after_payment["status"], "PARTIALLY_PAID");
    let due = billed_amount - paid_amount;
    assert_eq!(decimal(&after_payment["balanceDue"]), due);

    // A 1,000.00 pricing dispute: DISPUTED, holding it.
    let opened = ok(
        &stack,
        &finance,
        &format!(
            "mutation($invoice: ID!) {{ openDispute(invoiceId: $invoice, amount: \"1000.00\", reason: PRICING) {{ \
             dispute {{ id status }} invoice {{ {INVOICE} }} }} }}"
        ),
        json!({ "invoice": invoice_id }),
    )
    .await["openDispute"]
        .clone();
    assert_eq!(opened["invoice"]["status"], "DISPUTED");
    assert_eq!(opened["invoice"]["disputedAmount"], "1000.00");
    let dispute_id = opened["dispute"]["id"].clone();
    let csm = stack.token("ridgeline", &["csm"]);
    let refused = graphql(
        &stack,
        &csm,
        "mutation($id: ID!) { resolveDispute(id: $id, outcome: UPHELD) { dispute { status } } }",
        json!({ "id": dispute_id }),
    )
    .await;
    assert_eq!(error_code(&refused), "FORBIDDEN", "{refused:#}");

    // Partly upheld: 400.00 credited; due − 400.00 left, back to PARTIALLY_PAID.
    let resolved = ok(
        &stack,
        &finance,
        &format!(
            "mutation($id: ID!) {{ resolveDispute(id: $id, outcome: PARTIALLY_UPHELD, creditAmount: \"400.00\") {{ \
             dispute {{ status outcome creditedAmount {{ amount currency }} creditNoteId }} invoice {{ {INVOICE} }} }} }}"
        ),
        json!({ "id": dispute_id }),
    )
    .await["resolveDispute"]
        .clone();
    assert_eq!(resolved["dispute"]["status"], "RESOLVED_CUSTOMER");
    assert_eq!(resolved["dispute"]["creditedAmount"], json!({ "amount": "400.00", "currency": "USD" }));
    assert!(resolved["dispute"]["creditNoteId"].is_string());
    let invoice = &resolved["invoice"];
    assert_eq!(invoice["status"], "PARTIALLY_PAID");
    assert_eq!(invoice["amountCredited"], "400.00");
    assert_eq!(invoice["disputedAmount"], "0.00");
    assert_eq!(decimal(&invoice["balanceDue"]), due - Decimal::from(400));

    let account = ok(
        &stack,
        &finance,
        "query($id: ID!) { customerAccount(id: $id) { openBalance openDisputeAmount \
         invoices { nodes { id disputes { status outcome } } } } }",
        json!({ "id": customer }),
    )
    .await;
    assert_eq!(decimal(&account["customerAccount"]["openBalance"]), due - Decimal::from(400));
    assert_eq!(account["customerAccount"]["openDisputeAmount"], "0.00");
    assert_eq!(
        account["customerAccount"]["invoices"]["nodes"][0]["disputes"],
        json!([{ "status": "RESOLVED_CUSTOMER", "outcome": "PARTIALLY_UPHELD" }])
    );

    // The finance audit log holds each billing and dispute command (PostgreSQL: the owner
    // reads it across tenants); the events themselves leave the outbox once delivered.
    if let Some((_, database)) = stack.databases.iter().find(|(name, _)| *name == "finance") {
        let owner = Database::connect(&database.owner_url).await.expect("owner connects");
        let rows = owner
            .query_all_raw(Statement::from_string(
                DatabaseBackend::Postgres,
                "SELECT operation, outcome FROM audit_log ORDER BY occurred_at, id",
            ))
            .await
            .expect("audit rows");
        let entries: Vec<(String, String)> = rows
            .iter()
            .map(|row| (row.try_get("", "operation").unwrap(), row.try_get("", "outcome").unwrap()))
            .collect();
        for operation in [
            "markBillingLinesReady",
            "generateInvoices",
            "issueInvoice",
            "recordPayment",
            "openDispute",
            "resolveDispute",
        ] {
            assert!(
                entries.iter().any(|(logged, outcome)| logged == operation && outcome == "succeeded"),
                "{operation} audited: {entries:?}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn milestone_billing_to_a_resolved_dispute_on_sqlite() {
    billing_journey(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn milestone_billing_to_a_resolved_dispute_on_postgres() {
    billing_journey(Backend::Postgres).await;
}
