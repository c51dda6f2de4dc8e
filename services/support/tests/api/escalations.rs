//! Escalations, CSAT and SLA attainment through the support subgraph
//! (docs/domain.md#escalations-and-csat): only support leads escalate, levels only go up,
//! a solved ticket is rated once with a score of 1 to 5, and attainment reflects the
//! clocks decided in a period.

use atrium_kit::testing::context_for;
use serde_json::{Value, json};

use crate::helpers::{TestSupport, spawn_sqlite};

const ESCALATE: &str = "mutation($id: ID!, $level: Int) { escalateTicket(id: $id, reason: CUSTOMER_REQUEST, level: $level) { \
    level reason status } }";
const RATE: &str = "mutation($id: ID!, $score: Int!) { recordCsat(ticketId: $id, score: $score, comment: \" Quick fix \") { \
    score comment } }";

async fn mutate(support: &TestSupport, role: &str, query: &str, variables: Value) -> Value {
    let (status, body) = support.query(Some(&context_for("ridgeline", role)), query, variables).await;
    assert_eq!(status, 200, "{body}");
    body
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"].as_str().unwrap_or_default()
}

async fn ticket_in(support: &TestSupport, status: &str) -> Value {
    let data = support
        .data("ridgeline", &format!("{{ tickets(first: 1, status: [{status}]) {{ nodes {{ id }} }} }}"), json!({}))
        .await;
    data["tickets"]["nodes"][0]["id"].clone()
}

#[tokio::test]
async fn support_leads_escalate_open_tickets_level_by_level() {
    let support = spawn_sqlite().await;
    let id = ticket_in(&support, "OPEN").await;
    let agent = mutate(&support, "support_agent", ESCALATE, json!({ "id": id })).await;
    assert_eq!(code(&agent), "FORBIDDEN", "{agent}");
    let first = mutate(&support, "support_lead", ESCALATE, json!({ "id": id })).await;
    assert_eq!(
        first["data"]["escalateTicket"],
        json!({ "level": 1, "reason": "CUSTOMER_REQUEST", "status": "OPEN" }),
        "{first}"
    );
    let third = mutate(&support, "support_lead", ESCALATE, json!({ "id": id, "level": 3 })).await;
    assert_eq!(third["data"]["escalateTicket"]["level"], 3, "{third}");
    let beyond = mutate(&support, "support_lead", ESCALATE, json!({ "id": id })).await;
    assert_eq!(code(&beyond), "BAD_USER_INPUT", "{beyond}");
    assert!(beyond["errors"][0]["message"].as_str().unwrap().contains("level"), "{beyond}");
    let data = support
        .data("ridgeline", "query($id: ID!) { ticket(id: $id) { escalations { level } } }", json!({ "id": id }))
        .await;
    assert_eq!(data["ticket"]["escalations"], json!([{ "level": 1 }, { "level": 3 }]));

    let solved = ticket_in(&support, "CLOSED").await;
    let refused = mutate(&support, "support_lead", ESCALATE, json!({ "id": solved })).await;
    assert_eq!(code(&refused), "BAD_USER_INPUT", "{refused}");
}

#[tokio::test]
async fn a_solved_ticket_is_rated_once_with_a_score_of_one_to_five() {
    let support = spawn_sqlite().await;
    let open = ticket_in(&support, "OPEN").await;
    let early = mutate(&support, "support_agent", RATE, json!({ "id": open, "score": 5 })).await;
    assert_eq!(code(&early), "BAD_USER_INPUT", "{early}");

    let closed = ticket_in(&support, "CLOSED").await;
    let out_of_range = mutate(&support, "customer_user", RATE, json!({ "id": closed, "score": 6 })).await;
    assert_eq!(code(&out_of_range), "BAD_USER_INPUT", "{out_of_range}");
    assert!(out_of_range["errors"][0]["message"].as_str().unwrap().contains("score"), "{out_of_range}");
    let rated = mutate(&support, "support_agent", RATE, json!({ "id": closed, "score": 4 })).await;
    assert_eq!(rated["data"]["recordCsat"], json!({ "score": 4, "comment": "Quick fix" }), "{rated}");
    let again = mutate(&support, "support_agent", RATE, json!({ "id": closed, "score": 2 })).await;
    assert_eq!(code(&again), "CONFLICT", "{again}");
}

#[tokio::test]
async fn sla_attainment_counts_the_clocks_decided_in_the_period() {
    let support = spawn_sqlite().await;
    let today = chrono::Utc::now().date_naive();
    let query = "query($from: NaiveDate!, $to: NaiveDate!) { slaAttainment(from: $from, to: $to) { priority met missed attainment } }";
    let window = json!({ "from": today - chrono::TimeDelta::days(200), "to": today + chrono::TimeDelta::days(2) });
    let data = support.data("veritas", query, window).await;
    let figures = data["slaAttainment"].as_array().unwrap();
    assert!(!figures.is_empty(), "{data}");
    for figure in figures {
        let (met, missed) = (figure["met"].as_i64().unwrap(), figure["missed"].as_i64().unwrap());
        let expected = met as f64 / (met + missed) as f64;
        let served: f64 = figure["attainment"].as_str().unwrap().parse().unwrap();
        assert!((served - expected).abs() < 0.00005, "{figure}");
    }
    // Rheinwerk alone brings at least three missed high-priority resolution targets.
    let high = figures.iter().find(|figure| figure["priority"] == "HIGH").expect("high figures");
    assert!(high["missed"].as_i64().unwrap() >= 3, "{data}");
    // An empty period has no decided clocks; a backwards one is refused.
    let empty = json!({ "from": today + chrono::TimeDelta::days(10), "to": today + chrono::TimeDelta::days(11) });
    assert_eq!(support.data("veritas", query, empty).await["slaAttainment"], json!([]));
    let context = context_for("veritas", "support_agent");
    let backwards = json!({ "from": today, "to": today });
    let (_, body) = support.query(Some(&context), query, backwards).await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
}
