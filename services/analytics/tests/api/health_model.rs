//! Editing the health model as a tenant admin (docs/domain.md#health-model-editing): draft
//! from the active version, change a weight and the coverage minimum, preview the tenant's
//! customers under the draft, activate; refusals carry their codes; another tenant's model
//! and scores do not move.

use atrium_kit::{demo::Story, testing};
use serde_json::{Value, json};

use crate::helpers::{HEALTH_QUERY, TestAnalytics, representation, sqlite_analytics};

const CREATE: &str = "mutation { createHealthModelDraft { id name version status } }";
const UPDATE: &str = "mutation($id: ID!, $input: HealthModelDraftInput!) { \
    updateHealthModelDraft(id: $id, input: $input) { id version status minDataCoverage measures { profile code weight } } }";
const PREVIEW: &str = "query($id: ID!) { previewHealthModel(id: $id) { modelVersion \
    distribution { band customers } customers { customerAccountId profile score band coverage } } }";
const ACTIVATE: &str = "mutation($id: ID!) { activateHealthModel(id: $id) { id version status } }";

async fn as_role(analytics: &TestAnalytics, slug: &str, role: &str, query: &str, variables: Value) -> Value {
    let (status, body) = analytics.query(Some(&testing::context_for(slug, role)), query, variables).await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn admin(analytics: &TestAnalytics, slug: &str, query: &str, variables: Value) -> Value {
    let body = as_role(analytics, slug, "tenant_admin", query, variables).await;
    assert!(body.get("errors").is_none(), "{body}");
    body["data"].clone()
}

fn error_code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"].as_str().unwrap_or_default()
}

fn customer_id(slug: &str, story: Story) -> String {
    let tenant = atrium_kit::demo::tenant_by_slug(slug).unwrap();
    let ordinal = tenant.customers.iter().position(|customer| customer.story == Some(story)).unwrap();
    atrium_kit::demo::customer_id(tenant, ordinal).to_string()
}

/// The whole edit on `ridgeline`, checking `helix` stays as it was.
pub async fn edits_preview_and_activates_for_one_tenant_only(analytics: &TestAnalytics) {
    let draft = admin(analytics, "ridgeline", CREATE, json!({})).await["createHealthModelDraft"].clone();
    assert_eq!((draft["name"].clone(), draft["version"].clone()), (json!("standard_v1"), json!(2)));
    assert_eq!(draft["status"], "draft");
    let id = draft["id"].clone();

    // The CSM pulse carries 60 instead of 8 in the steady-state profile (total 152), and
    // 40 % of the weight is enough for a score.
    let input = json!({
        "measures": [{ "profile": "STEADY_STATE", "code": "csm_pulse", "weight": 60.0 }],
        "minDataCoverage": 0.4,
    });
    let updated = admin(analytics, "ridgeline", UPDATE, json!({ "id": id, "input": input })).await;
    let updated = &updated["updateHealthModelDraft"];
    assert_eq!(updated["minDataCoverage"], 0.4);
    let pulse = updated["measures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["profile"] == "steady_state" && m["code"] == "csm_pulse")
        .unwrap();
    assert_eq!(pulse["weight"], 60.0);

    // Preview on analytics' own facts (pulse, exec touch): 67 of 152 = 0.4408 ≥ 0.4; the
    // score is the relationship group's mean. Prairie Foods: pulse 1 → 0, 110 days → 13:
    // (60·0 + 7·13)/67 = 1.4 → 1 (red). Lakeshore: pulse 3 → 50, 40 days → 100:
    // (3000 + 700)/67 = 55.2 → 55 (yellow). Summit Ag: 4 → 75, 60 days → 80:
    // (4500 + 560)/67 = 75.5 → 76 (green).
    let preview = admin(analytics, "ridgeline", PREVIEW, json!({ "id": id })).await["previewHealthModel"].clone();
    assert_eq!(preview["modelVersion"], "standard_v1@2");
    let customers = preview["customers"].as_array().unwrap();
    let scored = |story| {
        let id = customer_id("ridgeline", story);
        customers.iter().find(|c| c["customerAccountId"] == id.as_str()).cloned().unwrap()
    };
    assert_eq!(
        (scored(Story::PrairieFoods)["score"].clone(), scored(Story::PrairieFoods)["band"].clone()),
        (json!(1), json!("RED"))
    );
    assert_eq!(scored(Story::LakeshoreDental)["score"], 55);
    assert_eq!(scored(Story::SummitAg)["band"], "GREEN");
    // Blue Heron has no pulse or touch yet: still no score.
    assert_eq!(scored(Story::BlueHeron)["band"], "UNKNOWN");
    let counted: i64 =
        preview["distribution"].as_array().unwrap().iter().map(|b| b["customers"].as_i64().unwrap()).sum();
    assert_eq!(counted as usize, customers.len());
    assert_eq!(preview["distribution"].as_array().unwrap().len(), 4);

    // Before activation health still answers under version 1.
    let prairie = representation("ridgeline", Story::PrairieFoods, 1, Some(0.0));
    let before = admin(analytics, "ridgeline", HEALTH_QUERY, json!({ "representations": [prairie.clone()] })).await;
    assert_eq!(before["_entities"][0]["health"]["score"], Value::Null);

    let active = admin(analytics, "ridgeline", ACTIVATE, json!({ "id": id })).await["activateHealthModel"].clone();
    assert_eq!(active["status"], "active");
    // With the representation's inputs Prairie has open urgent/high 1 → 67 and AR 0 → 100:
    // covered 80 of 152 = 0.53. Groups: support 67, financial 100, relationship 1.36
    // (weights 25, 20, 67): (1675 + 2000 + 91)/112 = 33.6 → 34.
    let after = admin(analytics, "ridgeline", HEALTH_QUERY, json!({ "representations": [prairie] })).await;
    let health = &after["_entities"][0]["health"];
    assert_eq!((health["score"].clone(), health["band"].clone()), (json!(34), json!("RED")), "{health}");
    assert_eq!(health["modelVersion"], "standard_v1@2");
    let model = admin(analytics, "ridgeline", "{ healthModel { version status } }", json!({})).await;
    assert_eq!(model["healthModel"], json!({ "version": 2, "status": "active" }));

    // Helix: still version 1, and its customer still has no score.
    let helix_model = admin(analytics, "helix", "{ healthModel { version } }", json!({})).await;
    assert_eq!(helix_model["healthModel"]["version"], 1);
    let helix_customer = atrium_kit::demo::tenant_by_slug("helix").unwrap();
    let representation = json!({
        "__typename": "CustomerAccount",
        "id": atrium_kit::demo::customer_id(helix_customer, 0),
        "openUrgentHighTicketCount": 1,
        "arOver60Share": 0.0,
    });
    let helix = admin(analytics, "helix", HEALTH_QUERY, json!({ "representations": [representation] })).await;
    assert_eq!(helix["_entities"][0]["health"]["score"], Value::Null);
    assert_eq!(helix["_entities"][0]["health"]["modelVersion"], "standard_v1@1");
    // Ridgeline's draft id means nothing to helix.
    let foreign = as_role(analytics, "helix", "tenant_admin", ACTIVATE, json!({ "id": id })).await;
    assert_eq!(error_code(&foreign), "NOT_FOUND", "{foreign}");
}

#[tokio::test]
async fn a_tenant_admin_drafts_previews_and_activates_without_touching_other_tenants() {
    let analytics = sqlite_analytics().await;
    edits_preview_and_activates_for_one_tenant_only(&analytics).await;
}

#[tokio::test]
async fn refuses_invalid_drafts_other_roles_and_changes_to_active_versions() {
    let analytics = sqlite_analytics().await;
    let draft = admin(&analytics, "veritas", CREATE, json!({})).await["createHealthModelDraft"].clone();
    let id = draft["id"].clone();
    let cases = [
        (
            json!({ "measures": [{ "profile": "ONBOARDING", "code": "csm_pulse", "weight": 0.0 }] }),
            "WEIGHT_NOT_POSITIVE",
        ),
        (
            json!({ "measures": [{ "profile": "STEADY_STATE", "code": "csat_90d", "greenAt": 0.7 }] }),
            "THRESHOLDS_NOT_DISTINCT",
        ),
        (json!({ "bands": { "redMax": 80, "yellowMax": 60 } }), "BANDS_NOT_ORDERED"),
        (
            json!({ "measures": [{ "profile": "ONBOARDING", "code": "vibes", "group": "ADOPTION", "weight": 3.0, "greenAt": 1.0, "redAt": 0.0 }] }),
            "UNKNOWN_MEASURE",
        ),
    ];
    for (input, problem) in cases {
        let body = as_role(&analytics, "veritas", "tenant_admin", UPDATE, json!({ "id": id, "input": input })).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(message.starts_with(problem), "{problem}: {message}");
    }
    let csm = as_role(&analytics, "veritas", "csm", CREATE, json!({})).await;
    assert_eq!(error_code(&csm), "FORBIDDEN", "{csm}");

    admin(&analytics, "veritas", ACTIVATE, json!({ "id": id })).await;
    // Active now: neither editable nor activatable again.
    let edit = as_role(
        &analytics,
        "veritas",
        "tenant_admin",
        UPDATE,
        json!({ "id": id, "input": { "minDataCoverage": 0.6 } }),
    )
    .await;
    assert_eq!(error_code(&edit), "CONFLICT", "{edit}");
    let again = as_role(&analytics, "veritas", "tenant_admin", ACTIVATE, json!({ "id": id })).await;
    assert_eq!(error_code(&again), "CONFLICT", "{again}");
    // The retired version 1 can seed a new draft.
    let from_one =
        admin(&analytics, "veritas", "mutation { createHealthModelDraft(fromVersion: 1) { version } }", json!({}))
            .await;
    assert_eq!(from_one["createHealthModelDraft"]["version"], 3);
}
