//! The health model edited per tenant through the gateway (docs/domain.md#health-model-editing):
//! ridgeline's tenant admin drafts a new version, gives the CSM pulse more weight, previews
//! the tenant's customers under the draft and activates it; ridgeline's customers are then
//! scored under the new version (cached answers dropped), helix's are not touched. A CSM's
//! pulse is recorded and snapshotted (docs/domain.md#manual-measures).

use atrium_system_tests::{Backend, Stack};
use serde_json::{Value, json};

const HEALTH: &str = "{ customerAccounts(first: 3) { nodes { id name health { score band modelVersion } } } }";
const CREATE: &str = "mutation { createHealthModelDraft { id version status } }";
const UPDATE: &str = "mutation($id: ID!, $input: HealthModelDraftInput!) { \
    updateHealthModelDraft(id: $id, input: $input) { id status } }";
const PREVIEW: &str = "query($id: ID!) { previewHealthModel(id: $id) { modelVersion \
    distribution { band customers } customers { customerAccountId score band } } }";
const ACTIVATE: &str = "mutation($id: ID!) { activateHealthModel(id: $id) { version status } }";

async fn call(stack: &Stack, token: &str, query: &str, variables: Value) -> Value {
    let (status, body) = stack.post(Some(token), json!({ "query": query, "variables": variables }), &[]).await;
    assert_eq!(status, 200, "{body:#}");
    assert!(body.get("errors").is_none(), "{body:#}");
    body["data"].clone()
}

fn healths(data: &Value) -> Vec<Value> {
    data["customerAccounts"]["nodes"].as_array().expect("customers").iter().map(|node| node["health"].clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_admin_reweights_previews_and_activates_and_only_that_tenant_moves() {
    let Some(stack) = Stack::start(Backend::Sqlite).await else { return };
    let ridgeline_csm = stack.token("ridgeline", &["csm"]);
    let helix_csm = stack.token("helix", &["csm"]);
    let admin = stack.token("ridgeline", &["tenant_admin"]);

    let ridgeline_before = call(&stack, &ridgeline_csm, HEALTH, json!({})).await;
    let helix_before = call(&stack, &helix_csm, HEALTH, json!({})).await;
    let prairie_before = &healths(&ridgeline_before)[0];
    assert_eq!(ridgeline_before["customerAccounts"]["nodes"][0]["name"], "Prairie Foods Co.");
    // Open urgent/high (5), AR over 60 (8), pulse (8) and exec touch (7): 28 of 100.
    assert_eq!((prairie_before["score"].clone(), prairie_before["band"].clone()), (Value::Null, json!("UNKNOWN")));
    assert_eq!(prairie_before["modelVersion"], "standard_v1@1");

    let draft = call(&stack, &admin, CREATE, json!({})).await["createHealthModelDraft"].clone();
    assert_eq!((draft["version"].clone(), draft["status"].clone()), (json!(2), json!("draft")));
    // Pulse 8 → 60 (steady state) and 10 → 60 (onboarding): with the other three inputs
    // 80 of 152 (steady state) or 78 of 150 (onboarding) of the weight has data, ≥ 0.5.
    let input = json!({ "measures": [
        { "profile": "STEADY_STATE", "code": "csm_pulse", "weight": 60.0 },
        { "profile": "ONBOARDING", "code": "csm_pulse", "weight": 60.0 },
    ] });
    call(&stack, &admin, UPDATE, json!({ "id": draft["id"], "input": input })).await;

    let preview = call(&stack, &admin, PREVIEW, json!({ "id": draft["id"] })).await["previewHealthModel"].clone();
    assert_eq!(preview["modelVersion"], "standard_v1@2");
    let counted: i64 =
        preview["distribution"].as_array().unwrap().iter().map(|band| band["customers"].as_i64().unwrap()).sum();
    assert_eq!(counted as usize, preview["customers"].as_array().unwrap().len(), "{preview:#}");
    assert!(counted > 0, "{preview:#}");

    let active = call(&stack, &admin, ACTIVATE, json!({ "id": draft["id"] })).await["activateHealthModel"].clone();
    assert_eq!(active, json!({ "version": 2, "status": "active" }));

    // The activation's change crosses the outbox relay before cached answers drop.
    let mut ridgeline_after = call(&stack, &ridgeline_csm, HEALTH, json!({})).await;
    for _ in 0..100 {
        if healths(&ridgeline_after)[0]["modelVersion"] == "standard_v1@2" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        ridgeline_after = call(&stack, &ridgeline_csm, HEALTH, json!({})).await;
    }
    let prairie_after = &healths(&ridgeline_after)[0];
    assert_eq!(prairie_after["modelVersion"], "standard_v1@2", "{ridgeline_after:#}");
    assert!(prairie_after["score"].is_i64(), "now scored: {prairie_after:#}");
    assert_ne!(prairie_after["band"], "UNKNOWN");
    // Helix: the same answers as before, under its own version 1.
    let helix_after = call(&stack, &helix_csm, HEALTH, json!({})).await;
    assert_eq!(healths(&helix_after), healths(&helix_before));
    assert!(healths(&helix_after).iter().all(|health| health["modelVersion"] == "standard_v1@1"), "{helix_after:#}");

    // A CSM may not edit the model.
    let (_, refused) = stack.post(Some(&ridgeline_csm), json!({ "query": CREATE }), &[]).await;
    assert_eq!(refused["errors"][0]["extensions"]["code"], "FORBIDDEN", "{refused:#}");
}

const PULSE: &str = "mutation($id: ID!) { recordCsmPulse(customerAccountId: $id, pulse: 4, comment: \"QBR went well\") { \
    csmPulse csmPulseComment } }";
const HISTORY: &str =
    "{ customerAccounts(first: 1) { nodes { id healthHistory(first: 5) { nodes { asOf band modelVersion } } } } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_csms_pulse_is_recorded_and_snapshotted_through_the_gateway() {
    let Some(stack) = Stack::start(Backend::Sqlite).await else { return };
    let csm = stack.token("ridgeline", &["csm"]);
    let before = call(&stack, &csm, HISTORY, json!({})).await;
    let prairie = &before["customerAccounts"]["nodes"][0];
    let seeded = prairie["healthHistory"]["nodes"].as_array().expect("history").len();
    assert_eq!(seeded, 1, "the seed day's snapshot: {before:#}");

    let recorded = call(&stack, &csm, PULSE, json!({ "id": prairie["id"] })).await;
    assert_eq!(recorded["recordCsmPulse"], json!({ "csmPulse": 4, "csmPulseComment": "QBR went well" }));

    // The new snapshot, once the change has crossed the relay to the gateway's cache.
    let mut after = call(&stack, &csm, HISTORY, json!({})).await;
    for _ in 0..100 {
        if after["customerAccounts"]["nodes"][0]["healthHistory"]["nodes"].as_array().map_or(0, Vec::len) == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        after = call(&stack, &csm, HISTORY, json!({})).await;
    }
    let history = after["customerAccounts"]["nodes"][0]["healthHistory"]["nodes"].as_array().expect("history").clone();
    assert_eq!(history.len(), 2, "{after:#}");
    assert_eq!(history[0]["modelVersion"], "standard_v1@1");

    // Another tenant's CSM cannot record on ridgeline's customer.
    let helix_csm = stack.token("helix", &["csm"]);
    let (_, refused) =
        stack.post(Some(&helix_csm), json!({ "query": PULSE, "variables": { "id": prairie["id"] } }), &[]).await;
    assert_eq!(refused["errors"][0]["extensions"]["code"], "NOT_FOUND", "{refused:#}");
}
