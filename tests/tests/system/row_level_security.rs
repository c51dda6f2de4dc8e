//! PostgreSQL row-level security, checked on the real databases of all five services.
//!
//! - Coverage: every tenant table has RLS enabled and forced, a permissive policy that
//!   compares `tenant_id` with the transaction-local `app.tenant_id` for reads and writes,
//!   and no permissive policy the runtime role is subject to that lacks that predicate
//!   (policies are OR-ed, so one such policy opens the table).
//! - RLS alone holds: per service, raw SQL without any `WHERE` inside the application's
//!   own `TenantTransaction`, on a one-connection pool, touches only the current tenant's
//!   rows of every tenant table (audit log and outbox included); a row for another tenant
//!   cannot be inserted (the policy violation, SQLSTATE 42501); and after commit the same
//!   pooled connection carries no tenant.
//! - Start-up: a service refuses a runtime role that is a superuser, bypasses RLS or owns
//!   tenant tables.

use atrium_kit::{
    TenantContext, TenantTransaction,
    audit::{self, AuditEvent, AuditOutcome},
    changes::{self, ChangeKind},
    command::{self, Command, Outcome},
    demo,
    events::{DomainEvent, EventConsumer, EventHandler, HandlerError, Subject},
    rls::RUNTIME_ROLE,
    service::{ServiceConfig, SubgraphApplication},
    startup::StartupError,
    testing::{TestDatabase, context_for},
};
use atrium_system_tests::{Backend, Stack};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection, DbErr, RuntimeErr, Statement,
    TransactionTrait,
};
use std::sync::Arc;

use uuid::Uuid;

/// Tenant tables lacking forced RLS or a permissive read-and-write policy on the tenant
/// predicate that applies to the runtime role.
const TABLES_LACKING_TENANT_ISOLATION: &str = "
    SELECT c.relname::text AS name
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
      AND (NOT c.relrowsecurity OR NOT c.relforcerowsecurity
           OR NOT EXISTS (
             SELECT 1 FROM pg_policies p
             WHERE p.schemaname = 'public' AND p.tablename = c.relname
               AND p.permissive = 'PERMISSIVE' AND p.cmd = 'ALL'
               AND p.roles && ARRAY['public', 'atrium_app']::name[]
               AND p.qual ~ 'tenant_id = .*current_setting\\(''app\\.tenant_id'''
               AND p.with_check ~ 'tenant_id = .*current_setting\\(''app\\.tenant_id'''))";

/// Permissive policies on tenant tables that the runtime role is subject to but that do
/// not carry the tenant predicate: each one widens what a tenant transaction may touch.
const POLICIES_WIDER_THAN_THE_TENANT: &str = "
    SELECT p.tablename::text || '.' || p.policyname::text AS name
    FROM pg_policies p
    JOIN pg_class c ON c.relname = p.tablename
    JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = p.schemaname
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
    WHERE p.schemaname = 'public' AND p.permissive = 'PERMISSIVE'
      AND p.roles && ARRAY['public', 'atrium_app']::name[]
      AND NOT (coalesce(p.qual, 'true') ~ 'tenant_id = .*current_setting\\(''app\\.tenant_id'''
               AND coalesce(p.with_check, p.qual, 'true') ~ 'tenant_id = .*current_setting\\(''app\\.tenant_id''')
    ORDER BY 1";

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
        .unwrap_or_else(|error| panic!("{sql}: {error}"))
        .expect("one row");
    row.try_get::<i64>("", "n").expect("n column")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_tenant_table_of_every_service_has_forced_rls_on_the_tenant_predicate_and_no_wider_policy() {
    let Some(stack) = Stack::start(Backend::Postgres).await else { return };
    for (service, database) in &stack.databases {
        let owner = Database::connect(&database.owner_url).await.expect("owner connects");
        let tables = names(&owner, TENANT_TABLES).await;
        assert!(!tables.is_empty(), "{service} has no tenant tables");
        let lacking = names(&owner, TABLES_LACKING_TENANT_ISOLATION).await;
        assert!(lacking.is_empty(), "{service}: tenant tables without forced RLS on the tenant predicate: {lacking:?}");
        let wider = names(&owner, POLICIES_WIDER_THAN_THE_TENANT).await;
        assert!(wider.is_empty(), "{service}: permissive policies without the tenant predicate: {wider:?}");

        // Seeded rows exist, yet the runtime role with no tenant set sees none of them.
        let runtime = Database::connect(&database.runtime_url).await.expect("runtime connects");
        for table in &tables {
            let owner_rows = count(&owner, &format!("SELECT count(*) AS n FROM \"{table}\"")).await;
            let visible = count(&runtime, &format!("SELECT count(*) AS n FROM \"{table}\"")).await;
            assert_eq!(visible, 0, "{service}.{table}: {visible} of {owner_rows} rows visible without a tenant");
        }
    }
}

/// Migrates and seeds `service` on `config` (the real start-up path), without serving.
async fn build_service(service: &str, config: &ServiceConfig) -> Result<SubgraphApplication, StartupError> {
    match service {
        "catalog" => atrium_catalog::startup::build(config).await,
        "delivery" => atrium_delivery::startup::build(config).await,
        "finance" => atrium_finance::startup::build(config).await,
        "support" => atrium_support::startup::build(config).await,
        "analytics" => atrium_analytics::startup::build(config).await,
        other => panic!("unknown service {other}"),
    }
}

/// A migrated, seeded database of `service`; `None` when PostgreSQL is absent outside CI.
async fn seeded_database(service: &str, label: &str) -> Option<TestDatabase> {
    let database = TestDatabase::create(label).await?;
    let config = ServiceConfig::for_tests(database.runtime_url.clone(), Some(database.owner_url.clone()));
    let application = build_service(service, &config).await.unwrap_or_else(|error| panic!("{service}: {error}"));
    drop(application);
    Some(database)
}

/// A runtime pool of exactly one connection, so every transaction reuses the connection
/// the previous one ran on.
async fn one_connection_pool(url: &str) -> DatabaseConnection {
    let mut options = ConnectOptions::new(url.to_owned());
    options.max_connections(1).min_connections(1);
    Database::connect(options).await.expect("runtime connects")
}

/// Audit entries, change events and idempotency records are written on request paths only,
/// so the seed leaves them empty: write some for two tenants the way the application does.
async fn record_audit_entries_and_change_events(runtime: &DatabaseConnection, owner: &DatabaseConnection) {
    let tables = names(owner, TENANT_TABLES).await;
    for slug in ["ridgeline", "helix"] {
        let tx = TenantTransaction::begin(runtime, &context_for(slug, "tenant_admin")).await.expect("begin");
        if tables.iter().any(|table| table == "audit_log") {
            let event = AuditEvent {
                operation: "rlsProbe".to_owned(),
                entity_type: "Ticket".to_owned(),
                entity_ids: vec![Uuid::now_v7()],
                detail: None,
            };
            audit::record(&tx, &event, AuditOutcome::Succeeded).await.expect("audit entry");
        }
        if tables.iter().any(|table| table == changes::OUTBOX_TABLE) {
            changes::record_change(&tx, "probe", "Ticket", &Uuid::now_v7().to_string(), ChangeKind::Updated)
                .await
                .expect("change event");
        }
        tx.commit().await.expect("commit");
        if tables.iter().any(|table| table == command::idempotency::IDEMPOTENCY_TABLE) {
            // An idempotency record, through the command path that writes them.
            let probe = Command {
                operation: "rlsProbe",
                entity_type: "Ticket",
                allowed_roles: &["tenant_admin"],
                target: None,
            };
            let key = Some(format!("rls-probe-{slug}"));
            command::execute_idempotent(runtime, &context_for(slug, "tenant_admin"), probe, key, |_| {
                Box::pin(async {
                    Ok(Outcome { value: (), entity_ids: Vec::new(), detail: "probe".to_owned(), events: Vec::new() })
                })
            })
            .await
            .expect("idempotent command");
        }
        if tables.iter().any(|table| table == "event_inbox") {
            // Inbox, applied version and dead letter, through the consumer that writes them.
            let consumer = EventConsumer::new("probe", runtime.clone(), Arc::new(ProbeHandler));
            let context = context_for(slug, "tenant_admin");
            for poison in [false, true] {
                let subject = Subject { entity_type: "Ticket".to_owned(), id: Uuid::now_v7(), version: 1 };
                let event = DomainEvent::new(&context, "probe.ticket.changed", subject)
                    .with_data(serde_json::json!({ "poison": poison }));
                consumer.process(&event).await.expect("consumed");
            }
        }
    }
}

/// Applies probe events without effect; `data.poison` ones are parked.
struct ProbeHandler;

impl EventHandler for ProbeHandler {
    fn wants(&self, _event_type: &str) -> bool {
        true
    }

    fn handle<'t>(
        &'t self,
        _tx: &'t TenantTransaction,
        event: &'t DomainEvent,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), HandlerError>> + Send + 't>> {
        let poison = event.data["poison"].as_bool().unwrap_or_default();
        Box::pin(async move { if poison { Err(HandlerError::Poison("probe".to_owned())) } else { Ok(()) } })
    }
}

/// The demo seed leaves some tables with one tenant's rows only (one tenant has channel
/// partners, say): the owner copies one of its rows to another tenant, foreign keys
/// switched off for that copy only (the copy's parents need not exist to probe RLS).
async fn give_every_tenant_table_rows_of_two_tenants(owner: &DatabaseConnection) {
    for table in names(owner, TENANT_TABLES).await {
        let tenants = count(owner, &format!("SELECT count(DISTINCT tenant_id) AS n FROM \"{table}\"")).await;
        if tenants >= 2 {
            continue;
        }
        let helix = demo::tenant_id("helix");
        let other =
            if count(owner, &format!("SELECT count(*) AS n FROM \"{table}\" WHERE tenant_id = '{helix}'")).await > 0 {
                demo::tenant_id("veritas")
            } else {
                helix
            };
        let tx = owner.begin().await.expect("begin");
        tx.execute_unprepared("SET LOCAL session_replication_role = replica").await.expect("no triggers");
        tx.execute_unprepared(&format!(
            "INSERT INTO \"{table}\" SELECT (jsonb_populate_record(NULL::\"{table}\", to_jsonb(source) \
             || jsonb_build_object('tenant_id', '{other}'::uuid, 'id', gen_random_uuid()))).* \
             FROM \"{table}\" source LIMIT 1"
        ))
        .await
        .unwrap_or_else(|error| panic!("a second tenant's row in {table}: {error}"));
        tx.commit().await.expect("commit");
    }
}

fn sqlstate(error: &DbErr) -> Option<String> {
    let (DbErr::Exec(RuntimeErr::SqlxError(error)) | DbErr::Query(RuntimeErr::SqlxError(error))) = error else {
        return None;
    };
    Some(error.as_database_error()?.code()?.into_owned())
}

async fn runtime_role_has_privilege(owner: &DatabaseConnection, table: &str, privilege: &str) -> bool {
    let sql =
        format!("SELECT has_table_privilege('{RUNTIME_ROLE}', 'public.\"{table}\"', '{privilege}')::int::bigint AS n");
    count(owner, &sql).await == 1
}

/// The tenant with the most rows in `table` (its rows are visible to its transactions)
/// and another tenant with rows; a table without rows of two tenants proves nothing.
async fn two_tenants_of(owner: &DatabaseConnection, service: &str, table: &str) -> (Uuid, Uuid) {
    let rows = owner
        .query_all_raw(Statement::from_string(
            DatabaseBackend::Postgres,
            format!("SELECT tenant_id FROM \"{table}\" GROUP BY tenant_id ORDER BY count(*) DESC, tenant_id LIMIT 2"),
        ))
        .await
        .expect("tenants of a table");
    let tenants: Vec<Uuid> = rows.iter().map(|row| row.try_get::<Uuid>("", "tenant_id").expect("uuid")).collect();
    match tenants[..] {
        [current, other] => (current, other),
        _ => panic!("{service}.{table} needs rows of two tenants, has {tenants:?}"),
    }
}

fn context_of(tenant_id: Uuid) -> TenantContext {
    TenantContext { tenant_id, ..context_for("ridgeline", "tenant_admin") }
}

async fn rows_of(owner: &DatabaseConnection, table: &str, tenant_id: Uuid) -> i64 {
    count(owner, &format!("SELECT count(*) AS n FROM \"{table}\" WHERE tenant_id = '{tenant_id}'")).await
}

/// SELECT and UPDATE without `WHERE`, and a cross-tenant INSERT, in tenant transactions
/// of the tenant with the most rows in `table`.
async fn assert_a_tenant_transaction_reaches_only_its_rows_of(
    runtime: &DatabaseConnection,
    owner: &DatabaseConnection,
    service: &str,
    table: &str,
) {
    let (current, other) = two_tenants_of(owner, service, table).await;
    let own = rows_of(owner, table, current).await;
    let context = context_of(current);

    let tx = TenantTransaction::begin(runtime, &context).await.expect("begin");
    let visible = count(tx.connection(), &format!("SELECT count(*) AS n FROM \"{table}\"")).await;
    assert_eq!(visible, own, "{service}.{table}: SELECT without WHERE");
    let foreign =
        count(tx.connection(), &format!("SELECT count(*) AS n FROM \"{table}\" WHERE tenant_id <> '{current}'")).await;
    assert_eq!(foreign, 0, "{service}.{table}: another tenant's rows are visible");
    drop(tx);

    let tx = TenantTransaction::begin(runtime, &context).await.expect("begin");
    let update = format!("UPDATE \"{table}\" SET tenant_id = tenant_id");
    let outcome = tx.connection().execute_unprepared(&update).await;
    if runtime_role_has_privilege(owner, table, "UPDATE").await {
        let affected = outcome.unwrap_or_else(|error| panic!("{service}.{table}: {update}: {error}"));
        assert_eq!(affected.rows_affected() as i64, own, "{service}.{table}: UPDATE without WHERE");
    } else {
        let error = outcome.expect_err(&update);
        assert!(error.to_string().contains("permission denied"), "{service}.{table}: {update}: {error}");
    }
    drop(tx);

    // A copy of one of the tenant's own rows, re-addressed to another tenant: the
    // policy's WITH CHECK must refuse it before any constraint is looked at.
    let tx = TenantTransaction::begin(runtime, &context).await.expect("begin");
    let insert = format!(
        "INSERT INTO \"{table}\" SELECT (jsonb_populate_record(NULL::\"{table}\", to_jsonb(source) \
         || jsonb_build_object('tenant_id', '{other}'::uuid, 'id', gen_random_uuid()))).* \
         FROM \"{table}\" source LIMIT 1"
    );
    let error = tx.connection().execute_unprepared(&insert).await.expect_err("a cross-tenant insert");
    assert_eq!(sqlstate(&error).as_deref(), Some("42501"), "{service}.{table}: {error}");
    assert!(
        error.to_string().contains("new row violates row-level security policy"),
        "{service}.{table}: not the RLS violation: {error}"
    );
    drop(tx);
}

/// DELETE without `WHERE` on every tenant table in one transaction of `tenant`, children
/// before parents (a statement refused by a foreign key is retried after the others under
/// a savepoint), then rolled back: each must delete exactly the tenant's own rows, or be
/// refused outright where the runtime role may not delete (the append-only audit log).
async fn assert_deleting_everything_deletes_only_the_rows_of(
    runtime: &DatabaseConnection,
    owner: &DatabaseConnection,
    service: &str,
    tables: &[String],
    tenant: Uuid,
) {
    let tx = TenantTransaction::begin(runtime, &context_of(tenant)).await.expect("begin");
    let connection = tx.connection();
    let mut pending: Vec<&String> = tables.iter().collect();
    while !pending.is_empty() {
        let before = pending.len();
        let mut still_referenced = Vec::new();
        for table in pending {
            // What the tenant still has here (cascades from parents deleted before count).
            let own =
                count(connection, &format!("SELECT count(*) AS n FROM \"{table}\" WHERE tenant_id = '{tenant}'")).await;
            connection.execute_unprepared("SAVEPOINT probe").await.expect("savepoint");
            let outcome = connection.execute_unprepared(&format!("DELETE FROM \"{table}\"")).await;
            match outcome {
                Ok(deleted) => {
                    assert_eq!(deleted.rows_affected() as i64, own, "{service}.{table}: DELETE without WHERE");
                    connection.execute_unprepared("RELEASE SAVEPOINT probe").await.expect("release");
                }
                Err(error) if sqlstate(&error).as_deref() == Some("23503") => {
                    connection.execute_unprepared("ROLLBACK TO SAVEPOINT probe").await.expect("rollback to");
                    still_referenced.push(table);
                }
                Err(error) => {
                    let refused = !runtime_role_has_privilege(owner, table, "DELETE").await;
                    assert!(refused && error.to_string().contains("permission denied"), "{service}.{table}: {error}");
                    connection.execute_unprepared("ROLLBACK TO SAVEPOINT probe").await.expect("rollback to");
                }
            }
        }
        assert!(still_referenced.len() < before, "{service}: no deletion order satisfies {still_referenced:?}");
        pending = still_referenced;
    }
    drop(tx);
}

/// Entitlement usages are written by finance's event consumer only: feed it approved
/// advisory time for a demo grant, as the event runtime does.
async fn record_entitlement_usages(runtime: &DatabaseConnection, owner: &DatabaseConnection) {
    use atrium_kit::events::{DomainEvent, EventHandler, Subject};

    if !names(owner, TENANT_TABLES).await.iter().any(|table| table == "entitlement_usages") {
        return;
    }
    let grants = owner
        .query_all_raw(Statement::from_string(
            DatabaseBackend::Postgres,
            "SELECT DISTINCT ON (tenant_id) tenant_id, customer_account_id, start_date::text AS start_date \
             FROM entitlement_grants ORDER BY tenant_id, id",
        ))
        .await
        .expect("demo grants");
    assert!(!grants.is_empty(), "the demo retainers grant advisory hours");
    let consumer = atrium_finance::events::FinanceEvents::default();
    for grant in grants {
        let tenant: Uuid = grant.try_get("", "tenant_id").expect("tenant");
        let customer: Uuid = grant.try_get("", "customer_account_id").expect("customer");
        let work_date: String = grant.try_get("", "start_date").expect("start date");
        let entry = Uuid::now_v7();
        let approved = DomainEvent::new(
            &TenantContext::automation(tenant, "delivery"),
            "delivery.time_entry.approved",
            Subject { entity_type: "TimeEntry".to_owned(), id: entry, version: 2 },
        )
        .with_ref("customer_account_id", customer)
        .with_data(serde_json::json!({ "time_entry_id": entry, "work_date": work_date, "hours": "1.50",
            "category": "advisory", "billable": true }));
        let context = TenantContext::automation(tenant, "consumer:finance");
        let tx = TenantTransaction::begin(runtime, &context).await.expect("begin");
        consumer.handle(&tx, &approved).await.expect("finance applies the event");
        tx.commit().await.expect("commit");
    }
}

/// Analytics' journey tables and automation runs are written by its event consumer only:
/// feed it a signed contract and an engagement for two tenants, as the event runtime does.
async fn record_customer_journeys(runtime: &DatabaseConnection, owner: &DatabaseConnection) {
    use atrium_kit::events::{DomainEvent, EventHandler, Subject};

    if !names(owner, TENANT_TABLES).await.iter().any(|table| table == "lifecycle_events") {
        return;
    }
    let consumer = atrium_analytics::events::AnalyticsEvents::new();
    for slug in ["ridgeline", "helix"] {
        let tenant = demo::tenant_by_slug(slug).expect("demo tenant");
        let (customer, contract) = (demo::customer_id(tenant, 0), Uuid::now_v7());
        let signed = DomainEvent::new(
            &context_for(slug, "finance"),
            "finance.contract.signed",
            Subject { entity_type: "Contract".to_owned(), id: contract, version: 3 },
        )
        .with_ref("customer_account_id", customer)
        .with_ref("contract_id", contract)
        .with_data(serde_json::json!({ "number": "C-1", "status": "signed", "start_date": "2026-12-07",
            "lines": [{ "contract_line_id": Uuid::now_v7(), "service_package_id": Uuid::now_v7() }] }));
        let created = DomainEvent::new(
            &TenantContext::automation(demo::tenant_id(slug), "automation:A1"),
            "delivery.engagement.created",
            Subject { entity_type: "Engagement".to_owned(), id: Uuid::now_v7(), version: 1 },
        )
        .with_ref("customer_account_id", customer)
        .with_data(serde_json::json!({ "status": "draft" }));
        // A12 starts a playbook (a CS action with steps); A9 opens an action and notifies.
        let band_dropped = DomainEvent::new(
            &TenantContext::automation(demo::tenant_id(slug), "automation:health"),
            "analytics.health.band_changed",
            Subject { entity_type: "CustomerAccount".to_owned(), id: customer, version: 1 },
        )
        .with_ref("customer_account_id", customer)
        .with_data(serde_json::json!({ "from": "yellow", "to": "red", "score": 40 }));
        let aging = DomainEvent::new(
            &context_for(slug, "finance"),
            "finance.invoice.aging_bucket_changed",
            Subject { entity_type: "Invoice".to_owned(), id: Uuid::now_v7(), version: 1 },
        )
        .with_ref("customer_account_id", customer)
        .with_data(serde_json::json!({ "bucket": "61_90", "previous_bucket": "31_60", "days_past_due": 61 }));
        // One event per read model, so each has rows to probe.
        let engagement = Uuid::now_v7();
        let read_model_event = |event_type: &str, subject: &str, data: serde_json::Value| {
            DomainEvent::new(
                &TenantContext::automation(demo::tenant_id(slug), "probe"),
                event_type,
                Subject { entity_type: subject.to_owned(), id: Uuid::now_v7(), version: 1 },
            )
            .with_ref("customer_account_id", customer)
            .with_ref("engagement_id", engagement)
            .with_data(data)
        };
        let read_models = [
            read_model_event("finance.mrr.changed", "MrrMovement", serde_json::json!({ "mrr_delta": "100.00" })),
            read_model_event("delivery.milestone.completed", "Milestone", serde_json::json!({})),
            read_model_event("finance.invoice.issued", "Invoice", serde_json::json!({ "balance_due": "10.00" })),
            read_model_event("support.ticket.created", "Ticket", serde_json::json!({ "priority": "high" })),
            read_model_event("delivery.task.completed", "Task", serde_json::json!({ "kind": "checklist" })),
            read_model_event(
                "delivery.time_entry.approved",
                "TimeEntry",
                serde_json::json!({ "hours": "1.00", "entitlement_grant_id": Uuid::now_v7() }),
            ),
        ];
        for event in [signed, created, band_dropped, aging].into_iter().chain(read_models) {
            let context = TenantContext::automation(event.tenant_id, "consumer:analytics");
            let tx = TenantTransaction::begin(runtime, &context).await.expect("begin");
            consumer.handle(&tx, &event).await.expect("analytics applies the event");
            tx.commit().await.expect("commit");
        }
        let today = chrono::Utc::now().date_naive();
        atrium_analytics::kpi::snapshots::store_snapshots(runtime, demo::tenant_id(slug), today)
            .await
            .expect("KPI snapshots");
    }
}

/// Finance's invoice lines, credit notes, payments and allocations come from requests
/// only, so the seed leaves them empty: give one seeded invoice of ridgeline a line, a
/// credit note and a payment allocated to it, an applied command key, an aging mark and
/// engagement financials (the copy to a second tenant follows).
async fn record_finance_documents(owner: &DatabaseConnection) {
    if !names(owner, TENANT_TABLES).await.iter().any(|table| table == "payment_allocations") {
        return;
    }
    let ridgeline = demo::tenant_id("ridgeline");
    let (invoice, customer, payment) = (
        format!("(SELECT id FROM invoices WHERE tenant_id = '{ridgeline}' ORDER BY id LIMIT 1)"),
        format!("(SELECT customer_account_id FROM invoices WHERE tenant_id = '{ridgeline}' ORDER BY id LIMIT 1)"),
        Uuid::now_v7(),
    );
    for sql in [
        format!(
            "INSERT INTO invoice_lines (tenant_id, id, invoice_id, description, quantity, unit_price, amount, \
             source_type) VALUES ('{ridgeline}', gen_random_uuid(), {invoice}, 'probe', 1, 1, 1, 'fixed')"
        ),
        format!(
            "INSERT INTO credit_notes (tenant_id, id, invoice_id, number, amount, currency, reason, issued_at) \
             VALUES ('{ridgeline}', gen_random_uuid(), {invoice}, 'CN-PROBE', 1, 'USD', 'probe', now())"
        ),
        format!(
            "INSERT INTO payments (tenant_id, id, customer_account_id, received_at, amount, unallocated_amount, \
             currency, method, reference, status) VALUES ('{ridgeline}', '{payment}', {customer}, now(), 1, 0, \
             'USD', 'wire', 'probe', 'succeeded')"
        ),
        format!(
            "INSERT INTO payment_allocations (tenant_id, id, payment_id, invoice_id, amount) \
             VALUES ('{ridgeline}', gen_random_uuid(), '{payment}', {invoice}, 1)"
        ),
        format!(
            "INSERT INTO applied_command_keys (tenant_id, idempotency_key, operation, applied_at) \
             VALUES ('{ridgeline}', 'probe', 'probe', now())"
        ),
        format!(
            "INSERT INTO invoice_aging_marks (tenant_id, invoice_id, bucket, announced_on) \
             VALUES ('{ridgeline}', {invoice}, '1_30', CURRENT_DATE)"
        ),
        format!(
            "INSERT INTO engagement_financials (tenant_id, engagement_id, customer_account_id, currency, updated_at) \
             VALUES ('{ridgeline}', gen_random_uuid(), {customer}, 'USD', now())"
        ),
    ] {
        owner.execute_unprepared(&sql).await.unwrap_or_else(|error| panic!("{sql}: {error}"));
    }
}

async fn assert_rls_alone_confines_a_tenant_transaction(service: &'static str) {
    let Some(database) = seeded_database(service, &format!("rls_alone_{service}")).await else { return };
    let owner = Database::connect(&database.owner_url).await.expect("owner connects");
    let runtime = one_connection_pool(&database.runtime_url).await;
    record_audit_entries_and_change_events(&runtime, &owner).await;
    record_customer_journeys(&runtime, &owner).await;
    record_entitlement_usages(&runtime, &owner).await;
    record_finance_documents(&owner).await;
    give_every_tenant_table_rows_of_two_tenants(&owner).await;
    let ridgeline = demo::tenant_id("ridgeline");
    let ridgeline_context = context_for("ridgeline", "tenant_admin");

    let tables = names(&owner, TENANT_TABLES).await;
    let mut rows_before = Vec::new();
    for table in &tables {
        rows_before.push(count(&owner, &format!("SELECT count(*) AS n FROM \"{table}\"")).await);
        assert_a_tenant_transaction_reaches_only_its_rows_of(&runtime, &owner, service, table).await;
    }
    assert_deleting_everything_deletes_only_the_rows_of(&runtime, &owner, service, &tables, ridgeline).await;

    // Transaction-local settings: after a commit the reused connection has no tenant.
    let tx = TenantTransaction::begin(&runtime, &ridgeline_context).await.expect("begin");
    tx.commit().await.expect("commit");
    let leaked =
        count(&runtime, "SELECT length(coalesce(current_setting('app.tenant_id', true), ''))::bigint AS n").await;
    assert_eq!(leaked, 0, "{service}: the tenant setting survived the commit on the pooled connection");
    for (table, before) in tables.iter().zip(rows_before) {
        let after = count(&runtime, &format!("SELECT count(*) AS n FROM \"{table}\"")).await;
        assert_eq!(after, 0, "{service}.{table}: rows visible on the reused connection after commit");
        let untouched = count(&owner, &format!("SELECT count(*) AS n FROM \"{table}\"")).await;
        assert_eq!(untouched, before, "{service}.{table}: rows changed although every probe rolled back");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rls_alone_confines_a_catalog_tenant_transaction_to_its_tenant() {
    assert_rls_alone_confines_a_tenant_transaction("catalog").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rls_alone_confines_a_delivery_tenant_transaction_to_its_tenant() {
    assert_rls_alone_confines_a_tenant_transaction("delivery").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rls_alone_confines_a_finance_tenant_transaction_to_its_tenant() {
    assert_rls_alone_confines_a_tenant_transaction("finance").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rls_alone_confines_a_support_tenant_transaction_to_its_tenant() {
    assert_rls_alone_confines_a_tenant_transaction("support").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rls_alone_confines_an_analytics_tenant_transaction_to_its_tenant() {
    assert_rls_alone_confines_a_tenant_transaction("analytics").await;
}

/// A login role made for one test, dropped (with what it owns) at the end.
struct TestRole {
    name: String,
}

impl TestRole {
    async fn create(admin: &DatabaseConnection, attributes: &str) -> TestRole {
        let name = format!("atrium_test_role_{}", Uuid::new_v4().simple());
        admin.execute_unprepared(&format!("CREATE ROLE {name} LOGIN {attributes}")).await.expect("create role");
        TestRole { name }
    }

    fn url(&self, database: &TestDatabase) -> String {
        let (_, host_and_database) = database.owner_url.split_once("://").expect("url");
        let host_and_database = host_and_database.rsplit_once('@').map_or(host_and_database, |(_, rest)| rest);
        format!("postgres://{}@{host_and_database}", self.name)
    }

    async fn drop_from(self, database: &DatabaseConnection) {
        for statement in
            [format!("REASSIGN OWNED BY {} TO CURRENT_USER", self.name), format!("DROP OWNED BY {}", self.name)]
        {
            database.execute_unprepared(&statement).await.expect(&statement);
        }
        database.execute_unprepared(&format!("DROP ROLE {}", self.name)).await.expect("drop role");
    }
}

async fn refused_start(runtime_url: String, database: &TestDatabase) -> String {
    let config = ServiceConfig::for_tests(runtime_url, Some(database.owner_url.clone()));
    match build_service("support", &config).await {
        Ok(_) => panic!("the service started on an unsafe runtime role"),
        Err(error) => error.to_string(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_refuses_to_start_when_its_runtime_role_is_a_superuser() {
    let Some(database) = TestDatabase::create("rls_superuser").await else { return };
    let refusal = refused_start(database.owner_url.clone(), &database).await;
    assert!(refusal.contains("superuser"), "{refusal}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_refuses_to_start_when_its_runtime_role_bypasses_rls() {
    let Some(database) = TestDatabase::create("rls_bypass").await else { return };
    let owner = Database::connect(&database.owner_url).await.expect("owner connects");
    let role = TestRole::create(&owner, "NOSUPERUSER BYPASSRLS").await;
    let refusal = refused_start(role.url(&database), &database).await;
    role.drop_from(&owner).await;
    assert!(refusal.contains("BYPASSRLS"), "{refusal}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_refuses_to_start_when_its_runtime_role_owns_tenant_tables() {
    let Some(database) = seeded_database("support", "rls_table_owner").await else { return };
    let owner = Database::connect(&database.owner_url).await.expect("owner connects");
    let role = TestRole::create(&owner, "NOSUPERUSER NOBYPASSRLS").await;
    owner.execute_unprepared(&format!("ALTER TABLE tickets OWNER TO {}", role.name)).await.expect("hand over tickets");
    let refusal = refused_start(role.url(&database), &database).await;
    role.drop_from(&owner).await;
    assert!(refusal.contains("owns") && refusal.contains("tickets"), "{refusal}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_runtime_role_of_the_migrations_can_neither_bypass_rls_nor_act_as_superuser() {
    let Some(database) = seeded_database("catalog", "rls_runtime_role").await else { return };
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
