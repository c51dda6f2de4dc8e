//! The tenant-aware response cache end to end: answers are reused only by the same
//! tenant and authorization scope (recording proxies prove a hit reaches no subgraph),
//! `Cache-Control` follows the subgraphs' `@cacheControl` hints over GET and POST, a
//! ticket change made through the gateway reaches the cache through support's outbox and
//! invalidates exactly the answers that depend on tickets, replicas sharing Redis share
//! the cache and its invalidations, and unsigned change batches are refused.

use std::time::Duration;

use atrium_system_tests::{Backend, Stack};
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

const ACCOUNTS: &str = "{ tenant { name } customerAccounts(first: 3) { nodes { name openBalance } } }";
const TICKET_STATUS: &str = "query($id: ID!) { ticket(id: $id) { id status } }";
const TENANT: &str = "{ tenant { name slug } }";

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers.get(name).and_then(|value| value.to_str().ok()).unwrap_or_default()
}

fn cache_status(headers: &HeaderMap) -> &str {
    header(headers, "x-atrium-cache")
}

fn unique_prefix() -> String {
    format!("atrium-test-{}", uuid::Uuid::new_v4().simple())
}

async fn open_ticket_id(stack: &Stack, token: &str) -> String {
    let body = stack.query(token, "{ tickets(first: 1, status: [OPEN]) { nodes { id } } }").await;
    body["data"]["tickets"]["nodes"][0]["id"].as_str().expect("an open ticket").to_owned()
}

async fn change_status(stack: &Stack, url: &str, token: &str, ticket: &str, status: &str) {
    let mutation = "mutation($id: ID!, $status: TicketStatus!) { changeTicketStatus(id: $id, status: $status) { id } }";
    let (code, headers, body) = stack
        .post_json(url, token, json!({ "query": mutation, "variables": { "id": ticket, "status": status } }))
        .await;
    assert_eq!(code, 200, "{body:#}");
    assert!(body.get("errors").is_none(), "{body:#}");
    assert_eq!(header(&headers, "cache-control"), "no-store", "mutations are never cacheable");
}

async fn ticket_status(stack: &Stack, url: &str, token: &str, ticket: &str) -> (String, String) {
    let (code, headers, body) =
        stack.post_json(url, token, json!({ "query": TICKET_STATUS, "variables": { "id": ticket } })).await;
    assert_eq!(code, 200, "{body:#}");
    let status = body["data"]["ticket"]["status"].as_str().unwrap_or_else(|| panic!("a status: {body:#}"));
    (status.to_owned(), cache_status(&headers).to_owned())
}

/// Waits (bounded) until the change event has crossed the outbox relay and the cache
/// answers with `expected`; returns how the final answer was served.
async fn eventually_status(stack: &Stack, url: &str, token: &str, ticket: &str, expected: &str) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let (status, served) = ticket_status(stack, url, token, ticket).await;
        if status == expected {
            return served;
        }
        assert!(tokio::time::Instant::now() < deadline, "the cache still answers {status} after the change");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_are_reused_only_within_one_tenant_and_scope() {
    let Some(stack) = Stack::start(Backend::Sqlite).await else { return };
    let (proxies, calls) = stack.recording_proxies().await;
    let url = stack.start_gateway(|config| config.subgraph_urls = proxies).await;
    let ridgeline_csm = stack.token("ridgeline", &["csm"]);

    let (code, headers, first) = stack.post_to(&url, &ridgeline_csm, ACCOUNTS).await;
    assert_eq!(code, 200, "{first:#}");
    assert_eq!(cache_status(&headers), "miss");
    assert_eq!(header(&headers, "cache-control"), "private, max-age=60", "the shortest hint (finance) wins");
    assert!(calls.count_and_reset() >= 2, "a miss fetches from catalog and finance");
    assert_eq!(first["errors"][0]["extensions"]["code"], "UNAUTHORIZED_FIELD_OR_TYPE", "{first:#}");

    let (_, headers, again) = stack.post_to(&url, &stack.token("ridgeline", &["csm"]), ACCOUNTS).await;
    assert_eq!(cache_status(&headers), "hit");
    assert_eq!(calls.count_and_reset(), 0, "a hit reaches no subgraph");
    assert_eq!(again, first, "the same answer, authorization errors included");
    let max_age: u32 = header(&headers, "cache-control").trim_start_matches("private, max-age=").parse().unwrap();
    assert!((1..=60).contains(&max_age), "a hit advertises what is left of its lifetime");

    let (_, headers, helix) = stack.post_to(&url, &stack.token("helix", &["csm"]), ACCOUNTS).await;
    assert_eq!(cache_status(&headers), "miss", "another tenant never reads ridgeline's entry");
    assert!(calls.count_and_reset() >= 2);
    assert_ne!(helix["data"]["tenant"]["name"], first["data"]["tenant"]["name"], "{helix:#}");

    let (_, headers, finance) = stack.post_to(&url, &stack.token("ridgeline", &["finance"]), ACCOUNTS).await;
    assert_eq!(cache_status(&headers), "miss", "another role never reads the csm's entry");
    assert!(calls.count_and_reset() >= 2);
    assert!(finance.get("errors").is_none(), "{finance:#}");
    assert!(finance["data"]["customerAccounts"]["nodes"][0]["openBalance"].is_string(), "{finance:#}");

    let (_, headers, csm_again) = stack.post_to(&url, &ridgeline_csm, ACCOUNTS).await;
    assert_eq!(cache_status(&headers), "hit");
    assert!(
        csm_again["data"]["customerAccounts"]["nodes"][0]["openBalance"].is_null(),
        "the finance answer never leaks"
    );

    let (_, headers, _) = stack.post_to(&url, &stack.token("helix", &["csm"]), ACCOUNTS).await;
    assert_eq!(cache_status(&headers), "hit");
    let partner = atrium_kit::demo::partner_id(atrium_kit::demo::tenant_by_slug("helix").unwrap(), 0);
    let scoped = stack.scoped_token("helix", "csm", Some(partner), None);
    let (_, headers, _) = stack.post_to(&url, &scoped, ACCOUNTS).await;
    assert_eq!(cache_status(&headers), "miss", "a partner-scoped caller has its own entries");
    assert!(calls.count_and_reset() >= 1);

    let metrics = stack.client().get(url.replace("/graphql", "/metrics")).send().await.unwrap().text().await.unwrap();
    let counted = |result: &str| {
        metrics.lines().any(|line| {
            line.starts_with("atrium_response_cache_lookups_total{")
                && line.contains("kind=\"response\"")
                && line.contains(&format!("result=\"{result}\""))
        })
    };
    assert!(counted("hit") && counted("miss"), "hits and misses are counted:\n{metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cache_control_follows_the_hints_over_get_and_post() {
    let Some(stack) = Stack::start(Backend::Sqlite).await else { return };
    let token = stack.token("ridgeline", &["csm"]);

    let (code, headers, body) = stack.get(&stack.gateway_url, &token, "query=%7B+tenant+%7B+name+%7D+%7D").await;
    assert_eq!(code, 200, "{body:#}");
    assert_eq!(header(&headers, "cache-control"), "private, max-age=300");
    assert_eq!(header(&headers, "vary"), "authorization");

    let admin = stack.token("ridgeline", &["tenant_admin"]);
    let (_, headers, body) = stack.post_to(&stack.gateway_url, &admin, "{ auditLog(first: 1) { nodes { id } } }").await;
    assert!(body.get("errors").is_none(), "{body:#}");
    assert_eq!(header(&headers, "cache-control"), "no-store", "an unhinted root field is never cached");
    assert_eq!(cache_status(&headers), "bypass");

    let (_, headers, body) = stack.post_to(&stack.gateway_url, &token, "{ tenant { nope } }").await;
    assert!(body.get("errors").is_some());
    assert_eq!(header(&headers, "cache-control"), "no-store", "errors are never cacheable");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_change_invalidates_the_answers_that_depend_on_tickets_only() {
    let Some(stack) = Stack::start(Backend::Sqlite).await else { return };
    let url = stack.gateway_url.clone();
    let agent = stack.token("ridgeline", &["support_agent"]);
    let ticket = open_ticket_id(&stack, &agent).await;

    assert_eq!(ticket_status(&stack, &url, &agent, &ticket).await, ("OPEN".to_owned(), "miss".to_owned()));
    assert_eq!(ticket_status(&stack, &url, &agent, &ticket).await, ("OPEN".to_owned(), "hit".to_owned()));
    let (_, headers, _) = stack.post_to(&url, &agent, TENANT).await;
    assert_eq!(cache_status(&headers), "miss");
    let helix_agent = stack.token("helix", &["support_agent"]);
    let helix_ticket = open_ticket_id(&stack, &helix_agent).await;
    assert_eq!(ticket_status(&stack, &url, &helix_agent, &helix_ticket).await.1, "miss");

    change_status(&stack, &url, &agent, &ticket, "PENDING").await;
    let served = eventually_status(&stack, &url, &agent, &ticket, "PENDING").await;
    assert_eq!(served, "miss", "the fresh answer was computed, not served stale");
    assert_eq!(ticket_status(&stack, &url, &agent, &ticket).await.1, "hit", "and is cached again");

    let (_, headers, _) = stack.post_to(&url, &agent, TENANT).await;
    assert_eq!(cache_status(&headers), "hit", "answers without tickets survive a ticket change");
    assert_eq!(ticket_status(&stack, &url, &helix_agent, &helix_ticket).await.1, "hit", "other tenants' too");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_sharing_redis_share_answers_and_invalidations() {
    let Some(redis_url) = atrium_kit::testing::redis_url().await else { return };
    let prefix = unique_prefix();
    let shared = |config: &mut atrium_gateway::config::Config| {
        config.redis.url = Some(redis_url.clone());
        config.redis.key_prefix = prefix.clone();
    };
    let Some(stack) = Stack::start_with(Backend::Sqlite, shared).await else { return };
    let replica = stack.start_gateway(shared).await;
    let agent = stack.token("ridgeline", &["support_agent"]);
    let ticket = open_ticket_id(&stack, &agent).await;

    assert_eq!(ticket_status(&stack, &replica, &agent, &ticket).await.1, "miss");
    assert_eq!(ticket_status(&stack, &stack.gateway_url, &agent, &ticket).await.1, "hit", "one shared cache");

    // The change event reaches the first gateway only; the replica learns it through Redis.
    change_status(&stack, &stack.gateway_url, &agent, &ticket, "PENDING").await;
    eventually_status(&stack, &replica, &agent, &ticket, "PENDING").await;
}

/// `[redis] key_prefix` separates deployments sharing one Redis: a gateway under another
/// prefix finds none of the first one's answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateways_under_different_redis_key_prefixes_share_nothing() {
    let Some(redis_url) = atrium_kit::testing::redis_url().await else { return };
    let under = |prefix: String| {
        let redis_url = redis_url.clone();
        move |config: &mut atrium_gateway::config::Config| {
            config.redis.url = Some(redis_url);
            config.redis.key_prefix = prefix;
        }
    };
    let Some(stack) = Stack::start_with(Backend::Sqlite, under(unique_prefix())).await else { return };
    let agent = stack.token("ridgeline", &["support_agent"]);
    let ticket = open_ticket_id(&stack, &agent).await;
    assert_eq!(ticket_status(&stack, &stack.gateway_url, &agent, &ticket).await.1, "miss");
    assert_eq!(ticket_status(&stack, &stack.gateway_url, &agent, &ticket).await.1, "hit");

    let other_deployment = stack.start_gateway(under(unique_prefix())).await;
    assert_eq!(
        ticket_status(&stack, &other_deployment, &agent, &ticket).await.1,
        "miss",
        "another prefix, another cache"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn change_batches_without_a_valid_signature_are_refused() {
    let Some(stack) = Stack::start(Backend::Sqlite).await else { return };
    let agent = stack.token("ridgeline", &["support_agent"]);
    let ticket = open_ticket_id(&stack, &agent).await;
    ticket_status(&stack, &stack.gateway_url, &agent, &ticket).await;

    let batch = json!({ "events": [{
        "id": uuid::Uuid::now_v7(), "tenantId": atrium_kit::demo::tenant_id("ridgeline"), "service": "support",
        "entityType": "Ticket", "entityId": ticket, "change": "updated", "occurredAt": chrono::Utc::now(),
    }] });
    let endpoint = stack.gateway_url.replace("/graphql", atrium_kit::changes::CHANGES_PATH);
    let body = serde_json::to_vec(&batch).unwrap();
    let forged_key = atrium_kit::ContextKey { id: "dev-1".into(), secret: "not-the-shared-secret".into() };
    for signature in [None, Some(atrium_kit::changes::sign_batch(&forged_key, &body, chrono::Utc::now()))] {
        let mut request = stack.client().post(&endpoint).header("content-type", "application/json").body(body.clone());
        if let Some(signature) = signature {
            request = request.header(atrium_kit::changes::SIGNATURE_HEADER, signature);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), 401);
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    }
    assert_eq!(ticket_status(&stack, &stack.gateway_url, &agent, &ticket).await.1, "hit", "nothing was invalidated");

    let signed = atrium_kit::changes::sign_batch(&atrium_kit::ContextKey::development(), &body, chrono::Utc::now());
    let response = stack
        .client()
        .post(&endpoint)
        .header("content-type", "application/json")
        .header(atrium_kit::changes::SIGNATURE_HEADER, signed)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 204);
    assert_eq!(ticket_status(&stack, &stack.gateway_url, &agent, &ticket).await.1, "miss", "a signed batch applies");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entities_fetched_for_one_query_are_reused_by_another_within_the_same_scope() {
    let Some(stack) = Stack::start(Backend::Sqlite).await else { return };
    let (proxies, calls) = stack.recording_proxies().await;
    let url = stack.start_gateway(|config| config.subgraph_urls = proxies).await;
    let list = "{ customerAccounts(first: 3) { nodes { id name health { score band } } } }";
    let one = "query($id: ID!) { customerAccount(id: $id) { name health { score band } } }";
    let to_analytics =
        |calls: &[(String, String)]| calls.iter().filter(|(subgraph, _)| subgraph == "analytics").count();

    let csm = stack.token("ridgeline", &["csm"]);
    let (_, _, listed) = stack.post_to(&url, &csm, list).await;
    assert!(listed.get("errors").is_none(), "{listed:#}");
    assert_eq!(to_analytics(&calls.take()), 1, "the list computes health in analytics");
    let account = &listed["data"]["customerAccounts"]["nodes"][1];

    let single = json!({ "query": one, "variables": { "id": account["id"] } });
    let (_, headers, body) = stack.post_json(&url, &stack.token("ridgeline", &["csm"]), single.clone()).await;
    assert_eq!(cache_status(&headers), "miss", "another operation: no whole-answer hit");
    assert_eq!(to_analytics(&calls.take()), 0, "its health entity was fetched by the list already");
    assert_eq!(body["data"]["customerAccount"]["health"], account["health"], "{body:#}");

    let (_, _, body) = stack.post_json(&url, &stack.token("ridgeline", &["finance"]), single).await;
    assert_eq!(to_analytics(&calls.take()), 1, "another role fetches its own entities");
    assert_eq!(body["data"]["customerAccount"]["health"], account["health"], "{body:#}");
}
