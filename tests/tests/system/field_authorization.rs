//! Field-level authorization end to end: invoice money (`@requiresScopes` in the finance
//! subgraph) is visible to `finance` and `tenant_admin` only. Other callers get the rest
//! of the portal query with `balanceDue: null` and an `UNAUTHORIZED_FIELD_OR_TYPE` error,
//! and the finance subgraph is never asked for it (a recording proxy sits between the
//! gateway and the subgraphs); the `reject` policy refuses such requests before any
//! subgraph call.

use atrium_gateway::authorization::{UNAUTHORIZED_FIELD_OR_TYPE, UnauthorizedSelections};
use atrium_gateway::config::Config;
use atrium_system_tests::{Backend, Stack, SubgraphCalls};
use serde_json::{Value, json};

use crate::portal_query::PORTAL_QUERY;

async fn recorded_gateway(configure: impl FnOnce(&mut Config)) -> (Stack, String, SubgraphCalls) {
    let stack = Stack::start(Backend::Sqlite).await.expect("sqlite stack");
    let (proxy_urls, calls) = stack.recording_proxies().await;
    let url = stack
        .start_gateway(|config| {
            config.subgraph_urls = proxy_urls;
            configure(config);
        })
        .await;
    (stack, url, calls)
}

fn invoices(body: &Value) -> Vec<&Value> {
    body["data"]["customerAccounts"]["nodes"]
        .as_array()
        .expect("customer nodes")
        .iter()
        .flat_map(|account| account["invoices"]["nodes"].as_array().expect("invoice nodes"))
        .collect()
}

fn finance_queries(calls: &[(String, String)]) -> Vec<&str> {
    calls.iter().filter(|(subgraph, _)| subgraph == "finance").map(|(_, body)| body.as_str()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finance_and_tenant_admin_callers_see_invoice_balances() {
    let Some(stack) = Stack::start(Backend::Sqlite).await else { return };
    for role in ["finance", "tenant_admin"] {
        let body = stack.query(&stack.token("ridgeline", &[role]), PORTAL_QUERY).await;
        assert!(body.get("errors").is_none(), "{role}: {body:#}");
        let invoices = invoices(&body);
        assert!(!invoices.is_empty(), "{body:#}");
        assert!(invoices.iter().all(|invoice| !invoice["balanceDue"].is_null()), "{role}: {body:#}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_csm_gets_the_portal_without_balances_which_are_never_fetched() {
    let (stack, url, calls) = recorded_gateway(|_| {}).await;
    let (status, _, body) = stack.post_to(&url, &stack.token("ridgeline", &["csm"]), PORTAL_QUERY).await;

    assert_eq!(status, 200, "{body:#}");
    assert_eq!(
        body["errors"],
        json!([{
            "message": "Unauthorized field or type",
            "path": ["customerAccounts", "nodes", "@", "invoices", "nodes", "@", "balanceDue"],
            "extensions": { "code": UNAUTHORIZED_FIELD_OR_TYPE },
        }]),
        "{body:#}"
    );
    assert_eq!(body["data"]["tenant"]["name"], "Ridgeline Business Systems");
    let prairie = &body["data"]["customerAccounts"]["nodes"][0];
    assert_eq!(prairie["name"], "Prairie Foods Co.");
    assert!(prairie["engagements"]["nodes"][0]["status"].is_string(), "{prairie:#}");
    assert!(!prairie["tickets"]["nodes"].as_array().expect("tickets").is_empty(), "{prairie:#}");
    // Support's and finance's inputs and analytics' signals cover 28 % of the model's
    // weight, below the 50 % a score needs (docs/domain.md#health-score).
    assert_eq!(prairie["health"]["band"], "UNKNOWN", "{prairie:#}");
    assert_eq!(prairie["health"]["score"], Value::Null, "{prairie:#}");
    let invoices = invoices(&body);
    assert!(!invoices.is_empty(), "{body:#}");
    for invoice in &invoices {
        assert!(invoice["number"].is_string() && invoice["status"].is_string(), "{invoice:#}");
        assert!(invoice["daysPastDue"].is_number(), "{invoice:#}");
        assert_eq!(invoice.as_object().and_then(|fields| fields.get("balanceDue")), Some(&Value::Null));
    }
    assert!(invoices.iter().any(|invoice| invoice["daysPastDue"] == 67), "{body:#}");

    let recorded = calls.take();
    let finance = finance_queries(&recorded);
    assert!(!finance.is_empty(), "the invoices come from finance: {recorded:?}");
    assert!(finance.iter().all(|query| !query.contains("balanceDue")), "{finance:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_with_different_rights_never_share_a_plan() {
    let (stack, url, calls) = recorded_gateway(|_| {}).await;
    let csm = stack.token("ridgeline", &["csm"]);
    let finance = stack.token("ridgeline", &["finance"]);

    let (_, _, first) = stack.post_to(&url, &csm, PORTAL_QUERY).await;
    assert!(invoices(&first).iter().all(|invoice| invoice["balanceDue"].is_null()), "{first:#}");
    calls.take();

    let (_, _, entitled) = stack.post_to(&url, &finance, PORTAL_QUERY).await;
    assert!(entitled.get("errors").is_none(), "{entitled:#}");
    assert!(invoices(&entitled).iter().all(|invoice| !invoice["balanceDue"].is_null()), "{entitled:#}");
    assert!(finance_queries(&calls.take()).iter().any(|query| query.contains("balanceDue")));

    let (_, _, again) = stack.post_to(&url, &csm, PORTAL_QUERY).await;
    assert!(invoices(&again).iter().all(|invoice| invoice["balanceDue"].is_null()), "{again:#}");
    assert!(finance_queries(&calls.take()).iter().all(|query| !query.contains("balanceDue")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reject_policy_refuses_unauthorized_fields_before_any_subgraph_call() {
    let (stack, url, calls) =
        recorded_gateway(|config| config.authorization.on_unauthorized = UnauthorizedSelections::Reject).await;

    let (status, _, body) = stack.post_to(&url, &stack.token("ridgeline", &["csm"]), PORTAL_QUERY).await;
    assert_eq!(status, 403, "{body:#}");
    assert!(body.get("data").is_none(), "{body:#}");
    assert_eq!(body["errors"][0]["extensions"]["code"], UNAUTHORIZED_FIELD_OR_TYPE, "{body:#}");
    assert_eq!(
        body["errors"][0]["path"],
        json!(["customerAccounts", "nodes", "@", "invoices", "nodes", "@", "balanceDue"])
    );
    assert!(calls.take().is_empty(), "no subgraph may be called");

    let (status, _, body) = stack.post_to(&url, &stack.token("ridgeline", &["finance"]), PORTAL_QUERY).await;
    assert_eq!(status, 200, "{body:#}");
    assert!(body.get("errors").is_none(), "{body:#}");
}
