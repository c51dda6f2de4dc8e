//! Billing schedules (docs/domain.md#billing-schedules): one schedule per billed contract
//! line and its lines, each an exact amount due when its trigger (a delivery milestone
//! completed or accepted, a date) is met. Both tables follow their contract's
//! second-level scope on PostgreSQL (nothing copied to drift).

use atrium_kit::rls::{self, SecondLevelScope};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const SCHEDULES: &str = "billing_schedules";
const LINES: &str = "billing_schedule_lines";

const CONTRACT_SCOPE: SecondLevelScope<'static> =
    SecondLevelScope::Parent { column: "contract_id", parent_table: "contracts" };

fn tenant_foreign_key(table: &'static str, column: &'static str, parent: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("{table}_{column}_fkey"))
        .from(table, ("tenant_id", column))
        .to(parent, ("tenant_id", "id"))
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SCHEDULES)
                    .col(ColumnDef::new("tenant_id").uuid().not_null())
                    .col(ColumnDef::new("id").uuid().not_null())
                    .col(ColumnDef::new("contract_id").uuid().not_null())
                    .col(ColumnDef::new("contract_line_id").uuid().null())
                    // Delivery's engagement: a plain uuid, no foreign key across services.
                    .col(ColumnDef::new("engagement_id").uuid().null())
                    .col(ColumnDef::new("kind").string().not_null())
                    .col(ColumnDef::new("currency").string_len(3).not_null())
                    .primary_key(Index::create().col("tenant_id").col("id"))
                    .foreign_key(&mut tenant_foreign_key(SCHEDULES, "contract_id", "contracts"))
                    .foreign_key(&mut tenant_foreign_key(SCHEDULES, "contract_line_id", "contract_lines"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LINES)
                    .col(ColumnDef::new("tenant_id").uuid().not_null())
                    .col(ColumnDef::new("id").uuid().not_null())
                    .col(ColumnDef::new("billing_schedule_id").uuid().not_null())
                    .col(ColumnDef::new("contract_id").uuid().not_null())
                    .col(ColumnDef::new("seq").integer().not_null())
                    .col(ColumnDef::new("description").string().not_null())
                    .col(ColumnDef::new("planned_date").date().null())
                    .col(ColumnDef::new("amount").decimal_len(18, 2).not_null())
                    .col(ColumnDef::new("currency").string_len(3).not_null())
                    .col(ColumnDef::new("trigger").string().not_null())
                    .col(ColumnDef::new("milestone_id").uuid().null())
                    .col(ColumnDef::new("status").string().not_null())
                    .col(ColumnDef::new("risk_reason").string().null())
                    .col(ColumnDef::new("invoice_id").uuid().null())
                    .col(ColumnDef::new("version").big_integer().not_null())
                    .primary_key(Index::create().col("tenant_id").col("id"))
                    .foreign_key(&mut tenant_foreign_key(LINES, "billing_schedule_id", SCHEDULES))
                    .foreign_key(&mut tenant_foreign_key(LINES, "contract_id", "contracts"))
                    .to_owned(),
            )
            .await?;
        // One schedule per contract line, so a redelivered engagement cannot bill twice.
        manager
            .create_index(
                Index::create()
                    .name("billing_schedules_one_per_contract_line")
                    .table(SCHEDULES)
                    .unique()
                    .col("tenant_id")
                    .col("contract_line_id")
                    .to_owned(),
            )
            .await?;
        for (name, table, column) in [
            ("billing_schedules_by_contract", SCHEDULES, "contract_id"),
            ("billing_schedule_lines_by_schedule", LINES, "billing_schedule_id"),
            ("billing_schedule_lines_by_milestone", LINES, "milestone_id"),
        ] {
            manager
                .create_index(Index::create().name(name).table(table).col("tenant_id").col(column).to_owned())
                .await?;
        }
        for table in [SCHEDULES, LINES] {
            rls::enable_tenant_isolation(manager, table).await?;
            rls::enable_second_level_scopes(manager, table, CONTRACT_SCOPE).await?;
        }
        rls::grant_runtime_role(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [LINES, SCHEDULES] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
