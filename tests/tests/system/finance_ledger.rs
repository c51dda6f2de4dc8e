//! The finance ledger through the gateway (docs/domain.md#subscriptions-and-mrr,
//! #entitlements): a finance user drafts a contract with a milestone-billed
//! implementation line and a monthly retainer with 20 advisory hours, submits, approves,
//! signs (the advisory grant appears) and activates it (a subscription and its `NEW`
//! movement appear in `mrrMovements`); an upgrade through `changeSubscriptionItem` is an
//! `EXPANSION`; `retention` answers the hand-computed GRR/NRR; scheduling and revoking a
//! cancellation, cancelling (a `CHURN`), and the refusals: invalid transitions with
//! `allowed`, and bad input (negative price, unknown currency) with nothing written.

use atrium_system_tests::{Backend, Stack};
use chrono::{NaiveDate, TimeDelta, Utc};
use sea_orm::{ConnectionTrait, Database, DatabaseBackend, Statement};
use serde_json::{Value, json};

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

const CREATE_CONTRACT: &str = "mutation($input: CreateContractInput!) { createContract(input: $input) { id status \
    lines { description billingModel billingInterval serviceStart serviceEnd entitlementKind entitlementHoursPerPeriod } } }";

const SUBSCRIPTION_FIELDS: &str = "id status mrr currency cancelAtPeriodEnd cancelReason version \
    items { id quantity monthlyAmount { amount currency } effectiveFrom effectiveTo }";

const MOVEMENTS: &str = "query($customer: ID!) { mrrMovements(customerAccountId: $customer, first: 20) { \
    nodes { type effectiveDate mrrDelta { amount currency } subscriptionId } } }";

const RETENTION: &str = "query($from: NaiveDate!, $to: NaiveDate!, $customer: ID) { \
    retention(from: $from, to: $to, customerAccountId: $customer) { from to startingMrr { amount currency } \
    endingMrr { amount } expansion { amount } contraction { amount } churn { amount } grr nrr logoChurn \
    cohortCustomers churnedCustomers rateDate } }";

fn contract_input(customer: &str, start: NaiveDate, currency: &str, retainer_price: &str) -> Value {
    json!({
        "customerAccountId": customer,
        "type": "SOW",
        "startDate": start,
        "endDate": start + TimeDelta::days(364),
        "currency": currency,
        "lines": [
            { "description": "Implementation", "quantity": "1", "unitPrice": "45000", "billingModel": "MILESTONE" },
            {
                "description": "Advisory retainer", "quantity": "12", "unitPrice": retainer_price,
                "billingModel": "RECURRING", "billingInterval": "MONTH",
                "entitlementKind": "advisory", "entitlementHoursPerPeriod": "20"
            }
        ]
    })
}

async fn contract_count(stack: &Stack, token: &str, customer: &str) -> usize {
    let body = ok(
        stack,
        token,
        "query($id: ID!) { customerAccount(id: $id) { contracts(first: 50) { nodes { id } } } }",
        json!({ "id": customer }),
    )
    .await;
    body["customerAccount"]["contracts"]["nodes"].as_array().expect("contracts").len()
}

async fn retention(stack: &Stack, token: &str, from: NaiveDate, to: NaiveDate, customer: Option<&str>) -> Value {
    ok(stack, token, RETENTION, json!({ "from": from, "to": to, "customer": customer })).await["retention"].clone()
}

async fn ledger_journey(backend: Backend) {
    let Some(stack) = Stack::start(backend).await else { return };
    let finance = stack.token("ridgeline", &["finance"]);
    // Forty days back is in the past in every tenant's zone, so activation is allowed.
    let start = Utc::now().date_naive() - TimeDelta::days(40);

    let customer = ok(
        &stack,
        &finance,
        "mutation($input: CreateCustomerAccountInput!) { createCustomerAccount(input: $input) { id } }",
        json!({ "input": { "name": "Ledger Test Ltd", "segment": "MID_MARKET", "erpPlatform": "netsuite",
                           "dataRegion": "us_east", "billingCurrency": "USD" } }),
    )
    .await["createCustomerAccount"]["id"]
        .as_str()
        .expect("customer id")
        .to_owned();

    // Bad input first: nothing of it may be written.
    for (input, field) in [
        (contract_input(&customer, start, "USD", "-10"), "unitPrice"),
        (contract_input(&customer, start, "XYZ", "4000"), "ISO 4217"),
    ] {
        let body = graphql(&stack, &finance, CREATE_CONTRACT, json!({ "input": input })).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body:#}");
        assert!(body["errors"][0]["message"].as_str().unwrap().contains(field), "{body:#}");
    }
    let mut no_interval = contract_input(&customer, start, "USD", "4000");
    no_interval["lines"][1]["billingInterval"] = Value::Null;
    let body = graphql(&stack, &finance, CREATE_CONTRACT, json!({ "input": no_interval })).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body:#}");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("billingInterval"), "{body:#}");
    assert_eq!(contract_count(&stack, &finance, &customer).await, 0, "refused drafts leave nothing");

    let contract =
        ok(&stack, &finance, CREATE_CONTRACT, json!({ "input": contract_input(&customer, start, "USD", "4000") }))
            .await["createContract"]
            .clone();
    let contract_id = contract["id"].as_str().expect("contract id").to_owned();
    assert_eq!(contract["lines"][0]["billingModel"], "MILESTONE");
    assert_eq!(contract["lines"][0]["billingInterval"], Value::Null);
    assert_eq!(contract["lines"][1]["billingModel"], "RECURRING");
    assert_eq!(contract["lines"][1]["billingInterval"], "MONTH");
    assert_eq!(contract["lines"][1]["serviceStart"], json!(start));
    assert_eq!(contract["lines"][1]["entitlementKind"], "advisory");
    assert_eq!(contract["lines"][1]["entitlementHoursPerPeriod"], "20.00");

    for field in ["submitContract", "approveContract"] {
        ok(
            &stack,
            &finance,
            &format!("mutation($id: ID!) {{ {field}(id: $id) {{ id }} }}"),
            json!({ "id": contract_id }),
        )
        .await;
    }
    let signed = ok(
        &stack,
        &finance,
        "mutation($id: ID!) { signContract(id: $id, signerName: \"Ada Byron\", signerEmail: \"ada@example.com\") { \
         status } }",
        json!({ "id": contract_id }),
    )
    .await["signContract"]
        .clone();
    assert_eq!(signed["status"], "SIGNED");
    let granted = ok(
        &stack,
        &finance,
        "query($id: ID!) { customerAccount(id: $id) { contracts { nodes { \
         entitlements { kind period hoursPerPeriod usedHours remainingHours forfeitedHours status } } } } }",
        json!({ "id": customer }),
    )
    .await;
    assert_eq!(
        granted["customerAccount"]["contracts"]["nodes"][0]["entitlements"],
        json!([{ "kind": "advisory", "period": "MONTH", "hoursPerPeriod": "20.00", "usedHours": "0.00",
                 "remainingHours": "20.00", "forfeitedHours": "0.00", "status": "ACTIVE" }])
    );

    ok(&stack, &finance, "mutation($id: ID!) { activateContract(id: $id) { status } }", json!({ "id": contract_id }))
        .await;
    let subscriptions = ok(
        &stack,
        &finance,
        &format!(
            "query($id: ID!) {{ customerAccount(id: $id) {{ subscriptions {{ nodes {{ {SUBSCRIPTION_FIELDS} }} }} }} }}"
        ),
        json!({ "id": customer }),
    )
    .await["customerAccount"]["subscriptions"]["nodes"]
        .clone();
    let subscriptions = subscriptions.as_array().expect("subscriptions");
    assert_eq!(subscriptions.len(), 1, "one subscription for the recurring line: {subscriptions:#?}");
    let subscription = &subscriptions[0];
    let subscription_id = subscription["id"].as_str().expect("subscription id").to_owned();
    // 4000.00 per month: the retainer's price per interval (the fee is not recurring).
    assert_eq!((&subscription["status"], &subscription["mrr"]), (&json!("ACTIVE"), &json!("4000.00")));
    let item_id = subscription["items"][0]["id"].as_str().expect("item id").to_owned();
    assert_eq!(subscription["items"][0]["monthlyAmount"], json!({ "amount": "4000.00", "currency": "USD" }));

    let movements = ok(&stack, &finance, MOVEMENTS, json!({ "customer": customer })).await;
    assert_eq!(
        movements["mrrMovements"]["nodes"],
        json!([{ "type": "NEW", "effectiveDate": start, "mrrDelta": { "amount": "4000.00", "currency": "USD" },
                 "subscriptionId": subscription_id }])
    );

    // An upgrade ten days in: the 4000.00 version closes, a 5000.00 one opens.
    let upgrade_day = start + TimeDelta::days(10);
    let upgraded = ok(
        &stack,
        &finance,
        &format!(
            "mutation($input: ChangeSubscriptionItemInput!) {{ changeSubscriptionItem(input: $input) {{ {SUBSCRIPTION_FIELDS} }} }}"
        ),
        json!({ "input": { "subscriptionId": subscription_id, "itemId": item_id, "quantity": "1",
                           "unitPrice": "5000", "effectiveDate": upgrade_day } }),
    )
    .await["changeSubscriptionItem"]
        .clone();
    assert_eq!(upgraded["mrr"], "5000.00");
    assert_eq!(upgraded["items"][0]["effectiveTo"], json!(upgrade_day));
    assert_eq!(upgraded["items"][1]["effectiveFrom"], json!(upgrade_day));
    assert_eq!(upgraded["items"][1]["effectiveTo"], Value::Null);
    let movements = ok(&stack, &finance, MOVEMENTS, json!({ "customer": customer })).await;
    let kinds: Vec<(&str, &str)> = movements["mrrMovements"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|node| (node["type"].as_str().unwrap(), node["mrrDelta"]["amount"].as_str().unwrap()))
        .collect();
    assert_eq!(kinds, [("NEW", "4000.00"), ("EXPANSION", "1000.00")]);

    // Window [start + 1, start + 20]: the customer starts at 4000.00 (its NEW is dated
    // before the window) and ends at 5000.00 after the mid-window upgrade.
    // GRR = (4000 − 0 − 0) / 4000 = 1.0000; NRR = 5000 / 4000 = 1.2500; logo churn 0 / 1.
    let (from, to) = (start + TimeDelta::days(1), start + TimeDelta::days(20));
    let figures = retention(&stack, &finance, from, to, Some(&customer)).await;
    assert_eq!(figures["startingMrr"], json!({ "amount": "4000.00", "currency": "USD" }));
    assert_eq!(figures["endingMrr"]["amount"], "5000.00");
    assert_eq!(figures["expansion"]["amount"], "1000.00");
    assert_eq!(
        (&figures["grr"], &figures["nrr"], &figures["logoChurn"]),
        (&json!("1.0000"), &json!("1.2500"), &json!("0.0000"))
    );
    assert_eq!((&figures["cohortCustomers"], &figures["rateDate"]), (&json!(1), &Value::Null));
    // Tenant-wide, the demo accounts' MRR is unchanged in the window (their movements
    // are all older), so the only movement is this expansion: 1000.00 expansion, no
    // contraction or churn, GRR 1.0000, no logo lost.
    let tenant = retention(&stack, &finance, from, to, None).await;
    assert_eq!(tenant["expansion"]["amount"], "1000.00");
    assert_eq!((&tenant["contraction"]["amount"], &tenant["churn"]["amount"]), (&json!("0.00"), &json!("0.00")));
    assert_eq!((&tenant["grr"], &tenant["logoChurn"]), (&json!("1.0000"), &json!("0.0000")));

    let step = |field: &str, extra: &str| {
        format!("mutation($id: ID!) {{ {field}(id: $id{extra}) {{ {SUBSCRIPTION_FIELDS} }} }}")
    };
    let refused =
        graphql(&stack, &finance, &step("revokeSubscriptionCancellation", ""), json!({ "id": subscription_id })).await;
    assert_eq!(error_code(&refused), "INVALID_TRANSITION", "{refused:#}");
    assert_eq!(refused["errors"][0]["extensions"]["current"], "ACTIVE");
    assert_eq!(
        refused["errors"][0]["extensions"]["allowed"],
        json!(["PAST_DUE", "NON_RENEWING", "EXPIRED", "CANCELLED"])
    );
    let scheduled =
        ok(&stack, &finance, &step("scheduleSubscriptionCancellation", ""), json!({ "id": subscription_id })).await;
    assert_eq!(scheduled["scheduleSubscriptionCancellation"]["status"], "NON_RENEWING");
    assert_eq!(scheduled["scheduleSubscriptionCancellation"]["cancelAtPeriodEnd"], true);
    let revoked =
        ok(&stack, &finance, &step("revokeSubscriptionCancellation", ""), json!({ "id": subscription_id })).await;
    assert_eq!(revoked["revokeSubscriptionCancellation"]["status"], "ACTIVE");

    let cancelled =
        ok(&stack, &finance, &step("cancelSubscription", ", reason: BUDGET"), json!({ "id": subscription_id })).await;
    assert_eq!(cancelled["cancelSubscription"]["status"], "CANCELLED");
    assert_eq!(cancelled["cancelSubscription"]["cancelReason"], "BUDGET");
    assert_eq!(cancelled["cancelSubscription"]["mrr"], "0.00");
    let movements = ok(&stack, &finance, MOVEMENTS, json!({ "customer": customer })).await;
    let last = movements["mrrMovements"]["nodes"].as_array().unwrap().last().unwrap().clone();
    assert_eq!((&last["type"], &last["mrrDelta"]["amount"]), (&json!("CHURN"), &json!("-5000.00")));
    // Window [start + 1, start + 45] takes in the cancellation (today, start + 39 or 40):
    // the customer started at 4000.00 and ends at 0, so churn = 4000.00 (its starting
    // MRR), GRR = (4000 − 4000 − 0) / 4000 = 0.0000, NRR = 0 / 4000 = 0.0000, logo churn 1 / 1.
    let figures = retention(&stack, &finance, from, start + TimeDelta::days(45), Some(&customer)).await;
    assert_eq!(figures["churn"]["amount"], "4000.00");
    assert_eq!(
        (&figures["grr"], &figures["nrr"], &figures["logoChurn"]),
        (&json!("0.0000"), &json!("0.0000"), &json!("1.0000"))
    );
    let again =
        graphql(&stack, &finance, &step("cancelSubscription", ", reason: BUDGET"), json!({ "id": subscription_id }))
            .await;
    assert_eq!(error_code(&again), "INVALID_TRANSITION", "{again:#}");
    assert_eq!(again["errors"][0]["extensions"]["allowed"], json!([]));
    let negative = graphql(
        &stack,
        &finance,
        "mutation($input: ChangeSubscriptionItemInput!) { changeSubscriptionItem(input: $input) { id } }",
        json!({ "input": { "subscriptionId": subscription_id, "itemId": item_id, "quantity": "1",
                           "unitPrice": "-1", "effectiveDate": upgrade_day } }),
    )
    .await;
    assert_eq!(error_code(&negative), "BAD_USER_INPUT", "{negative:#}");

    // A role without finance rights sees no ledger.
    let csm = stack.token("ridgeline", &["csm"]);
    let hidden = graphql(&stack, &csm, RETENTION, json!({ "from": from, "to": to, "customer": customer })).await;
    assert_eq!(hidden["data"]["retention"], Value::Null, "{hidden:#}");

    // The audit log of the finance database holds each ledger command (PostgreSQL: the
    // owner reads it across tenants).
    if let Some((_, database)) = stack.databases.iter().find(|(name, _)| *name == "finance") {
        let owner = Database::connect(&database.owner_url).await.expect("owner connects");
        let rows = owner
            .query_all_raw(Statement::from_string(
                DatabaseBackend::Postgres,
                "SELECT operation, outcome FROM audit_log WHERE entity_type = 'Subscription' ORDER BY occurred_at, id",
            ))
            .await
            .expect("audit rows");
        let entries: Vec<(String, String)> = rows
            .iter()
            .map(|row| (row.try_get("", "operation").unwrap(), row.try_get("", "outcome").unwrap()))
            .collect();
        for operation in [
            "changeSubscriptionItem",
            "scheduleSubscriptionCancellation",
            "revokeSubscriptionCancellation",
            "cancelSubscription",
        ] {
            assert!(
                entries.iter().any(|(logged, outcome)| logged == operation && outcome == "succeeded"),
                "{operation} audited: {entries:?}"
            );
        }
        assert!(
            entries.iter().any(|(logged, outcome)| logged == "revokeSubscriptionCancellation" && outcome == "rejected"),
            "the refused revoke is audited as rejected: {entries:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_finance_ledger_journey_on_sqlite() {
    ledger_journey(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_finance_ledger_journey_on_postgres() {
    ledger_journey(Backend::Postgres).await;
}
