//! Creates the finance tables of this slice (customer accounts, contracts, subscriptions,
//! invoices, disputes), forced row-level security on each (PostgreSQL) and the runtime
//! role's grants. Foreign keys inside the service include `tenant_id` (docs/domain.md#conventions), so a
//! row can never point at another tenant's parent; references to other services' rows
//! (service packages, channel partners) are plain uuid columns.

use atrium_kit::rls;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// In creation order; dropped in reverse.
const TENANT_TABLES: &[&str] = &["customer_accounts", "contracts", "subscriptions", "invoices", "disputes"];

/// A `(tenant_id, <column>) → <parent>(tenant_id, id)` foreign key.
fn tenant_foreign_key(table: &'static str, column: &'static str, parent: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("{table}_{column}_fkey"))
        .from(table, ("tenant_id", column))
        .to(parent, ("tenant_id", "id"))
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

fn money(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).decimal_len(18, 2).not_null().to_owned()
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("customer_accounts")
                    .col(ColumnDef::new("tenant_id").uuid().not_null())
                    .col(ColumnDef::new("id").uuid().not_null())
                    .col(ColumnDef::new("channel_partner_id").uuid().null())
                    .col(ColumnDef::new("name").string().not_null())
                    .col(ColumnDef::new("legal_name").string().null())
                    .col(ColumnDef::new("segment").string().not_null())
                    .col(ColumnDef::new("erp_platform").string().not_null())
                    .col(ColumnDef::new("data_region").string().not_null())
                    .col(ColumnDef::new("billing_currency").string_len(3).not_null())
                    .col(ColumnDef::new("payment_terms_days").integer().not_null())
                    .col(ColumnDef::new("named_users").integer().not_null())
                    .col(ColumnDef::new("status").string().not_null())
                    .col(ColumnDef::new("customer_since").date().null())
                    .primary_key(Index::create().col("tenant_id").col("id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("contracts")
                    .col(ColumnDef::new("tenant_id").uuid().not_null())
                    .col(ColumnDef::new("id").uuid().not_null())
                    .col(ColumnDef::new("number").string().not_null())
                    .col(ColumnDef::new("customer_account_id").uuid().not_null())
                    .col(ColumnDef::new("channel_partner_id").uuid().null())
                    .col(ColumnDef::new("contract_type").string().not_null())
                    .col(ColumnDef::new("status").string().not_null())
                    .col(ColumnDef::new("start_date").date().not_null())
                    .col(ColumnDef::new("end_date").date().not_null())
                    .col(ColumnDef::new("signed_at").timestamp_with_time_zone().null())
                    .col(money("total_value"))
                    .col(ColumnDef::new("currency").string_len(3).not_null())
                    .col(ColumnDef::new("auto_renew").boolean().not_null())
                    .primary_key(Index::create().col("tenant_id").col("id"))
                    .foreign_key(&mut tenant_foreign_key("contracts", "customer_account_id", "customer_accounts"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("subscriptions")
                    .col(ColumnDef::new("tenant_id").uuid().not_null())
                    .col(ColumnDef::new("id").uuid().not_null())
                    .col(ColumnDef::new("customer_account_id").uuid().not_null())
                    .col(ColumnDef::new("contract_id").uuid().not_null())
                    .col(ColumnDef::new("service_package_id").uuid().null())
                    .col(ColumnDef::new("status").string().not_null())
                    .col(ColumnDef::new("billing_interval").string().not_null())
                    .col(ColumnDef::new("start_date").date().not_null())
                    .col(ColumnDef::new("renewal_date").date().null())
                    .col(money("mrr"))
                    .col(ColumnDef::new("currency").string_len(3).not_null())
                    .primary_key(Index::create().col("tenant_id").col("id"))
                    .foreign_key(&mut tenant_foreign_key("subscriptions", "customer_account_id", "customer_accounts"))
                    .foreign_key(&mut tenant_foreign_key("subscriptions", "contract_id", "contracts"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("invoices")
                    .col(ColumnDef::new("tenant_id").uuid().not_null())
                    .col(ColumnDef::new("id").uuid().not_null())
                    .col(ColumnDef::new("number").string().not_null())
                    .col(ColumnDef::new("customer_account_id").uuid().not_null())
                    .col(ColumnDef::new("channel_partner_id").uuid().null())
                    .col(ColumnDef::new("contract_id").uuid().null())
                    .col(ColumnDef::new("subscription_id").uuid().null())
                    .col(ColumnDef::new("status").string().not_null())
                    .col(ColumnDef::new("issue_date").date().not_null())
                    .col(ColumnDef::new("due_date").date().not_null())
                    .col(ColumnDef::new("currency").string_len(3).not_null())
                    .col(money("total"))
                    .col(money("amount_paid"))
                    .col(money("amount_credited"))
                    // Stored (docs/domain.md#receivables) so overdue filters page in SQL; always written
                    // through `domain::balance_due`.
                    .col(money("balance_due"))
                    .col(money("disputed_amount"))
                    .col(ColumnDef::new("paid_at").timestamp_with_time_zone().null())
                    .primary_key(Index::create().col("tenant_id").col("id"))
                    .foreign_key(&mut tenant_foreign_key("invoices", "customer_account_id", "customer_accounts"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("disputes")
                    .col(ColumnDef::new("tenant_id").uuid().not_null())
                    .col(ColumnDef::new("id").uuid().not_null())
                    .col(ColumnDef::new("invoice_id").uuid().not_null())
                    .col(ColumnDef::new("opened_at").timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new("reason").string().not_null())
                    .col(money("amount"))
                    .col(ColumnDef::new("status").string().not_null())
                    .col(ColumnDef::new("resolved_at").timestamp_with_time_zone().null())
                    .primary_key(Index::create().col("tenant_id").col("id"))
                    .foreign_key(&mut tenant_foreign_key("disputes", "invoice_id", "invoices"))
                    .to_owned(),
            )
            .await?;
        for (name, table, columns) in [
            ("contracts_number_per_tenant", "contracts", ["tenant_id", "number"]),
            ("invoices_number_per_tenant", "invoices", ["tenant_id", "number"]),
        ] {
            let mut index = Index::create().name(name).table(table).unique().to_owned();
            for column in columns {
                index.col(column);
            }
            manager.create_index(index).await?;
        }
        // The per-parent loaders select children by `(tenant_id, customer_account_id)`.
        for table in ["contracts", "subscriptions", "invoices"] {
            manager
                .create_index(
                    Index::create()
                        .name(format!("{table}_by_customer_account"))
                        .table(table)
                        .col("tenant_id")
                        .col("customer_account_id")
                        .to_owned(),
                )
                .await?;
        }
        for table in TENANT_TABLES {
            rls::enable_tenant_isolation(manager, table).await?;
        }
        rls::grant_runtime_role(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in TENANT_TABLES.iter().rev() {
            manager.drop_table(Table::drop().table(*table).to_owned()).await?;
        }
        Ok(())
    }
}
