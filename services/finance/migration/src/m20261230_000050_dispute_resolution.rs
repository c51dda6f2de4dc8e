//! Dispute handling, command keys, aging marks and the scheduler's leases (docs/domain.md#invoices-payments-and-disputes): disputes gain the
//! `version` their conditional updates and events carry, the `outcome` of their
//! resolution, the amount credited and the credit note that credited it, and the note of
//! whoever opened them. `applied_command_keys` remembers the idempotency keys of the
//! cross-service commands finance has applied, so a second command with the same key
//! does nothing (docs/domain.md#billing-schedules). `invoice_aging_marks` remembers the
//! last aging bucket announced per invoice, so the daily emitter announces each crossing
//! once (docs/domain.md#aging-and-dso).

use atrium_kit::{rls, schedule};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const APPLIED_COMMAND_KEYS: &str = "applied_command_keys";
const INVOICE_AGING_MARKS: &str = "invoice_aging_marks";

/// `(table, column)` added by this step; SQLite alters one column per statement.
fn added_columns() -> Vec<(&'static str, ColumnDef)> {
    vec![
        ("disputes", ColumnDef::new("version").big_integer().not_null().default(1).to_owned()),
        ("disputes", ColumnDef::new("outcome").string().null().to_owned()),
        ("disputes", ColumnDef::new("credited_amount").decimal_len(18, 2).null().to_owned()),
        ("disputes", ColumnDef::new("credit_note_id").uuid().null().to_owned()),
        ("disputes", ColumnDef::new("note").string().null().to_owned()),
    ]
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, mut column) in added_columns() {
            manager.alter_table(Table::alter().table(table).add_column(&mut column).to_owned()).await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("disputes_by_invoice")
                    .table("disputes")
                    .col("tenant_id")
                    .col("invoice_id")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(APPLIED_COMMAND_KEYS)
                    .col(ColumnDef::new("tenant_id").uuid().not_null())
                    .col(ColumnDef::new("idempotency_key").string().not_null())
                    .col(ColumnDef::new("operation").string().not_null())
                    .col(ColumnDef::new("applied_at").timestamp_with_time_zone().not_null())
                    .primary_key(Index::create().col("tenant_id").col("idempotency_key"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(INVOICE_AGING_MARKS)
                    .col(ColumnDef::new("tenant_id").uuid().not_null())
                    .col(ColumnDef::new("invoice_id").uuid().not_null())
                    .col(ColumnDef::new("bucket").string().not_null())
                    .col(ColumnDef::new("announced_on").date().not_null())
                    .primary_key(Index::create().col("tenant_id").col("invoice_id"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("invoice_aging_marks_invoice_id_fkey")
                            .from(INVOICE_AGING_MARKS, ("tenant_id", "invoice_id"))
                            .to("invoices", ("tenant_id", "id"))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for table in [APPLIED_COMMAND_KEYS, INVOICE_AGING_MARKS] {
            rls::enable_tenant_isolation(manager, table).await?;
        }
        schedule::create_schedule_tables(manager).await?;
        rls::grant_runtime_role(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Alias::new(schedule::LEASE_TABLE)).to_owned()).await?;
        manager.drop_table(Table::drop().table(INVOICE_AGING_MARKS).to_owned()).await?;
        manager.drop_table(Table::drop().table(APPLIED_COMMAND_KEYS).to_owned()).await?;
        manager.drop_index(Index::drop().name("disputes_by_invoice").table("disputes").to_owned()).await?;
        for (table, column) in added_columns() {
            manager
                .alter_table(Table::alter().table(table).drop_column(Alias::new(column.get_column_name())).to_owned())
                .await?;
        }
        Ok(())
    }
}
