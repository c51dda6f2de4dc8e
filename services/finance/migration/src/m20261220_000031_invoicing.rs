//! Invoicing (docs/domain.md#invoices-payments-and-disputes): invoices gain the `version`
//! their conditional updates and events carry, the engagement they bill, subtotal and tax,
//! and the instants of issue, void and write-off; `invoice_lines` say what an invoice bills
//! (from billing schedule lines) and `credit_notes` what was credited. Seeded invoices keep
//! their amounts: the subtotal is their total (no tax), versions start at 1.

use atrium_kit::rls::{self, SecondLevelScope};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const INVOICE_LINES: &str = "invoice_lines";
const CREDIT_NOTES: &str = "credit_notes";

/// Both follow their invoice's second-level scope (nothing copied to drift).
const INVOICE_SCOPE: SecondLevelScope<'static> =
    SecondLevelScope::Parent { column: "invoice_id", parent_table: "invoices" };

fn money(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).decimal_len(18, 2).not_null().to_owned()
}

/// `(table, column)` added by this step; SQLite alters one column per statement.
fn added_columns() -> Vec<(&'static str, ColumnDef)> {
    vec![
        ("invoices", ColumnDef::new("version").big_integer().not_null().default(1).to_owned()),
        ("invoices", ColumnDef::new("engagement_id").uuid().null().to_owned()),
        ("invoices", ColumnDef::new("subtotal").decimal_len(18, 2).not_null().default(0).to_owned()),
        ("invoices", ColumnDef::new("tax_total").decimal_len(18, 2).not_null().default(0).to_owned()),
        ("invoices", ColumnDef::new("issued_at").timestamp_with_time_zone().null().to_owned()),
        ("invoices", ColumnDef::new("voided_at").timestamp_with_time_zone().null().to_owned()),
        ("invoices", ColumnDef::new("written_off_at").timestamp_with_time_zone().null().to_owned()),
    ]
}

fn invoice_foreign_key(table: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("{table}_invoice_id_fkey"))
        .from(table, ("tenant_id", "invoice_id"))
        .to("invoices", ("tenant_id", "id"))
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, mut column) in added_columns() {
            manager.alter_table(Table::alter().table(table).add_column(&mut column).to_owned()).await?;
        }
        manager.get_connection().execute_unprepared("UPDATE invoices SET subtotal = total").await?;
        manager
            .create_table(
                Table::create()
                    .table(INVOICE_LINES)
                    .col(ColumnDef::new("tenant_id").uuid().not_null())
                    .col(ColumnDef::new("id").uuid().not_null())
                    .col(ColumnDef::new("invoice_id").uuid().not_null())
                    .col(ColumnDef::new("contract_line_id").uuid().null())
                    .col(ColumnDef::new("billing_schedule_line_id").uuid().null())
                    .col(ColumnDef::new("description").string().not_null())
                    .col(ColumnDef::new("quantity").decimal_len(18, 4).not_null())
                    .col(money("unit_price"))
                    .col(money("amount"))
                    .col(ColumnDef::new("source_type").string().not_null())
                    .col(ColumnDef::new("service_period_start").date().null())
                    .col(ColumnDef::new("service_period_end").date().null())
                    .primary_key(Index::create().col("tenant_id").col("id"))
                    .foreign_key(&mut invoice_foreign_key(INVOICE_LINES))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CREDIT_NOTES)
                    .col(ColumnDef::new("tenant_id").uuid().not_null())
                    .col(ColumnDef::new("id").uuid().not_null())
                    .col(ColumnDef::new("invoice_id").uuid().not_null())
                    .col(ColumnDef::new("number").string().not_null())
                    .col(money("amount"))
                    .col(ColumnDef::new("currency").string_len(3).not_null())
                    .col(ColumnDef::new("reason").string().not_null())
                    .col(ColumnDef::new("issued_at").timestamp_with_time_zone().not_null())
                    .primary_key(Index::create().col("tenant_id").col("id"))
                    .foreign_key(&mut invoice_foreign_key(CREDIT_NOTES))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("credit_notes_number_per_tenant")
                    .table(CREDIT_NOTES)
                    .unique()
                    .col("tenant_id")
                    .col("number")
                    .to_owned(),
            )
            .await?;
        for table in [INVOICE_LINES, CREDIT_NOTES] {
            manager
                .create_index(
                    Index::create()
                        .name(format!("{table}_by_invoice"))
                        .table(table)
                        .col("tenant_id")
                        .col("invoice_id")
                        .to_owned(),
                )
                .await?;
            rls::enable_tenant_isolation(manager, table).await?;
            rls::enable_second_level_scopes(manager, table, INVOICE_SCOPE).await?;
        }
        rls::grant_runtime_role(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [CREDIT_NOTES, INVOICE_LINES] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        for (table, column) in added_columns().into_iter().rev() {
            manager
                .alter_table(Table::alter().table(table).drop_column(Alias::new(column.get_column_name())).to_owned())
                .await?;
        }
        Ok(())
    }
}
