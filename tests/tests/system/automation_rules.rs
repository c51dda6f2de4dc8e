//! Automation rules as tenant data, through the gateway (docs/domain.md#automation-rules):
//! a tenant admin switches A1 off and adds a CS action to its actions; a contract signed
//! meanwhile runs nothing (no engagement, no action, no run); switched on again, the next
//! signed contract runs it, and the CSM sees the onboarding CS action on the customer.
//! Also: analytics reacts to its own events (A12 on `analytics.health.band_changed`),
//! delivered to itself by the stack's event transport.

use std::time::{Duration, Instant};

use atrium_kit::{
    TenantContext, TenantTransaction,
    changes::outbox,
    demo::{self, Story},
    events::{DomainEvent, Subject},
};
use atrium_system_tests::{Backend, Stack};
use serde_json::{Value, json};

const DEADLINE: Duration = Duration::from_secs(20);

async fn graphql(stack: &Stack, token: &str, query: &str, variables: Value) -> Value {
    let (status, body) = stack.post(Some(token), json!({ "query": query, "variables": variables }), &[]).await;
    assert_eq!(status, 200, "{body:#}");
    assert!(body.get("errors").is_none(), "{query}: {body:#}");
    body["data"].clone()
}

const UPDATE_RULE: &str = "mutation($enabled: Boolean, $actions: String) { \
    updateAutomationRule(code: \"A1\", enabled: $enabled, actions: $actions) { code enabled version } }";

const CUSTOMER_VIEW: &str = "query($id: ID!) { customerAccount(id: $id) { \
    engagements { nodes { status } } timeline(first: 20) { nodes { type } } \
    csActions(first: 10) { nodes { type priority ownerRole status reason } } } }";

/// Opens a contract for `account_id` on a package with a blueprint and signs it.
async fn sign_contract(stack: &Stack, finance: &str, account_id: &str, package_id: &str, key: &str) {
    let today = chrono::Utc::now().date_naive();
    let contract = graphql(
        stack,
        finance,
        &format!("mutation($input: CreateContractInput!) {{ createContract(input: $input, idempotencyKey: \"{key}\") {{ id }} }}"),
        json!({ "input": { "customerAccountId": account_id, "type": "SOW", "startDate": today.to_string(),
            "endDate": (today + chrono::Days::new(365)).to_string(), "currency": "USD",
            "lines": [{ "servicePackageId": package_id, "description": "Implementation", "quantity": "1", "unitPrice": "45000.00" }] } }),
    )
    .await;
    let contract_id = contract["createContract"]["id"].as_str().expect("contract id").to_owned();
    for step in ["submitContract", "approveContract"] {
        graphql(
            stack,
            finance,
            &format!("mutation($id: ID!) {{ {step}(id: $id) {{ status }} }}"),
            json!({ "id": contract_id }),
        )
        .await;
    }
    graphql(
        stack,
        finance,
        "mutation($id: ID!) { signContract(id: $id, signerName: \"Dana Ortiz\", signerEmail: \"dana@summit.example\") { status } }",
        json!({ "id": contract_id }),
    )
    .await;
}

/// Polls the customer until `done` holds for its view.
async fn wait_for(stack: &Stack, token: &str, account_id: &str, done: impl Fn(&Value) -> bool) -> Value {
    let started = Instant::now();
    loop {
        let view = graphql(stack, token, CUSTOMER_VIEW, json!({ "id": account_id })).await;
        if done(&view["customerAccount"]) {
            return view["customerAccount"].clone();
        }
        assert!(started.elapsed() < DEADLINE, "not reached after {DEADLINE:?}: {view:#}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn count(view: &Value, list: &str) -> usize {
    view[list]["nodes"].as_array().map_or(0, Vec::len)
}

async fn rules_follow_the_tenant_admin(backend: Backend) {
    let Some(stack) = Stack::start(backend).await else { return };
    let admin = stack.token("ridgeline", &["tenant_admin"]);
    let finance = stack.token("ridgeline", &["finance"]);
    let csm = stack.token("ridgeline", &["csm"]);

    let packages = graphql(
        &stack,
        &finance,
        "{ servicePackages(first: 100) { nodes { id status blueprint { currentVersion { version } } } } }",
        json!({}),
    )
    .await;
    let package_id = packages["servicePackages"]["nodes"]
        .as_array()
        .expect("packages")
        .iter()
        .find(|package| package["status"] == "PUBLISHED" && !package["blueprint"]["currentVersion"].is_null())
        .and_then(|package| package["id"].as_str())
        .expect("a published package with a blueprint")
        .to_owned();
    let account = graphql(
        &stack,
        &finance,
        "mutation($input: CreateCustomerAccountInput!) { createCustomerAccount(input: $input, idempotencyKey: \"rules-account\") { id } }",
        json!({ "input": { "name": "Lakeview Robotics", "segment": "MID_MARKET", "erpPlatform": "business_central",
            "dataRegion": "us_central", "billingCurrency": "USD" } }),
    )
    .await;
    let account_id = account["createCustomerAccount"]["id"].as_str().expect("account id").to_owned();

    // The admin switches A1 off and, for when it is on again, adds an onboarding CS action.
    let actions = json!([
        { "type": "delivery.create_engagement_from_blueprint" },
        { "type": "delivery.activate_onboarding" },
        { "type": "analytics.create_cs_action", "params": { "cs_action_type": "onboarding", "priority": "high",
          "owner_role": "csm", "due_in_days": 2, "reason": "Kick-off call with the new customer" } },
    ]);
    let off = graphql(&stack, &admin, UPDATE_RULE, json!({ "enabled": false, "actions": actions.to_string() })).await;
    assert_eq!(off["updateAutomationRule"], json!({ "code": "A1", "enabled": false, "version": 2 }));

    // Signed while off: analytics records the journey step, and nothing else happens.
    sign_contract(&stack, &finance, &account_id, &package_id, "rules-contract-1").await;
    let view = wait_for(&stack, &csm, &account_id, |customer| count(customer, "timeline") >= 1).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let view_after = graphql(&stack, &csm, CUSTOMER_VIEW, json!({ "id": account_id })).await;
    for customer in [&view, &view_after["customerAccount"]] {
        assert_eq!(count(customer, "engagements"), 0, "{customer:#}");
        assert_eq!(count(customer, "csActions"), 0, "{customer:#}");
    }
    let runs = graphql(&stack, &admin, "{ automationRuns(first: 50) { nodes { outcome } } }", json!({})).await;
    assert_eq!(runs["automationRuns"]["nodes"], json!([]), "a disabled rule does not run");

    // On again: the next signed contract runs A1 with the admin's actions.
    let on = graphql(&stack, &admin, UPDATE_RULE, json!({ "enabled": true })).await;
    assert_eq!(on["updateAutomationRule"], json!({ "code": "A1", "enabled": true, "version": 3 }));
    sign_contract(&stack, &finance, &account_id, &package_id, "rules-contract-2").await;
    let customer = wait_for(&stack, &csm, &account_id, |customer| {
        count(customer, "csActions") == 1 && count(customer, "engagements") == 1
    })
    .await;
    assert_eq!(
        customer["csActions"]["nodes"][0],
        json!({ "type": "ONBOARDING", "priority": "HIGH", "ownerRole": "csm", "status": "OPEN",
                "reason": "Kick-off call with the new customer" })
    );
    let runs = graphql(&stack, &admin, "{ automationRuns(first: 50) { nodes { outcome } } }", json!({})).await;
    assert_eq!(runs["automationRuns"]["nodes"], json!([{ "outcome": "SUCCEEDED" }]));

    // A CSM may not edit rules.
    let (_, refused) =
        stack.post(Some(&csm), json!({ "query": UPDATE_RULE, "variables": { "enabled": false } }), &[]).await;
    assert!(refused.get("errors").is_some(), "{refused:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rule_switched_off_by_the_tenant_admin_runs_nothing_until_switched_on_on_sqlite() {
    rules_follow_the_tenant_admin(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rule_switched_off_by_the_tenant_admin_runs_nothing_until_switched_on_on_postgres() {
    rules_follow_the_tenant_admin(Backend::Postgres).await;
}

/// A band drop analytics publishes reaches analytics itself (its own stream over Redis, its
/// own subscription over HTTP) and A12 starts the risk-recovery playbook. The event is
/// written to analytics' outbox directly (the health model that will emit it is not part of
/// this stack yet), so only PostgreSQL, whose databases the test can open, runs it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn analytics_reacts_to_its_own_band_drop_on_postgres() {
    let Some(stack) = Stack::start(Backend::Postgres).await else { return };
    let ridgeline = demo::tenant_by_slug("ridgeline").unwrap();
    let ordinal =
        ridgeline.customers.iter().position(|customer| customer.story == Some(Story::LakeshoreDental)).unwrap();
    let customer = demo::customer_id(ridgeline, ordinal);
    let (_, database) =
        stack.databases.iter().find(|(service, _)| *service == "analytics").expect("analytics database");
    let connection = sea_orm::Database::connect(database.runtime_url.as_str()).await.expect("analytics database");
    let context = TenantContext::automation(demo::tenant_id("ridgeline"), "automation:health");
    let tx = TenantTransaction::begin(&connection, &context).await.unwrap();
    let subject = Subject { entity_type: "CustomerAccount".to_owned(), id: customer, version: 1 };
    let dropped = DomainEvent::new(&context, "analytics.health.band_changed", subject)
        .with_ref("customer_account_id", customer)
        .with_data(json!({ "from": "yellow", "to": "red", "score": 44 }));
    outbox::record_event(&tx, &dropped).await.unwrap();
    tx.commit().await.unwrap();

    let csm = stack.token("ridgeline", &["csm"]);
    let customer_id = customer.to_string();
    let view = wait_for(&stack, &csm, &customer_id, |view| count(view, "csActions") == 1).await;
    assert_eq!(view["csActions"]["nodes"][0]["type"], "RISK", "{view:#}");
    assert_eq!(view["csActions"]["nodes"][0]["priority"], "URGENT", "{view:#}");
    assert_eq!(view["csActions"]["nodes"][0]["reason"], "Risk recovery", "{view:#}");
}
