//! The customer journey and automation tables (docs/domain.md#analytics): the command
//! tables (audit log, outbox, idempotency) analytics writes through as an event consumer,
//! `lifecycle_events` (the timeline, one row per source event), `customer_lifecycles`
//! (the current stage), the `rm_engagements` read model the stage rules read, and
//! `automation_rules` / `automation_runs`. Every table is under tenant RLS. Customer data
//! carries the customer and its channel partner for the second-level scopes; rules and
//! runs are tenant configuration that scoped users never see (a scope without a matching
//! column hides every row).

use atrium_kit::{
    command,
    rls::{self, SecondLevelScope},
};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const LIFECYCLE_EVENTS: &str = "lifecycle_events";
const CUSTOMER_LIFECYCLES: &str = "customer_lifecycles";
const RM_ENGAGEMENTS: &str = "rm_engagements";
const AUTOMATION_RULES: &str = "automation_rules";
const AUTOMATION_RUNS: &str = "automation_runs";

const CUSTOMER_SCOPE: SecondLevelScope<'static> =
    SecondLevelScope::Columns { partner: Some("channel_partner_id"), customer: Some("customer_account_id") };
const CONFIGURATION_SCOPE: SecondLevelScope<'static> = SecondLevelScope::Columns { partner: None, customer: None };

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        command::create_command_tables(manager).await?;

        manager
            .create_table(
                Table::create()
                    .table(LIFECYCLE_EVENTS)
                    .col(ColumnDef::new("tenant_id").uuid().not_null())
                    .col(ColumnDef::new("id").uuid().not_null())
                    .col(ColumnDef::new("customer_account_id").uuid().not_null())
                    .col(ColumnDef::new("channel_partner_id").uuid().null())
                    .col(ColumnDef::new("type").string().not_null())
                    .col(ColumnDef::new("occurred_at").timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new("source_service").string().not_null())
                    .col(ColumnDef::new("source_event_id").uuid().not_null())
                    .col(ColumnDef::new("payload").text().not_null())
                    .primary_key(Index::create().col("tenant_id").col("id"))
                    .to_owned(),
            )
            .await?;
        // A re-delivered source event must not append twice.
        unique_index(manager, LIFECYCLE_EVENTS, "lifecycle_events_per_source_event", &["tenant_id", "source_event_id"])
            .await?;
        index(
            manager,
            LIFECYCLE_EVENTS,
            "lifecycle_events_per_customer",
            &["tenant_id", "customer_account_id", "occurred_at"],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(CUSTOMER_LIFECYCLES)
                    .col(ColumnDef::new("tenant_id").uuid().not_null())
                    .col(ColumnDef::new("customer_account_id").uuid().not_null())
                    .col(ColumnDef::new("channel_partner_id").uuid().null())
                    .col(ColumnDef::new("stage").string().not_null())
                    .col(ColumnDef::new("stage_entered_at").timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new("version").big_integer().not_null().default(1))
                    .primary_key(Index::create().col("tenant_id").col("customer_account_id"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RM_ENGAGEMENTS)
                    .col(ColumnDef::new("tenant_id").uuid().not_null())
                    .col(ColumnDef::new("engagement_id").uuid().not_null())
                    .col(ColumnDef::new("customer_account_id").uuid().not_null())
                    .col(ColumnDef::new("channel_partner_id").uuid().null())
                    .col(ColumnDef::new("status").string().not_null())
                    .col(ColumnDef::new("updated_at").timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new("subject_version").big_integer().not_null())
                    .primary_key(Index::create().col("tenant_id").col("engagement_id"))
                    .to_owned(),
            )
            .await?;
        index(manager, RM_ENGAGEMENTS, "rm_engagements_per_customer", &["tenant_id", "customer_account_id"]).await?;

        manager
            .create_table(
                Table::create()
                    .table(AUTOMATION_RULES)
                    .col(ColumnDef::new("tenant_id").uuid().not_null())
                    .col(ColumnDef::new("id").uuid().not_null())
                    .col(ColumnDef::new("code").string().not_null())
                    .col(ColumnDef::new("name").string().not_null())
                    .col(ColumnDef::new("trigger").text().not_null())
                    .col(ColumnDef::new("condition").text().not_null())
                    .col(ColumnDef::new("actions").text().not_null())
                    .col(ColumnDef::new("cooldown_hours").integer().not_null().default(0))
                    .col(ColumnDef::new("enabled").boolean().not_null())
                    .col(ColumnDef::new("version").big_integer().not_null().default(1))
                    .primary_key(Index::create().col("tenant_id").col("id"))
                    .to_owned(),
            )
            .await?;
        unique_index(manager, AUTOMATION_RULES, "automation_rules_code_per_tenant", &["tenant_id", "code"]).await?;

        manager
            .create_table(
                Table::create()
                    .table(AUTOMATION_RUNS)
                    .col(ColumnDef::new("tenant_id").uuid().not_null())
                    .col(ColumnDef::new("id").uuid().not_null())
                    .col(ColumnDef::new("rule_id").uuid().not_null())
                    .col(ColumnDef::new("rule_version").big_integer().not_null())
                    .col(ColumnDef::new("subject_type").string().not_null())
                    .col(ColumnDef::new("subject_id").uuid().not_null())
                    // Null for scheduled triggers.
                    .col(ColumnDef::new("triggered_by_event_id").uuid().null())
                    .col(ColumnDef::new("started_at").timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new("finished_at").timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new("outcome").string().not_null().check(Expr::cust(
                        "outcome IN ('skipped_condition', 'skipped_cooldown', 'succeeded', 'failed')",
                    )))
                    .col(ColumnDef::new("actions_result").text().not_null())
                    .primary_key(Index::create().col("tenant_id").col("id"))
                    .to_owned(),
            )
            .await?;
        // At-least-once delivery of a trigger runs a rule once.
        unique_index(
            manager,
            AUTOMATION_RUNS,
            "automation_runs_per_trigger_event",
            &["tenant_id", "rule_id", "triggered_by_event_id"],
        )
        .await?;
        // The cooldown looks up the rule's latest run for a subject.
        index(manager, AUTOMATION_RUNS, "automation_runs_per_subject", &["tenant_id", "rule_id", "subject_id"]).await?;

        for table in [LIFECYCLE_EVENTS, CUSTOMER_LIFECYCLES, RM_ENGAGEMENTS] {
            rls::enable_tenant_isolation(manager, table).await?;
            rls::enable_second_level_scopes(manager, table, CUSTOMER_SCOPE).await?;
        }
        for table in [AUTOMATION_RULES, AUTOMATION_RUNS] {
            rls::enable_tenant_isolation(manager, table).await?;
            rls::enable_second_level_scopes(manager, table, CONFIGURATION_SCOPE).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [AUTOMATION_RUNS, AUTOMATION_RULES, RM_ENGAGEMENTS, CUSTOMER_LIFECYCLES, LIFECYCLE_EVENTS] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

async fn index(
    manager: &SchemaManager<'_>,
    table: &'static str,
    name: &str,
    columns: &[&'static str],
) -> Result<(), DbErr> {
    create_index(manager, table, name, columns, false).await
}

async fn unique_index(
    manager: &SchemaManager<'_>,
    table: &'static str,
    name: &str,
    columns: &[&'static str],
) -> Result<(), DbErr> {
    create_index(manager, table, name, columns, true).await
}

async fn create_index(
    manager: &SchemaManager<'_>,
    table: &'static str,
    name: &str,
    columns: &[&'static str],
    unique: bool,
) -> Result<(), DbErr> {
    let mut index = Index::create().name(name).table(table).to_owned();
    if unique {
        index.unique();
    }
    for column in columns {
        index.col(*column);
    }
    manager.create_index(index).await
}
