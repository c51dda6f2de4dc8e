//! Payments (docs/domain.md#invoices-payments-and-disputes): money received from a
//! customer and its allocations to the customer's invoices; what is not allocated stays
//! on account. Payments follow their customer's second-level scope, allocations their
//! payment's.

use atrium_kit::rls::{self, SecondLevelScope};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const PAYMENTS: &str = "payments";
const ALLOCATIONS: &str = "payment_allocations";

fn money(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).decimal_len(18, 2).not_null().to_owned()
}

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
                    .table(PAYMENTS)
                    .col(ColumnDef::new("tenant_id").uuid().not_null())
                    .col(ColumnDef::new("id").uuid().not_null())
                    .col(ColumnDef::new("customer_account_id").uuid().not_null())
                    .col(ColumnDef::new("received_at").timestamp_with_time_zone().not_null())
                    .col(money("amount"))
                    .col(money("unallocated_amount"))
                    .col(ColumnDef::new("currency").string_len(3).not_null())
                    .col(ColumnDef::new("method").string().not_null())
                    .col(ColumnDef::new("reference").string().not_null())
                    .col(ColumnDef::new("status").string().not_null())
                    .primary_key(Index::create().col("tenant_id").col("id"))
                    .foreign_key(&mut tenant_foreign_key(PAYMENTS, "customer_account_id", "customer_accounts"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ALLOCATIONS)
                    .col(ColumnDef::new("tenant_id").uuid().not_null())
                    .col(ColumnDef::new("id").uuid().not_null())
                    .col(ColumnDef::new("payment_id").uuid().not_null())
                    .col(ColumnDef::new("invoice_id").uuid().not_null())
                    .col(money("amount"))
                    .primary_key(Index::create().col("tenant_id").col("id"))
                    .foreign_key(&mut tenant_foreign_key(ALLOCATIONS, "payment_id", PAYMENTS))
                    .foreign_key(&mut tenant_foreign_key(ALLOCATIONS, "invoice_id", "invoices"))
                    .to_owned(),
            )
            .await?;
        for (name, table, column) in [
            ("payments_by_customer_account", PAYMENTS, "customer_account_id"),
            ("payment_allocations_by_payment", ALLOCATIONS, "payment_id"),
            ("payment_allocations_by_invoice", ALLOCATIONS, "invoice_id"),
        ] {
            manager
                .create_index(Index::create().name(name).table(table).col("tenant_id").col(column).to_owned())
                .await?;
        }
        for (table, scope) in [
            (PAYMENTS, SecondLevelScope::Parent { column: "customer_account_id", parent_table: "customer_accounts" }),
            (ALLOCATIONS, SecondLevelScope::Parent { column: "payment_id", parent_table: PAYMENTS }),
        ] {
            rls::enable_tenant_isolation(manager, table).await?;
            rls::enable_second_level_scopes(manager, table, scope).await?;
        }
        rls::grant_runtime_role(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [ALLOCATIONS, PAYMENTS] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
