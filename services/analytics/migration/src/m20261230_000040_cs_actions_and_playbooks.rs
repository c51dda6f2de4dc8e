//! The automation engine's tables (docs/domain.md#cs-actions-and-playbooks,
//! docs/domain.md#automation-rules): `playbooks` (tenant configuration: steps with owner
//! roles and due offsets), `cs_actions` and their `cs_action_steps` (customer data, under
//! the second-level scopes like the rest of a customer's rows), `notifications` (in-app
//! messages by recipient role; tenant configuration that scoped users never see), and the
//! columns `automation_runs` gains for scheduled runs and retries: the run's idempotency
//! key, its attempts, when it is retried next and the trigger it re-evaluates; and the
//! scheduler's lease table.

use atrium_kit::{
    rls::{self, SecondLevelScope},
    schedule,
};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const PLAYBOOKS: &str = "playbooks";
const CS_ACTIONS: &str = "cs_actions";
const CS_ACTION_STEPS: &str = "cs_action_steps";
const NOTIFICATIONS: &str = "notifications";
const AUTOMATION_RUNS: &str = "automation_runs";

const CUSTOMER_SCOPE: SecondLevelScope<'static> =
    SecondLevelScope::Columns { partner: Some("channel_partner_id"), customer: Some("customer_account_id") };
const CONFIGURATION_SCOPE: SecondLevelScope<'static> = SecondLevelScope::Columns { partner: None, customer: None };

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Scheduled rules and retries run under the kit's lease (idempotent creation).
        schedule::create_schedule_tables(manager).await?;
        manager
            .create_table(
                Table::create()
                    .table(PLAYBOOKS)
                    .col(ColumnDef::new("tenant_id").uuid().not_null())
                    .col(ColumnDef::new("id").uuid().not_null())
                    .col(ColumnDef::new("code").string().not_null())
                    .col(ColumnDef::new("name").string().not_null())
                    .col(ColumnDef::new("trigger_kind").string().not_null())
                    .col(ColumnDef::new("cs_action_type").string().not_null())
                    .col(ColumnDef::new("steps").text().not_null())
                    .primary_key(Index::create().col("tenant_id").col("id"))
                    .to_owned(),
            )
            .await?;
        create_index(manager, PLAYBOOKS, "playbooks_code_per_tenant", &["tenant_id", "code"], true).await?;

        manager
            .create_table(
                Table::create()
                    .table(CS_ACTIONS)
                    .col(ColumnDef::new("tenant_id").uuid().not_null())
                    .col(ColumnDef::new("id").uuid().not_null())
                    .col(ColumnDef::new("customer_account_id").uuid().not_null())
                    .col(ColumnDef::new("channel_partner_id").uuid().null())
                    .col(ColumnDef::new("playbook_id").uuid().null())
                    .col(ColumnDef::new("type").string().not_null().check(Expr::cust(
                        "type IN ('risk', 'renewal', 'expansion', 'onboarding', 'lifecycle', 'finance')",
                    )))
                    .col(
                        ColumnDef::new("priority")
                            .string()
                            .not_null()
                            .check(Expr::cust("priority IN ('low', 'medium', 'high', 'urgent')")),
                    )
                    .col(ColumnDef::new("owner_role").string().not_null())
                    .col(ColumnDef::new("due_date").date().not_null())
                    .col(ColumnDef::new("status").string().not_null().check(Expr::cust(
                        "status IN ('open', 'in_progress', 'closed_success', 'closed_no_action', 'dismissed')",
                    )))
                    .col(ColumnDef::new("reason").text().not_null())
                    .col(ColumnDef::new("source_rule_id").uuid().null())
                    // `rule_id:subject_id:trigger`: a retried run creates its action once.
                    .col(ColumnDef::new("idempotency_key").string().null())
                    .col(ColumnDef::new("created_at").timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new("closed_at").timestamp_with_time_zone().null())
                    .col(ColumnDef::new("version").big_integer().not_null().default(1))
                    .primary_key(Index::create().col("tenant_id").col("id"))
                    .to_owned(),
            )
            .await?;
        create_index(
            manager,
            CS_ACTIONS,
            "cs_actions_per_customer",
            &["tenant_id", "customer_account_id", "status"],
            false,
        )
        .await?;
        create_index(manager, CS_ACTIONS, "cs_actions_per_key", &["tenant_id", "idempotency_key"], true).await?;

        manager
            .create_table(
                Table::create()
                    .table(CS_ACTION_STEPS)
                    .col(ColumnDef::new("tenant_id").uuid().not_null())
                    .col(ColumnDef::new("id").uuid().not_null())
                    .col(ColumnDef::new("cs_action_id").uuid().not_null())
                    .col(ColumnDef::new("customer_account_id").uuid().not_null())
                    .col(ColumnDef::new("channel_partner_id").uuid().null())
                    .col(ColumnDef::new("ordinal").integer().not_null())
                    .col(ColumnDef::new("title").string().not_null())
                    .col(ColumnDef::new("owner_role").string().not_null())
                    .col(ColumnDef::new("due_date").date().not_null())
                    .col(ColumnDef::new("done").boolean().not_null().default(false))
                    .primary_key(Index::create().col("tenant_id").col("id"))
                    .to_owned(),
            )
            .await?;
        create_index(manager, CS_ACTION_STEPS, "cs_action_steps_per_action", &["tenant_id", "cs_action_id"], false)
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(NOTIFICATIONS)
                    .col(ColumnDef::new("tenant_id").uuid().not_null())
                    .col(ColumnDef::new("id").uuid().not_null())
                    .col(ColumnDef::new("customer_account_id").uuid().null())
                    .col(ColumnDef::new("recipient_role").string().not_null())
                    .col(ColumnDef::new("template").string().not_null())
                    .col(ColumnDef::new("message").text().not_null())
                    .col(ColumnDef::new("source_rule_id").uuid().null())
                    .col(ColumnDef::new("idempotency_key").string().null())
                    .col(ColumnDef::new("created_at").timestamp_with_time_zone().not_null())
                    .primary_key(Index::create().col("tenant_id").col("id"))
                    .to_owned(),
            )
            .await?;
        create_index(manager, NOTIFICATIONS, "notifications_per_key", &["tenant_id", "idempotency_key"], true).await?;

        // One statement per column: SQLite alters one column at a time.
        for column in [
            ColumnDef::new("run_key").string().null().to_owned(),
            ColumnDef::new("attempts").integer().not_null().default(1).to_owned(),
            ColumnDef::new("next_retry_at").timestamp_with_time_zone().null().to_owned(),
            ColumnDef::new("trigger_payload").text().null().to_owned(),
        ] {
            let mut column = column;
            manager.alter_table(Table::alter().table(AUTOMATION_RUNS).add_column(&mut column).to_owned()).await?;
        }
        // A scheduled rule runs once per subject and day; an event rule once per trigger.
        create_index(manager, AUTOMATION_RUNS, "automation_runs_per_key", &["tenant_id", "rule_id", "run_key"], true)
            .await?;
        create_index(manager, AUTOMATION_RUNS, "automation_runs_due_retries", &["tenant_id", "next_retry_at"], false)
            .await?;

        for table in [CS_ACTIONS, CS_ACTION_STEPS] {
            rls::enable_tenant_isolation(manager, table).await?;
            rls::enable_second_level_scopes(manager, table, CUSTOMER_SCOPE).await?;
        }
        for table in [PLAYBOOKS, NOTIFICATIONS] {
            rls::enable_tenant_isolation(manager, table).await?;
            rls::enable_second_level_scopes(manager, table, CONFIGURATION_SCOPE).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [NOTIFICATIONS, CS_ACTION_STEPS, CS_ACTIONS, PLAYBOOKS] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
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
