//! PostgreSQL row-level security, checked on the real databases of all five services:
//! every tenant table has RLS enabled and forced with a policy, the runtime role cannot
//! bypass it, and cross-tenant reads and writes are denied.

use atrium_kit::{demo, rls::RUNTIME_ROLE};
use atrium_system_tests::{Backend, Stack};
use sea_orm::{ConnectionTrait, Database, DatabaseBackend, Statement, TransactionTrait};

const TABLES_LACKING_RLS: &str = "
    SELECT c.relname::text AS name
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
      AND (NOT c.relrowsecurity OR NOT c.relforcerowsecurity
           OR NOT EXISTS (SELECT 1 FROM pg_policies p WHERE p.schemaname = 'public' AND p.tablename = c.relname))";

const TENANT_TABLES: &str = "
    SELECT c.relname::text AS name
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1";

async fn names(connection: &impl ConnectionTrait, sql: &str) -> Vec<String> {
    connection
        .query_all_raw(Statement::from_string(DatabaseBackend::Postgres, sql))
        .await
        .expect("catalog query")
        .into_iter()
        .map(|row| row.try_get::<String>("", "name").expect("name column"))
        .collect()
}

async fn count(connection: &impl ConnectionTrait, sql: &str) -> i64 {
    let row = connection
        .query_one_raw(Statement::from_string(DatabaseBackend::Postgres, sql))
        .await
        .expect("count query")
        .expect("one row");
    row.try_get::<i64>("", "n").expect("n column")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_tenant_table_of_every_service_has_forced_rls_and_the_runtime_role_sees_nothing_without_a_tenant() {
    let Some(stack) = Stack::start(Backend::Postgres).await else { return };
    for (service, database) in &stack.databases {
        let owner = Database::connect(&database.owner_url).await.expect("owner connects");
        let tables = names(&owner, TENANT_TABLES).await;
        assert!(!tables.is_empty(), "{service} has no tenant tables");
        let lacking = names(&owner, TABLES_LACKING_RLS).await;
        assert!(lacking.is_empty(), "{service}: tenant tables without forced RLS and a policy: {lacking:?}");

        // Seeded rows exist, yet the runtime role with no tenant set sees none of them.
        let runtime = Database::connect(&database.runtime_url).await.expect("runtime connects");
        for table in &tables {
            let owner_rows = count(&owner, &format!("SELECT count(*) AS n FROM \"{table}\"")).await;
            let visible = count(&runtime, &format!("SELECT count(*) AS n FROM \"{table}\"")).await;
            assert_eq!(visible, 0, "{service}.{table}: {visible} of {owner_rows} rows visible without a tenant");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_runtime_role_can_neither_bypass_rls_nor_act_as_superuser() {
    let Some(stack) = Stack::start(Backend::Postgres).await else { return };
    let (_, database) = &stack.databases[0];
    let owner = Database::connect(&database.owner_url).await.expect("owner connects");
    let flags = count(
        &owner,
        &format!(
            "SELECT (rolsuper::int + rolbypassrls::int)::bigint AS n FROM pg_roles WHERE rolname = '{RUNTIME_ROLE}'"
        ),
    )
    .await;
    assert_eq!(flags, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_tenant_select_update_delete_and_insert_are_denied_and_nothing_leaks_on_a_reused_connection() {
    let Some(stack) = Stack::start(Backend::Postgres).await else { return };
    let (_, catalog) = stack.databases.iter().find(|(name, _)| *name == "catalog").expect("catalog database");
    let ridgeline = demo::tenant_id("ridgeline");
    let helix = demo::tenant_id("helix");
    // One connection, so the reuse check really reuses the connection that had a tenant.
    let mut options = sea_orm::ConnectOptions::new(catalog.runtime_url.clone());
    options.max_connections(1).min_connections(1);
    let runtime = Database::connect(options).await.expect("runtime connects");

    let tx = runtime.begin().await.unwrap();
    tx.execute_unprepared(&format!("SELECT set_config('app.tenant_id', '{ridgeline}', true)")).await.unwrap();
    let own = count(&tx, "SELECT count(*) AS n FROM service_packages").await;
    assert_eq!(own, demo::tenant_by_slug("ridgeline").unwrap().packages.len() as i64);
    let foreign = count(&tx, &format!("SELECT count(*) AS n FROM service_packages WHERE tenant_id = '{helix}'")).await;
    assert_eq!(foreign, 0, "select of another tenant's rows");
    let updated = tx
        .execute_unprepared(&format!("UPDATE service_packages SET name = 'hijacked' WHERE tenant_id = '{helix}'"))
        .await
        .unwrap();
    assert_eq!(updated.rows_affected(), 0, "update of another tenant's rows");
    let deleted =
        tx.execute_unprepared(&format!("DELETE FROM service_packages WHERE tenant_id = '{helix}'")).await.unwrap();
    assert_eq!(deleted.rows_affected(), 0, "delete of another tenant's rows");
    tx.commit().await.unwrap();

    let tx = runtime.begin().await.unwrap();
    tx.execute_unprepared(&format!("SELECT set_config('app.tenant_id', '{ridgeline}', true)")).await.unwrap();
    let insert = tx
        .execute_unprepared(&format!(
            "INSERT INTO service_packages (tenant_id, id, code, name, category, billing_model, unit, list_price, \
             currency, is_recurring, support_tier, status) VALUES ('{helix}', gen_random_uuid(), 'X', 'x', \
             'advisory', 'fixed_fee', 'project', 1, 'USD', false, 'none', 'draft')"
        ))
        .await;
    assert!(insert.is_err(), "insert of a row for another tenant must violate the policy");
    tx.rollback().await.unwrap();

    // The tenant was set transaction-locally: the same pooled connection now sees nothing.
    let after = count(&runtime, "SELECT count(*) AS n FROM service_packages").await;
    assert_eq!(after, 0, "tenant setting leaked onto the reused connection");

    let owner = Database::connect(&catalog.owner_url).await.expect("owner connects");
    let untouched = count(
        &owner,
        &format!("SELECT count(*) AS n FROM service_packages WHERE tenant_id = '{helix}' AND name <> 'hijacked'"),
    )
    .await;
    assert_eq!(untouched, demo::tenant_by_slug("helix").unwrap().packages.len() as i64);
}
