//! The contract-to-onboarding journey of the README, through the gateway: a finance user
//! opens a customer account and a contract for a package with a blueprint, submits,
//! approves and signs it; the signed contract's event reaches analytics, whose rule A1
//! sends delivery the command that creates the engagement from the blueprint and starts
//! onboarding; one query then shows the engagement `ONBOARDING` with its checklist, the
//! timeline and the lifecycle stage. Also the refusals: signing twice, another tenant's
//! contract, a role without the right.

use std::time::{Duration, Instant};

use atrium_system_tests::{Backend, Stack};
use serde_json::{Value, json};

/// How long the events may take from the signature to the onboarding engagement (the
/// README promises 5 seconds; a loaded CI machine gets more).
const JOURNEY_DEADLINE: Duration = Duration::from_secs(20);

async fn graphql(stack: &Stack, token: &str, query: &str, variables: Value) -> Value {
    let (status, body) = stack.post(Some(token), json!({ "query": query, "variables": variables }), &[]).await;
    assert_eq!(status, 200, "{body:#}");
    body
}

async fn mutate(stack: &Stack, token: &str, query: &str, variables: Value) -> Value {
    let body = graphql(stack, token, query, variables).await;
    assert!(body.get("errors").is_none(), "{query}: {body:#}");
    body["data"].clone()
}

fn first_error_code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"].as_str().unwrap_or_else(|| panic!("an error code in {body:#}"))
}

/// A published package of the tenant whose blueprint has a current version.
async fn package_with_blueprint(stack: &Stack, token: &str) -> String {
    let body = graphql(
        stack,
        token,
        "{ servicePackages(first: 100) { nodes { id code status blueprint { id currentVersion { version } } } } }",
        json!({}),
    )
    .await;
    body["data"]["servicePackages"]["nodes"]
        .as_array()
        .expect("packages")
        .iter()
        .find(|package| package["status"] == "PUBLISHED" && !package["blueprint"]["currentVersion"].is_null())
        .map(|package| package["id"].as_str().expect("id").to_owned())
        .unwrap_or_else(|| panic!("a published package with a blueprint: {body:#}"))
}

const CUSTOMER_VIEW: &str = "query Journey($id: ID!) { customerAccount(id: $id) { \
    engagements { nodes { status tasks(first: 50) { nodes { title status dueDate } } } } \
    timeline(first: 20) { nodes { type } } lifecycleStage } }";

async fn journey(backend: Backend) {
    let Some(stack) = Stack::start(backend).await else { return };
    let finance = stack.token("ridgeline", &["finance"]);
    let package_id = package_with_blueprint(&stack, &finance).await;

    let account = mutate(
        &stack,
        &finance,
        "mutation($input: CreateCustomerAccountInput!) { createCustomerAccount(input: $input, idempotencyKey: \"journey-account\") { id status } }",
        json!({ "input": { "name": "Summit Outfitters", "segment": "MID_MARKET", "erpPlatform": "business_central",
            "dataRegion": "us_central", "billingCurrency": "USD" } }),
    )
    .await;
    let account_id = account["createCustomerAccount"]["id"].as_str().expect("account id").to_owned();

    let today = chrono::Utc::now().date_naive();
    let contract = mutate(
        &stack,
        &finance,
        "mutation($input: CreateContractInput!) { createContract(input: $input, idempotencyKey: \"journey-contract\") { id status } }",
        json!({ "input": { "customerAccountId": account_id, "type": "SOW", "startDate": today.to_string(),
            "endDate": (today + chrono::Days::new(365)).to_string(), "currency": "USD",
            "lines": [{ "servicePackageId": package_id, "description": "Implementation", "quantity": "1", "unitPrice": "45000.00" }] } }),
    )
    .await;
    let contract_id = contract["createContract"]["id"].as_str().expect("contract id").to_owned();
    assert_eq!(contract["createContract"]["status"], "DRAFT");

    for (step, expected) in [("submitContract", "PENDING_APPROVAL"), ("approveContract", "APPROVED")] {
        let data = mutate(
            &stack,
            &finance,
            &format!("mutation($id: ID!) {{ {step}(id: $id) {{ status }} }}"),
            json!({ "id": contract_id }),
        )
        .await;
        assert_eq!(data[step]["status"], expected, "{step}");
    }
    const SIGN: &str = "mutation($id: ID!) { signContract(id: $id, signerName: \"Dana Ortiz\", signerEmail: \"dana@summit.example\") { status } }";
    let signed = mutate(&stack, &finance, SIGN, json!({ "id": contract_id })).await;
    assert_eq!(signed["signContract"]["status"], "SIGNED");

    // The events travel: finance → analytics (A1) → delivery → analytics.
    let started = Instant::now();
    let view = loop {
        let body = graphql(&stack, &finance, CUSTOMER_VIEW, json!({ "id": account_id })).await;
        let customer = &body["data"]["customerAccount"];
        let onboarding = customer["engagements"]["nodes"].as_array().is_some_and(|nodes| !nodes.is_empty())
            && customer["lifecycleStage"] == "ONBOARDING"
            && customer["timeline"]["nodes"].as_array().is_some_and(|nodes| nodes.len() >= 2);
        if onboarding {
            break body;
        }
        assert!(started.elapsed() < JOURNEY_DEADLINE, "no onboarding after {JOURNEY_DEADLINE:?}: {body:#}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let customer = &view["data"]["customerAccount"];
    let engagements = customer["engagements"]["nodes"].as_array().expect("engagements");
    assert_eq!(engagements.len(), 1, "one engagement for one line: {view:#}");
    assert_eq!(engagements[0]["status"], "ONBOARDING");
    let tasks = engagements[0]["tasks"]["nodes"].as_array().expect("tasks");
    let todo: Vec<&Value> = tasks.iter().filter(|task| task["status"] == "TODO").collect();
    assert!(!todo.is_empty(), "the onboarding checklist is active: {view:#}");
    assert!(todo.iter().all(|task| task["dueDate"].is_string()), "checklist tasks have due dates: {view:#}");
    let timeline: Vec<&str> = customer["timeline"]["nodes"]
        .as_array()
        .expect("timeline")
        .iter()
        .filter_map(|node| node["type"].as_str())
        .collect();
    assert_eq!(timeline, ["CONTRACT_SIGNED", "ONBOARDING_STARTED"], "{view:#}");

    // Signing again is refused with what is allowed, and nothing is duplicated.
    let again = graphql(&stack, &finance, SIGN, json!({ "id": contract_id })).await;
    assert_eq!(first_error_code(&again), "INVALID_TRANSITION", "{again:#}");
    assert_eq!(again["errors"][0]["extensions"]["current"], "SIGNED", "{again:#}");
    assert!(again["errors"][0]["extensions"]["allowed"].is_array(), "{again:#}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = graphql(&stack, &finance, CUSTOMER_VIEW, json!({ "id": account_id })).await;
    assert_eq!(after["data"]["customerAccount"]["engagements"]["nodes"].as_array().map(Vec::len), Some(1), "{after:#}");
    assert_eq!(after["data"]["customerAccount"]["timeline"]["nodes"].as_array().map(Vec::len), Some(2), "{after:#}");

    // Another tenant cannot see or move the contract.
    let helix = stack.token("helix", &["finance"]);
    let foreign = graphql(
        &stack,
        &helix,
        "mutation($id: ID!) { approveContract(id: $id) { status } }",
        json!({ "id": contract_id }),
    )
    .await;
    assert_eq!(first_error_code(&foreign), "NOT_FOUND", "{foreign:#}");

    // A role without the right is refused before anything runs.
    let csm = stack.token("ridgeline", &["csm"]);
    let refused = graphql(&stack, &csm, SIGN, json!({ "id": contract_id })).await;
    assert_eq!(first_error_code(&refused), "FORBIDDEN", "{refused:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_signed_contract_starts_onboarding_on_sqlite() {
    journey(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_signed_contract_starts_onboarding_on_postgres() {
    journey(Backend::Postgres).await;
}
