//! Health computed at read time under the tenant's active model: `_entities` with the
//! `@requires` inputs in the representation, plus analytics' own facts
//! (docs/domain.md#health-score).

use atrium_kit::demo::Story;
use serde_json::{Value, json};

use crate::helpers::{HEALTH_QUERY, TestAnalytics, measure, representation, sqlite_analytics};

async fn health_of(analytics: &TestAnalytics, slug: &str, representation: Value) -> Value {
    let data = analytics.data(slug, HEALTH_QUERY, json!({ "representations": [representation] })).await;
    data["_entities"][0]["health"].clone()
}

#[tokio::test]
async fn too_little_data_answers_no_score_rather_than_a_perfect_one() {
    let analytics = sqlite_analytics().await;
    // Without delivery, adoption or most support and financial facts, each story account
    // has data for open urgent/high (5), AR over 60 (8), pulse (8) and exec touch (7):
    // 28 of the steady-state profile's 100 < 0.5 — however good those four look.
    let cases = [
        ("ridgeline", Story::PrairieFoods, 1, Some(0.0)),
        ("ridgeline", Story::SummitAg, 0, Some(0.0)),
        ("veritas", Story::ThamesMutual, 0, Some(0.0)),
    ];
    for (slug, story, open, ar) in cases {
        let health = health_of(&analytics, slug, representation(slug, story, open, ar)).await;
        assert_eq!(health["score"], Value::Null, "{story:?}: {health}");
        assert_eq!(health["band"], "UNKNOWN", "{story:?}");
        assert_eq!(health["coverage"], 0.28, "{story:?}");
        assert_eq!(health["modelVersion"], "standard_v1@1");
    }
}

#[tokio::test]
async fn reports_each_measure_with_its_raw_value_score_and_weight() {
    let analytics = sqlite_analytics().await;
    let health =
        health_of(&analytics, "ridgeline", representation("ridgeline", Story::PrairieFoods, 1, Some(0.0))).await;
    assert_eq!(health["measures"].as_array().unwrap().len(), 15, "the steady-state profile");
    assert_eq!(
        measure(&health, "open_urgent_high"),
        &json!({ "code": "open_urgent_high", "group": "support", "rawValue": 1.0, "score": 67, "weight": 5.0 })
    );
    assert_eq!(measure(&health, "ar_over_60_share")["score"], 100);
    assert_eq!(measure(&health, "csm_pulse")["rawValue"], 1.0);
    assert_eq!(measure(&health, "csm_pulse")["score"], 0);
    // 110 days: 100·(110 − 120)/(45 − 120) = 13.3 → 13.
    assert_eq!(measure(&health, "days_since_exec_touch")["rawValue"], 110.0);
    assert_eq!(measure(&health, "days_since_exec_touch")["score"], 13);
    assert_eq!(measure(&health, "sla_attainment_90d")["rawValue"], Value::Null);
}

#[tokio::test]
async fn leaves_out_inputs_the_router_did_not_send() {
    let analytics = sqlite_analytics().await;
    let mut summit = representation("ridgeline", Story::SummitAg, 0, None);
    summit.as_object_mut().unwrap().remove("openUrgentHighTicketCount");
    let health = health_of(&analytics, "ridgeline", summit).await;
    assert_eq!(measure(&health, "open_urgent_high")["rawValue"], Value::Null);
    assert_eq!(measure(&health, "ar_over_60_share")["score"], Value::Null);
    // Only the relationship measures (8 + 7 of 100) have data.
    assert_eq!(health["coverage"], 0.15);
    assert_eq!(health["score"], Value::Null);
}

#[tokio::test]
async fn a_brand_new_customer_without_signals_or_inputs_is_unknown() {
    let analytics = sqlite_analytics().await;
    let mut blue_heron = representation("ridgeline", Story::BlueHeron, 0, None);
    blue_heron.as_object_mut().unwrap().remove("openUrgentHighTicketCount");
    let health = health_of(&analytics, "ridgeline", blue_heron).await;
    assert_eq!(health["score"], Value::Null);
    assert_eq!(health["band"], "UNKNOWN");
    assert_eq!(health["coverage"], 0.0);
}

#[tokio::test]
async fn serves_the_active_health_model() {
    let analytics = sqlite_analytics().await;
    let data = analytics
        .data(
            "helix",
            "{ healthModel { name version status minDataCoverage trendLookbackDays trendThreshold \
             bands { band minScore maxScore } measures { profile code weight } } }",
            json!({}),
        )
        .await;
    let model = &data["healthModel"];
    assert_eq!(model["name"], "standard_v1");
    assert_eq!(model["version"], 1);
    assert_eq!(model["minDataCoverage"], 0.5);
    assert_eq!(
        model["bands"],
        json!([
            { "band": "RED", "minScore": 0, "maxScore": 50 },
            { "band": "YELLOW", "minScore": 51, "maxScore": 75 },
            { "band": "GREEN", "minScore": 76, "maxScore": 100 },
        ])
    );
    assert_eq!(model["status"], "active");
    assert_eq!((model["trendLookbackDays"].clone(), model["trendThreshold"].clone()), (json!(30), json!(5)));
    let measures = model["measures"].as_array().unwrap();
    let in_profile = |profile: &str| measures.iter().filter(|m| m["profile"] == profile).count();
    assert_eq!((in_profile("steady_state"), in_profile("onboarding")), (15, 13));
}
