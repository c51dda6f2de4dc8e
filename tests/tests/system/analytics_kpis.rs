//! The executive KPIs through the gateway (docs/domain.md#kpis): a support agent opens an
//! urgent ticket and answers it publicly, support's SLA events reach analytics' read
//! models, and a CSM reads `tenant { kpis }` with the met first-response clock counted
//! (numerator, denominator, n); a consultant may not read the KPIs.

use std::time::{Duration, Instant};

use atrium_system_tests::{Backend, Stack};
use serde_json::{Value, json};

const DEADLINE: Duration = Duration::from_secs(20);

const CREATE: &str = "mutation($input: CreateTicketInput!) { createTicket(input: $input) { id } }";
const ANSWER: &str = "mutation($id: ID!) { commentOnTicket(ticketId: $id, body: \"On it\", public: true) { id } }";
const KPIS: &str = "{ tenant { id kpis(window: D30) { code window value numerator denominator n reason } } }";

async fn graphql(stack: &Stack, token: &str, query: &str, variables: Value) -> Value {
    let (status, body) = stack.post(Some(token), json!({ "query": query, "variables": variables }), &[]).await;
    assert_eq!(status, 200, "{body:#}");
    body
}

fn kpi<'a>(body: &'a Value, code: &str) -> Option<&'a Value> {
    body["data"]["tenant"]["kpis"].as_array()?.iter().find(|kpi| kpi["code"] == code)
}

async fn kpis_follow_support_events(backend: Backend) {
    let Some(stack) = Stack::start(backend).await else { return };
    let agent = stack.token("ridgeline", &["support_agent"]);
    let csm = stack.token("ridgeline", &["csm"]);
    let before = graphql(&stack, &csm, KPIS, json!({})).await;
    assert!(before.get("errors").is_none(), "{before:#}");
    let met_before = kpi(&before, "sla_attainment").and_then(|kpi| kpi["numerator"].as_f64()).unwrap_or(0.0);
    let clocks_before = kpi(&before, "sla_attainment").and_then(|kpi| kpi["n"].as_i64()).unwrap_or(0);

    let customer = atrium_kit::demo::customer_id(atrium_kit::demo::tenant_by_slug("ridgeline").unwrap(), 0);
    let input = json!({
        "customerAccountId": customer,
        "requesterName": "Dana Example",
        "requesterEmail": "dana@example.com",
        "subject": "Month-end close is blocked",
        "channel": "PHONE",
        "category": "OUTAGE",
        "priority": "URGENT",
    });
    let created = graphql(&stack, &agent, CREATE, json!({ "input": input })).await;
    assert!(created.get("errors").is_none(), "{created:#}");
    let ticket = created["data"]["createTicket"]["id"].clone();
    let answered = graphql(&stack, &agent, ANSWER, json!({ "id": ticket })).await;
    assert!(answered.get("errors").is_none(), "{answered:#}");

    // support.sla.fulfilled (first response, met) travels to analytics.
    let started = Instant::now();
    let after = loop {
        let body = graphql(&stack, &csm, KPIS, json!({})).await;
        assert!(body.get("errors").is_none(), "{body:#}");
        if kpi(&body, "sla_attainment").and_then(|kpi| kpi["n"].as_i64()) == Some(clocks_before + 1) {
            break body;
        }
        if started.elapsed() > DEADLINE {
            let admin = stack.token("ridgeline", &["tenant_admin"]);
            let parked = graphql(&stack, &admin, "{ analyticsEventDeadLetters { eventType error } }", json!({})).await;
            panic!("no SLA clock in the KPIs after {DEADLINE:?}: {body:#}; parked: {parked:#}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let sla = kpi(&after, "sla_attainment").unwrap();
    // One more clock ended, and it was met: numerator and denominator both grow by one.
    let n = (clocks_before + 1) as f64;
    assert_eq!(sla["numerator"].as_f64(), Some(met_before + 1.0), "{after:#}");
    assert_eq!(sla["denominator"].as_f64(), Some(n), "{after:#}");
    assert_eq!(sla["value"].as_f64(), Some((met_before + 1.0) / n), "{after:#}");
    assert_eq!(sla["window"], "D30");
    assert_eq!(
        after["data"]["tenant"]["id"].as_str(),
        Some(atrium_kit::demo::tenant_id("ridgeline").to_string().as_str())
    );

    // Consultants do not read the executive KPIs.
    let consultant = stack.token("ridgeline", &["consultant"]);
    let refused = graphql(&stack, &consultant, KPIS, json!({})).await;
    assert_eq!(refused["errors"][0]["extensions"]["code"], "FORBIDDEN", "{refused:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kpis_follow_support_events_on_sqlite() {
    kpis_follow_support_events(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kpis_follow_support_events_on_postgres() {
    kpis_follow_support_events(Backend::Postgres).await;
}
