//! Second-level scopes end to end (docs/domain.md#second-level-scopes): through the gateway a partner user
//! sees only its channel partner's customers and their invoices, tickets, engagements and
//! health; a customer-portal user only its own account; on PostgreSQL the same rows are
//! the only ones the runtime role sees with nothing but the scope settings (RLS alone).

use atrium_kit::demo;
use atrium_system_tests::{Backend, Stack};
use sea_orm::{ConnectionTrait, Database, DatabaseBackend, Statement, TransactionTrait};
use serde_json::{Value, json};
use uuid::Uuid;

const FJORD_CUSTOMERS: [&str; 2] = ["Nordlys Shipping AS", "Bergen Fisk Eksport"];

const PORTAL: &str = "{ customerAccounts(first: 100) { nodes { id name \
    engagements { nodes { id milestones { name } } } invoices { nodes { number } } \
    tickets { nodes { id } } health { band } } } \
    invoices(first: 100) { nodes { customerAccount { name } } } \
    tickets(first: 100) { nodes { customerAccount { name } } } \
    engagements(first: 100) { nodes { customerAccount { name } } } }";

fn helix() -> &'static demo::DemoTenant {
    demo::tenant_by_slug("helix").expect("helix")
}

fn fjord() -> Uuid {
    demo::partner_id(helix(), 0)
}

/// Bodegas Castilla SL, sold by Castellan IT (not Fjord).
fn bodegas() -> Uuid {
    demo::customer_id(helix(), 2)
}

async fn clean_data(stack: &Stack, token: &str, query: &str) -> Value {
    let body = stack.query(token, query).await;
    assert!(body.get("errors").is_none(), "{body:#}");
    body["data"].clone()
}

fn names(connection: &Value) -> Vec<String> {
    connection["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|node| node["name"].as_str().expect("name").to_owned())
        .collect()
}

/// Customer names of a root list whose nodes carry `customerAccount { name }`.
fn owners(connection: &Value) -> Vec<String> {
    connection["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|node| node["customerAccount"]["name"].as_str().expect("customer name").to_owned())
        .collect()
}

/// The portal nodes of the named customers, as the unscoped CSM sees them.
fn nodes_of(portal: &Value, customers: &[&str]) -> Vec<Value> {
    portal["customerAccounts"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter(|node| customers.contains(&node["name"].as_str().unwrap_or_default()))
        .cloned()
        .collect()
}

async fn scoped_users_see_only_their_own_customers(backend: Backend) {
    let Some(stack) = Stack::start(backend).await else { return };
    let csm = clean_data(&stack, &stack.token("helix", &["csm"]), PORTAL).await;
    let partner_token = stack.scoped_token("helix", "partner_user", Some(fjord()), None);
    let partner = clean_data(&stack, &partner_token, PORTAL).await;

    // The root list and every nested list are exactly Fjord's customers' share of what the
    // tenant-wide CSM sees: nothing of another partner's customers, nothing missing.
    assert_eq!(names(&partner["customerAccounts"]), FJORD_CUSTOMERS);
    assert_eq!(partner["customerAccounts"]["nodes"].as_array().expect("nodes"), &nodes_of(&csm, &FJORD_CUSTOMERS));
    for node in partner["customerAccounts"]["nodes"].as_array().expect("nodes") {
        for list in ["engagements", "invoices", "tickets"] {
            assert!(!node[list]["nodes"].as_array().expect(list).is_empty(), "{list} of {node:#}");
        }
    }
    for list in ["invoices", "tickets", "engagements"] {
        let seen = owners(&partner[list]);
        let expected = owners(&csm[list]).into_iter().filter(|name| FJORD_CUSTOMERS.contains(&name.as_str()));
        assert_eq!(seen, expected.collect::<Vec<_>>(), "root {list}");
        assert!(!seen.is_empty() && seen.len() < owners(&csm[list]).len(), "root {list}: {seen:?}");
    }

    let other_partners_customer =
        format!("{{ customerAccount(id: \"{}\") {{ name invoices {{ nodes {{ number }} }} }} }}", bodegas());
    assert_eq!(clean_data(&stack, &partner_token, &other_partners_customer).await["customerAccount"], json!(null));
    assert_eq!(
        clean_data(&stack, &stack.token("helix", &["csm"]), &other_partners_customer).await["customerAccount"]["name"],
        "Bodegas Castilla SL"
    );

    let customer_token = stack.scoped_token("helix", "customer_user", None, Some(bodegas()));
    let customer = clean_data(&stack, &customer_token, PORTAL).await;
    assert_eq!(names(&customer["customerAccounts"]), ["Bodegas Castilla SL"]);
    assert_eq!(
        customer["customerAccounts"]["nodes"].as_array().expect("nodes"),
        &nodes_of(&csm, &["Bodegas Castilla SL"])
    );
    for list in ["invoices", "tickets", "engagements"] {
        let seen = owners(&customer[list]);
        assert!(!seen.is_empty() && seen.iter().all(|name| name == "Bodegas Castilla SL"), "root {list}: {seen:?}");
    }
    let nordlys = format!("{{ customerAccount(id: \"{}\") {{ name }} }}", demo::customer_id(helix(), 0));
    assert_eq!(clean_data(&stack, &customer_token, &nordlys).await["customerAccount"], json!(null));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partner_and_customer_users_see_only_their_own_customers_on_sqlite() {
    scoped_users_see_only_their_own_customers(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partner_and_customer_users_see_only_their_own_customers_on_postgres() {
    scoped_users_see_only_their_own_customers(Backend::Postgres).await;
}

async fn count(connection: &impl ConnectionTrait, sql: &str) -> i64 {
    let row = connection
        .query_one_raw(Statement::from_string(DatabaseBackend::Postgres, sql))
        .await
        .expect("count query")
        .expect("one row");
    row.try_get::<i64>("", "n").expect("n column")
}

/// `(service, table, owner-side predicate selecting the rows of the scoped customers)`;
/// `{customers}` is replaced by the quoted customer ids.
const SCOPED_TABLES: &[(&str, &str, &str)] = &[
    ("finance", "customer_accounts", "id IN ({customers})"),
    ("finance", "contracts", "customer_account_id IN ({customers})"),
    ("finance", "subscriptions", "customer_account_id IN ({customers})"),
    ("finance", "invoices", "customer_account_id IN ({customers})"),
    ("finance", "mrr_movements", "customer_account_id IN ({customers})"),
    (
        "finance",
        "subscription_items",
        "subscription_id IN (SELECT s.id FROM subscriptions s WHERE s.tenant_id = subscription_items.tenant_id \
         AND s.customer_account_id IN ({customers}))",
    ),
    (
        "finance",
        "disputes",
        "invoice_id IN (SELECT i.id FROM invoices i WHERE i.tenant_id = disputes.tenant_id \
         AND i.customer_account_id IN ({customers}))",
    ),
    ("support", "tickets", "customer_account_id IN ({customers})"),
    ("delivery", "engagements", "customer_account_id IN ({customers})"),
    (
        "delivery",
        "milestones",
        "engagement_id IN (SELECT e.id FROM engagements e WHERE e.tenant_id = milestones.tenant_id \
         AND e.customer_account_id IN ({customers}))",
    ),
    ("analytics", "customer_signals", "customer_account_id IN ({customers})"),
];

/// Counts `table` as the runtime role with the helix tenant and `settings` set
/// transaction-locally, and as the owner restricted to `customers`; both must agree.
async fn assert_rls_alone_shows_exactly(stack: &Stack, settings: &[(&str, Uuid)], customers: &[Uuid]) {
    let tenant = demo::tenant_id("helix");
    // `IN (NULL)` matches nothing, which is what an empty customer list means.
    let quoted = if customers.is_empty() {
        "NULL".to_owned()
    } else {
        customers.iter().map(|id| format!("'{id}'")).collect::<Vec<_>>().join(", ")
    };
    for (service, table, predicate) in SCOPED_TABLES {
        let (_, database) = stack.databases.iter().find(|(name, _)| name == service).expect("service database");
        let owner = Database::connect(&database.owner_url).await.expect("owner connects");
        let predicate = predicate.replace("{customers}", &quoted);
        let expected =
            count(&owner, &format!("SELECT count(*) AS n FROM {table} WHERE tenant_id = '{tenant}' AND {predicate}"))
                .await;
        let tenant_rows =
            count(&owner, &format!("SELECT count(*) AS n FROM {table} WHERE tenant_id = '{tenant}'")).await;

        let runtime = Database::connect(&database.runtime_url).await.expect("runtime connects");
        let tx = runtime.begin().await.expect("begin");
        tx.execute_unprepared(&format!("SELECT set_config('app.tenant_id', '{tenant}', true)")).await.expect("tenant");
        let unscoped = count(&tx, &format!("SELECT count(*) AS n FROM {table}")).await;
        assert_eq!(unscoped, tenant_rows, "{service}.{table}: a tenant user without scopes must see every row");
        for (setting, value) in settings {
            tx.execute_unprepared(&format!("SELECT set_config('{setting}', '{value}', true)")).await.expect("scope");
        }
        // No WHERE clause: only the policies decide.
        let visible = count(&tx, &format!("SELECT count(*) AS n FROM {table}")).await;
        tx.rollback().await.expect("rollback");
        assert_eq!(visible, expected, "{service}.{table} under {settings:?}");
        if *table != "disputes" && !customers.is_empty() {
            assert!(expected > 0 && expected < tenant_rows, "{service}.{table}: {expected} of {tenant_rows} rows");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row_level_security_alone_narrows_the_runtime_role_to_the_scoped_rows() {
    let Some(stack) = Stack::start(Backend::Postgres).await else { return };
    let fjord_customers = [demo::customer_id(helix(), 0), demo::customer_id(helix(), 1)];
    assert_rls_alone_shows_exactly(&stack, &[("app.channel_partner_id", fjord())], &fjord_customers).await;
    assert_rls_alone_shows_exactly(&stack, &[("app.customer_account_id", bodegas())], &[bodegas()]).await;
    // Both scopes must hold: Fjord's partner user naming another partner's customer sees nothing.
    assert_rls_alone_shows_exactly(
        &stack,
        &[("app.channel_partner_id", fjord()), ("app.customer_account_id", bodegas())],
        &[],
    )
    .await;
}
