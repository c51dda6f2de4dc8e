//! Health computed at read time: `_entities` with the `@requires` inputs in the
//! representation returns the score and band for the demo stories
//! (docs/domain.md#health-score).

use atrium_kit::demo::Story;
use serde_json::{Value, json};

use crate::helpers::{HEALTH_QUERY, TestAnalytics, measure, representation, sqlite_analytics};

async fn health_of(analytics: &TestAnalytics, slug: &str, representation: Value) -> Value {
    let data = analytics.data(slug, HEALTH_QUERY, json!({ "representations": [representation] })).await;
    data["_entities"][0]["health"].clone()
}

#[tokio::test]
async fn scores_the_story_accounts_into_their_bands() {
    let analytics = sqlite_analytics().await;
    // (tenant, story, open urgent/high tickets, AR over 60 share, expected score, band)
    let cases = [
        ("ridgeline", Story::PrairieFoods, 1, Some(0.0), 44, "RED"),
        ("ridgeline", Story::LakeshoreDental, 0, Some(0.3), 57, "YELLOW"),
        ("ridgeline", Story::SummitAg, 0, Some(0.0), 88, "GREEN"),
        ("veritas", Story::Rheinwerk, 3, Some(0.05), 45, "RED"),
        ("veritas", Story::ThamesMutual, 1, Some(0.0), 94, "GREEN"),
    ];
    for (slug, story, open, ar, score, band) in cases {
        let health = health_of(&analytics, slug, representation(slug, story, open, ar)).await;
        assert_eq!(health["score"], score, "{story:?}: {health}");
        assert_eq!(health["band"], band, "{story:?}: {health}");
        assert_eq!(health["coverage"], 1.0, "{story:?}");
        assert_eq!(health["modelVersion"], "standard_v1@1");
    }
}

#[tokio::test]
async fn reports_each_measure_with_its_raw_value_score_and_weight() {
    let analytics = sqlite_analytics().await;
    let health =
        health_of(&analytics, "ridgeline", representation("ridgeline", Story::PrairieFoods, 1, Some(0.0))).await;
    assert_eq!(
        measure(&health, "open_urgent_high"),
        &json!({ "code": "open_urgent_high", "group": "support", "rawValue": 1.0, "score": 67, "weight": 5.0 })
    );
    assert_eq!(measure(&health, "ar_over_60_share")["score"], 100);
    assert_eq!(measure(&health, "csm_pulse")["rawValue"], 1.0);
    assert_eq!(measure(&health, "csm_pulse")["score"], 0);
    assert_eq!(measure(&health, "days_since_exec_touch")["rawValue"], 110.0);
    assert_eq!(measure(&health, "days_since_exec_touch")["score"], 13);
}

#[tokio::test]
async fn leaves_out_inputs_the_router_did_not_send() {
    let analytics = sqlite_analytics().await;
    let mut summit = representation("ridgeline", Story::SummitAg, 0, None);
    summit.as_object_mut().unwrap().remove("openUrgentHighTicketCount");
    let health = health_of(&analytics, "ridgeline", summit).await;
    assert_eq!(measure(&health, "open_urgent_high")["rawValue"], Value::Null);
    assert_eq!(measure(&health, "ar_over_60_share")["score"], Value::Null);
    // Only the relationship measures (8 + 7 of 28) have data: 15/28 ≥ 0.5, band known.
    assert_eq!(health["coverage"], 0.5357);
    assert_eq!(health["score"], 77, "(8·75 + 7·80) / 15 = 77.3");
    assert_eq!(health["band"], "GREEN");
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
            "{ healthModel { name version minDataCoverage \
             bands { band minScore maxScore } measures { code weight } } }",
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
    assert_eq!(model["measures"].as_array().unwrap().len(), 4);
}
