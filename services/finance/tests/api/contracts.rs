//! The contract journey through the finance subgraph (docs/domain.md#contract-lifecycle),
//! on SQLite and PostgreSQL: a customer is opened, a contract drafted with exact line
//! amounts, submitted, approved, signed and activated, each step with its outbox event;
//! refused steps (invalid transitions, other tenants' ids, roles without the right, bad
//! input) leave nothing behind; a retried creation with the same key writes nothing.

use atrium_kit::{
    TenantContext,
    testing::{TestDatabase, context_for, sqlite_url},
};
use chrono::TimeDelta;
use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use serde_json::{Value, json};

use crate::helpers::{TestFinance, spawn, test_today};

/// The finance subgraph with a connection that sees every tenant's rows (the SQLite file,
/// or PostgreSQL's owner, which RLS does not confine), to count what was written.
struct Subject {
    finance: TestFinance,
    database: DatabaseConnection,
    _postgres: Option<TestDatabase>,
}

async fn on_sqlite() -> Subject {
    let url = sqlite_url("finance_contracts");
    let finance = spawn(url.clone(), None).await;
    let database = Database::connect(&url).await.expect("sqlite opens");
    Subject { finance, database, _postgres: None }
}

async fn on_postgres() -> Option<Subject> {
    let postgres = TestDatabase::create("finance_contracts").await?;
    let finance = spawn(postgres.runtime_url.clone(), Some(postgres.owner_url.clone())).await;
    let database = Database::connect(&postgres.owner_url).await.expect("owner connects");
    Some(Subject { finance, database, _postgres: Some(postgres) })
}

const CONTRACT_FIELDS: &str = "id number type status version startDate endDate totalValue currency \
     signedAt signerName signerEmail customerAccount { id name } \
     lines { id description quantity unitPrice discountPct amount servicePackage { id } }";

fn create_customer_mutation() -> String {
    "mutation($input: CreateCustomerAccountInput!, $key: String) { \
     createCustomerAccount(input: $input, idempotencyKey: $key) { id name status segment version csmUserId } }"
        .to_owned()
}

fn create_contract_mutation() -> String {
    format!(
        "mutation($input: CreateContractInput!, $key: String) {{ \
         createContract(input: $input, idempotencyKey: $key) {{ {CONTRACT_FIELDS} }} }}"
    )
}

fn step_mutation(field: &str, extra_arguments: &str) -> String {
    let (declared, passed) = match extra_arguments {
        "reason" => (", $reason: String!", ", reason: $reason"),
        "signer" => (", $name: String!, $email: String!", ", signerName: $name, signerEmail: $email"),
        _ => ("", ""),
    };
    format!("mutation($id: ID!{declared}) {{ {field}(id: $id{passed}) {{ {CONTRACT_FIELDS} }} }}")
}

impl Subject {
    async fn call(&self, context: &TenantContext, query: &str, variables: Value) -> Value {
        let (_, body) = self.finance.query(Some(context), query, variables).await;
        body
    }

    /// Runs a mutation that must succeed and returns its field's answer.
    async fn ok(&self, context: &TenantContext, field: &str, query: &str, variables: Value) -> Value {
        let body = self.call(context, query, variables).await;
        assert!(body.get("errors").is_none(), "{field}: {body}");
        body["data"][field].clone()
    }

    async fn count(&self, table: &str) -> i64 {
        let backend = self.database.get_database_backend();
        let row = self
            .database
            .query_one_raw(Statement::from_string(backend, format!("SELECT COUNT(*) AS n FROM {table}")))
            .await
            .expect("count")
            .expect("a row");
        row.try_get::<i64>("", "n").expect("n")
    }

    /// Rows of every table a contract command writes to (the ledger's too: signing
    /// grants entitlements, activating starts a subscription).
    async fn written(&self) -> [i64; 9] {
        [
            self.count("customer_accounts").await,
            self.count("contracts").await,
            self.count("contract_lines").await,
            self.count("audit_log").await,
            self.count("change_outbox").await,
            self.count("entitlement_grants").await,
            self.count("subscriptions").await,
            self.count("subscription_items").await,
            self.count("mrr_movements").await,
        ]
    }

    /// Domain events in the outbox about `subject_id`, oldest first.
    async fn events_about(&self, subject_id: &str) -> Vec<Value> {
        let backend = self.database.get_database_backend();
        let rows = self
            .database
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT envelope FROM change_outbox WHERE envelope IS NOT NULL ORDER BY id".to_owned(),
            ))
            .await
            .expect("outbox");
        rows.into_iter()
            .map(|row| {
                serde_json::from_str::<Value>(&row.try_get::<String>("", "envelope").expect("envelope")).unwrap()
            })
            .filter(|event| event["subject"]["id"] == subject_id)
            .collect()
    }
}

fn finance_user() -> TenantContext {
    context_for("ridgeline", "finance")
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"].as_str().unwrap_or_else(|| panic!("no error code in {body}"))
}

async fn open_customer(subject: &Subject, name: &str) -> Value {
    let input = json!({
        "name": name, "segment": "MID_MARKET", "erpPlatform": "business_central",
        "dataRegion": "us_east", "billingCurrency": "USD", "csmUserId": "csm-7",
    });
    subject.ok(&finance_user(), "createCustomerAccount", &create_customer_mutation(), json!({ "input": input })).await
}

/// Two lines: 45,000 at 10 % off and 12 × 1,200.50, so 40,500.00 + 14,406.00 = 54,906.00.
fn contract_input(customer_id: &Value, start_offset_days: i64) -> Value {
    let start = test_today() + TimeDelta::days(start_offset_days);
    json!({
        "customerAccountId": customer_id, "type": "SOW", "currency": "USD",
        "startDate": start.to_string(), "endDate": (start + TimeDelta::days(365)).to_string(),
        "lines": [
            { "servicePackageId": "0197c1d0-0000-7000-8000-000000000001", "description": "BC implementation",
              "quantity": "1", "unitPrice": "45000", "discountPct": "0.1" },
            { "description": "Managed support (months)", "quantity": "12", "unitPrice": "1200.50" },
        ],
    })
}

async fn draft_contract(subject: &Subject, start_offset_days: i64) -> Value {
    let customer = open_customer(subject, "Juniper Outfitters").await;
    let input = contract_input(&customer["id"], start_offset_days);
    subject.ok(&finance_user(), "createContract", &create_contract_mutation(), json!({ "input": input })).await
}

async fn step(subject: &Subject, context: &TenantContext, field: &str, id: &Value) -> Value {
    subject.ok(context, field, &step_mutation(field, ""), json!({ "id": id })).await
}

async fn sign(subject: &Subject, id: &Value) -> Value {
    let variables = json!({ "id": id, "name": "Dana Whitfield", "email": "dana@juniper.example" });
    subject.call(&finance_user(), &step_mutation("signContract", "signer"), variables).await
}

async fn customer_state(subject: &Subject, id: &str) -> Value {
    let query = "query($id: ID!) { customerAccount(id: $id) { status customerSince version } }";
    subject.finance.data("ridgeline", query, json!({ "id": id })).await["customerAccount"].clone()
}

async fn assert_the_whole_journey(subject: &Subject) {
    let customer = open_customer(subject, "Juniper Outfitters").await;
    assert_eq!(customer["status"], "PROSPECT");
    assert_eq!(customer["version"], 1);
    let customer_id = customer["id"].as_str().unwrap().to_owned();

    let input = contract_input(&customer["id"], 0);
    let draft =
        subject.ok(&finance_user(), "createContract", &create_contract_mutation(), json!({ "input": input })).await;
    assert_eq!(draft["status"], "DRAFT");
    assert_eq!(draft["version"], 1);
    assert!(draft["number"].as_str().unwrap().starts_with("CTR-"), "{draft}");
    assert_eq!(draft["customerAccount"]["id"], customer_id.as_str());
    assert_eq!(draft["totalValue"], "54906.00");
    let amounts: Vec<&str> = draft["lines"].as_array().unwrap().iter().map(|l| l["amount"].as_str().unwrap()).collect();
    assert_eq!(amounts, ["40500.00", "14406.00"]);
    assert_eq!(draft["lines"][0]["discountPct"], 0.1);
    assert_eq!(draft["lines"][1]["unitPrice"], "1200.50");
    let id = draft["id"].clone();

    let submitted = step(subject, &finance_user(), "submitContract", &id).await;
    assert_eq!((submitted["status"].as_str(), submitted["version"].as_i64()), (Some("PENDING_APPROVAL"), Some(2)));
    let approved = step(subject, &context_for("ridgeline", "tenant_admin"), "approveContract", &id).await;
    assert_eq!((approved["status"].as_str(), approved["version"].as_i64()), (Some("APPROVED"), Some(3)));
    // Signing an approved contract sends it for signature in the same change.
    let signed = sign(subject, &id).await;
    assert!(signed.get("errors").is_none(), "{signed}");
    let signed = &signed["data"]["signContract"];
    assert_eq!((signed["status"].as_str(), signed["version"].as_i64()), (Some("SIGNED"), Some(4)));
    assert_eq!(signed["signerName"], "Dana Whitfield");
    assert_eq!(signed["signerEmail"], "dana@juniper.example");
    assert!(signed["signedAt"].as_str().unwrap().starts_with(&test_today().to_string()), "{signed}");
    assert_eq!(
        customer_state(subject, &customer_id).await,
        json!({ "status": "PROSPECT", "customerSince": test_today().to_string(), "version": 2 })
    );
    let active = step(subject, &finance_user(), "activateContract", &id).await;
    assert_eq!((active["status"].as_str(), active["version"].as_i64()), (Some("ACTIVE"), Some(5)));
    assert_eq!(
        customer_state(subject, &customer_id).await,
        json!({ "status": "ACTIVE", "customerSince": test_today().to_string(), "version": 3 })
    );

    // Read back in a request of its own, lines through the loader.
    let query = format!(
        "query($reps: [_Any!]!) {{ _entities(representations: $reps) {{ ... on Contract {{ {CONTRACT_FIELDS} }} }} }}"
    );
    let reps = json!({ "reps": [{ "__typename": "Contract", "id": id }] });
    let read = subject.finance.data("ridgeline", &query, reps).await["_entities"][0].clone();
    assert_eq!((read["status"].as_str(), read["version"].as_i64()), (Some("ACTIVE"), Some(5)));
    assert_eq!(read["lines"], draft["lines"]);

    let customer_events = subject.events_about(&customer_id).await;
    assert_eq!(customer_events.len(), 1, "{customer_events:?}");
    let created = &customer_events[0];
    assert_eq!(created["type"], "finance.customer.created");
    assert_eq!(created["producer"], "finance");
    assert_eq!(created["subject"], json!({ "type": "CustomerAccount", "id": customer_id, "version": 1 }));
    assert_eq!(created["refs"], json!({ "customer_account_id": customer_id }));
    assert_eq!(
        created["data"],
        json!({ "name": "Juniper Outfitters", "segment": "mid_market", "csm_user_id": "csm-7" })
    );

    let events = subject.events_about(id.as_str().unwrap()).await;
    let types: Vec<&str> = events.iter().map(|event| event["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "finance.contract.submitted",
            "finance.contract.approved",
            "finance.contract.signed",
            "finance.contract.activated"
        ]
    );
    let number = draft["number"].as_str().unwrap();
    for (event, (status, version)) in
        events.iter().zip([("pending_approval", 2), ("approved", 3), ("signed", 4), ("active", 5)])
    {
        assert_eq!(event["subject"], json!({ "type": "Contract", "id": id, "version": version }), "{event}");
        assert_eq!(event["refs"], json!({ "customer_account_id": customer_id, "contract_id": id }), "{event}");
        assert_eq!(event["data"]["number"], number);
        assert_eq!(event["data"]["status"], status);
        assert_eq!(event["tenant_id"], atrium_kit::demo::tenant_id("ridgeline").to_string());
    }
    let signed_event = &events[2]["data"];
    assert_eq!(signed_event["signed_date"], test_today().to_string());
    assert_eq!(signed_event["start_date"], test_today().to_string());
    let lines = &draft["lines"];
    assert_eq!(
        signed_event["lines"],
        json!([
            { "contract_line_id": lines[0]["id"], "service_package_id": "0197c1d0-0000-7000-8000-000000000001",
              "description": "BC implementation", "amount": "40500.00" },
            { "contract_line_id": lines[1]["id"], "service_package_id": null,
              "description": "Managed support (months)", "amount": "14406.00" },
        ])
    );
    assert!(events[0]["data"].get("lines").is_none());
}

async fn assert_refusals_leave_nothing_behind(subject: &Subject) {
    // Signing twice.
    let draft = draft_contract(subject, 0).await;
    let id = draft["id"].clone();
    step(subject, &finance_user(), "submitContract", &id).await;
    step(subject, &finance_user(), "approveContract", &id).await;
    step(subject, &finance_user(), "sendContractForSignature", &id).await;
    assert!(sign(subject, &id).await.get("errors").is_none());
    let before = subject.written().await;
    let again = sign(subject, &id).await;
    assert_eq!(code(&again), "INVALID_TRANSITION", "{again}");
    assert_eq!(again["errors"][0]["extensions"]["current"], "SIGNED");
    assert_eq!(again["errors"][0]["extensions"]["allowed"], json!(["ACTIVE"]));
    let after = subject.written().await;
    assert_eq!(after[..3], before[..3], "an invalid transition changed rows");
    assert_eq!(after[3], before[3] + 1, "an invalid transition is audited as rejected, once");
    assert_eq!(after[4], before[4], "an invalid transition recorded events");
    assert_eq!(after[5..], before[5..], "an invalid transition changed the ledger");

    // A draft can never become active directly.
    let other = draft_contract(subject, 0).await;
    let body =
        subject.call(&finance_user(), &step_mutation("activateContract", ""), json!({ "id": other["id"] })).await;
    assert_eq!(code(&body), "INVALID_TRANSITION", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["current"], "DRAFT");
    assert_eq!(body["errors"][0]["extensions"]["allowed"], json!(["PENDING_APPROVAL"]));

    // Another tenant's contract: not found, and not a single row written (no audit either).
    let before = subject.written().await;
    for field in ["submitContract", "approveContract", "activateContract"] {
        let body = subject.call(&context_for("helix", "finance"), &step_mutation(field, ""), json!({ "id": id })).await;
        assert_eq!(code(&body), "NOT_FOUND", "{field}: {body}");
    }
    let body = subject
        .call(
            &context_for("helix", "finance"),
            &step_mutation("signContract", "signer"),
            json!({ "id": other["id"], "name": "Mallory", "email": "m@helix.example" }),
        )
        .await;
    assert_eq!(code(&body), "NOT_FOUND", "{body}");
    // Nor can another tenant draft a contract for this tenant's customer.
    let helix_input = contract_input(&other["customerAccount"]["id"], 0);
    let body = subject
        .call(&context_for("helix", "finance"), &create_contract_mutation(), json!({ "input": helix_input }))
        .await;
    assert_eq!(code(&body), "NOT_FOUND", "{body}");
    assert_eq!(subject.written().await, before, "another tenant's ids left rows behind");

    // A role without the right: forbidden, nothing written.
    for role in ["csm", "support_agent", "customer_user"] {
        let body = subject
            .call(&context_for("ridgeline", role), &step_mutation("approveContract", ""), json!({ "id": other["id"] }))
            .await;
        assert_eq!(code(&body), "FORBIDDEN", "{role}: {body}");
        let input = contract_input(&other["customerAccount"]["id"], 0);
        let body =
            subject.call(&context_for("ridgeline", role), &create_contract_mutation(), json!({ "input": input })).await;
        assert_eq!(code(&body), "FORBIDDEN", "{role}: {body}");
    }
    assert_eq!(subject.written().await, before, "forbidden attempts left rows behind");
}

async fn assert_rejection_returns_to_draft_and_activation_waits_for_the_start_date(subject: &Subject) {
    let draft = draft_contract(subject, 3).await;
    let id = draft["id"].clone();
    step(subject, &finance_user(), "submitContract", &id).await;
    let variables = json!({ "id": id, "reason": "discount above policy" });
    let rejected =
        subject.ok(&finance_user(), "rejectContract", &step_mutation("rejectContract", "reason"), variables).await;
    assert_eq!((rejected["status"].as_str(), rejected["version"].as_i64()), (Some("DRAFT"), Some(3)));
    let empty_reason = json!({ "id": id, "reason": " " });
    let body = subject.call(&finance_user(), &step_mutation("rejectContract", "reason"), empty_reason).await;
    assert_eq!(code(&body), "INVALID_TRANSITION", "a draft cannot be rejected: {body}");

    step(subject, &finance_user(), "submitContract", &id).await;
    step(subject, &context_for("ridgeline", "tenant_admin"), "approveContract", &id).await;
    assert!(sign(subject, &id).await.get("errors").is_none());
    let before = subject.written().await;
    let body = subject.call(&finance_user(), &step_mutation("activateContract", ""), json!({ "id": id })).await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap();
    let start = (test_today() + TimeDelta::days(3)).to_string();
    assert!(message.contains(&start) && message.contains(&test_today().to_string()), "{message}");
    let after = subject.written().await;
    assert_eq!((after[1], after[4]), (before[1], before[4]));
    assert_eq!(after[5..], before[5..], "a refused activation started no subscription");
    let read = subject
        .finance
        .data(
            "ridgeline",
            "query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Contract { status } } }",
            json!({ "reps": [{ "__typename": "Contract", "id": id }] }),
        )
        .await;
    assert_eq!(read["_entities"][0]["status"], "SIGNED");
}

async fn assert_bad_contracts_are_refused(subject: &Subject) {
    let customer = open_customer(subject, "Osprey Analytics").await;
    let before = subject.written().await;
    let mut no_lines = contract_input(&customer["id"], 0);
    no_lines["lines"] = json!([]);
    let mut zero_quantity = contract_input(&customer["id"], 0);
    zero_quantity["lines"][1]["quantity"] = json!("0");
    let mut reversed = contract_input(&customer["id"], 0);
    reversed["endDate"] = json!((test_today() - TimeDelta::days(1)).to_string());
    for (case, input) in [("no lines", no_lines), ("zero quantity", zero_quantity), ("reversed dates", reversed)] {
        let body = subject.call(&finance_user(), &create_contract_mutation(), json!({ "input": input })).await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{case}: {body}");
    }
    // Numbers are unique per tenant: the seed's first contract holds CTR-00001.
    let mut taken = contract_input(&customer["id"], 0);
    taken["number"] = json!("CTR-00001");
    let body = subject.call(&finance_user(), &create_contract_mutation(), json!({ "input": taken })).await;
    assert_eq!(code(&body), "CONFLICT", "{body}");
    let unknown = contract_input(&json!("0197c1d0-0000-7000-8000-00000000dead"), 0);
    let body = subject.call(&finance_user(), &create_contract_mutation(), json!({ "input": unknown })).await;
    assert_eq!(code(&body), "NOT_FOUND", "{body}");
    let after = subject.written().await;
    assert_eq!(after[..3], before[..3], "a refused contract left rows behind");
    assert_eq!(after[4], before[4]);
    assert_eq!(after[5..], before[5..], "a refused contract left ledger rows behind");
}

async fn assert_a_retried_creation_writes_nothing(subject: &Subject) {
    let customer = open_customer(subject, "Heron Bay Clinics").await;
    let variables = json!({ "input": contract_input(&customer["id"], 0), "key": "order-2026-0042" });
    let first = subject.ok(&finance_user(), "createContract", &create_contract_mutation(), variables.clone()).await;
    let before = subject.written().await;
    let second = subject.ok(&finance_user(), "createContract", &create_contract_mutation(), variables).await;
    assert_eq!(second, first);
    assert_eq!(subject.written().await, before, "a retry wrote rows");

    let customer_variables = json!({
        "input": { "name": "Kestrel Labs", "segment": "SMB", "erpPlatform": "netsuite", "dataRegion": "us_east",
                   "billingCurrency": "USD" },
        "key": "kestrel-1",
    });
    let account = subject
        .ok(&finance_user(), "createCustomerAccount", &create_customer_mutation(), customer_variables.clone())
        .await;
    let before = subject.written().await;
    let again =
        subject.ok(&finance_user(), "createCustomerAccount", &create_customer_mutation(), customer_variables).await;
    assert_eq!(again, account);
    assert_eq!(subject.written().await, before, "a retry wrote rows");
    assert_eq!(subject.events_about(account["id"].as_str().unwrap()).await.len(), 1);
}

/// Seeded contracts serve the new fields: version 1, and lines that add up to the total.
async fn assert_seeded_contracts_still_serve(subject: &Subject) {
    let query = "{ customerAccounts(first: 100) { nodes { name version contracts { nodes { status version totalValue \
                 lines { amount } } } } } }";
    let data = subject.finance.data("ridgeline", query, json!({})).await;
    let accounts = data["customerAccounts"]["nodes"].as_array().unwrap();
    assert_eq!(accounts.len(), 12);
    let mut with_lines = 0;
    for account in accounts {
        assert_eq!(account["version"], 1);
        let contract = &account["contracts"]["nodes"][0];
        assert_eq!((contract["status"].as_str(), contract["version"].as_i64()), (Some("ACTIVE"), Some(1)));
        let lines = contract["lines"].as_array().unwrap();
        let decimal = |value: &Value| value.as_str().unwrap().parse::<Decimal>().unwrap();
        let sum: Decimal = lines.iter().map(|line| decimal(&line["amount"])).sum();
        assert_eq!(sum, decimal(&contract["totalValue"]), "{}", account["name"]);
        with_lines += usize::from(!lines.is_empty());
    }
    assert!(with_lines >= 8, "{with_lines} of 12 seeded contracts have lines");
}

async fn assert_everything(subject: &Subject) {
    assert_seeded_contracts_still_serve(subject).await;
    assert_the_whole_journey(subject).await;
    assert_refusals_leave_nothing_behind(subject).await;
    assert_rejection_returns_to_draft_and_activation_waits_for_the_start_date(subject).await;
    assert_bad_contracts_are_refused(subject).await;
    assert_a_retried_creation_writes_nothing(subject).await;
}

#[tokio::test]
async fn the_contract_journey_on_sqlite() {
    assert_everything(&on_sqlite().await).await;
}

#[tokio::test]
async fn the_contract_journey_on_postgres_under_row_level_security() {
    let Some(subject) = on_postgres().await else { return };
    assert_everything(&subject).await;
}

/// Contract steps are conditional updates on the version read: a step decided on a
/// version that moved meanwhile is refused instead of overwriting the newer state.
#[tokio::test]
async fn a_contract_step_decided_on_a_stale_version_is_refused_on_postgres() {
    use atrium_finance::{domain::ContractStatus, error::FinanceError, repository};
    use atrium_kit::TenantTransaction;

    let Some(postgres) = TestDatabase::create("finance_stale_contract").await else { return };
    let _finance = spawn(postgres.runtime_url.clone(), Some(postgres.owner_url.clone())).await;
    let runtime = Database::connect(&postgres.runtime_url).await.expect("runtime role connects");
    let context = finance_user();
    let ridgeline = atrium_kit::demo::tenant_by_slug("ridgeline").unwrap();
    let id = repository::seed::contract_id(ridgeline, 0);

    let first = TenantTransaction::begin(&runtime, &context).await.expect("begin");
    let second = TenantTransaction::begin(&runtime, &context).await.expect("begin");
    let read = repository::contracts_by_ids(&first, &[id]).await.expect("read").pop().expect("the contract");
    let stale = repository::contracts_by_ids(&second, &[id]).await.expect("read").pop().expect("the contract");
    assert_eq!((read.status, read.version), (ContractStatus::Active, 1));

    let changed = repository::change_contract_status(&first, &read, ContractStatus::Terminated, None).await.unwrap();
    assert_eq!(changed.version, 2);
    first.commit().await.expect("commit");
    let outcome = repository::change_contract_status(&second, &stale, ContractStatus::Expired, None).await;
    assert!(matches!(outcome, Err(FinanceError::Stale { entity: "Contract", .. })), "{outcome:?}");
    drop(second);

    let check = TenantTransaction::begin(&runtime, &context).await.expect("begin");
    let stored = repository::contracts_by_ids(&check, &[id]).await.expect("read").pop().expect("the contract");
    assert_eq!((stored.status, stored.version), (ContractStatus::Terminated, 2), "the first change survives");
}
