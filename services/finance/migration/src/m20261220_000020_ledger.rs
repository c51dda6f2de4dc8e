//! The finance ledger's schema (docs/domain.md#subscriptions-and-mrr, #entitlements,
//! #currencies): billing terms and entitlement terms on contract lines, entitlement grants
//! and their drawdown, the subscription's lifecycle columns, versioned subscription items,
//! the append-only MRR ledger, FX rates and the tenant's reporting currency. Rows of
//! earlier migrations stay valid: existing lines are `fixed` without service dates (they
//! fall back to the contract's), existing subscriptions start at version 1.

use atrium_kit::rls::{self, SecondLevelScope};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// New tables in creation order (dropped in reverse).
const NEW_TABLES: &[&str] = &[
    "entitlement_grants",
    "entitlement_usages",
    "subscription_items",
    "mrr_movements",
    "fx_rates",
    "reporting_currencies",
];

/// Tables whose rows belong to one customer: scoped users see them through their customer.
const CUSTOMER_OWNED: &[(&str, SecondLevelScope<'static>)] = &[
    (
        "entitlement_grants",
        SecondLevelScope::Parent { column: "customer_account_id", parent_table: "customer_accounts" },
    ),
    (
        "entitlement_usages",
        SecondLevelScope::Parent { column: "customer_account_id", parent_table: "customer_accounts" },
    ),
    ("subscription_items", SecondLevelScope::Parent { column: "subscription_id", parent_table: "subscriptions" }),
    ("mrr_movements", SecondLevelScope::Parent { column: "customer_account_id", parent_table: "customer_accounts" }),
    // Rates and the reporting currency are the tenant's books: no partner or customer
    // user sees them (missing columns fail closed).
    ("fx_rates", SecondLevelScope::Columns { partner: None, customer: None }),
    ("reporting_currencies", SecondLevelScope::Columns { partner: None, customer: None }),
];

/// `(table, column)` added by this step; SQLite alters one column per statement.
fn added_columns() -> Vec<(&'static str, ColumnDef)> {
    vec![
        ("contract_lines", ColumnDef::new("billing_model").string().not_null().default("fixed").to_owned()),
        ("contract_lines", ColumnDef::new("billing_interval").string().null().to_owned()),
        ("contract_lines", ColumnDef::new("service_start").date().null().to_owned()),
        ("contract_lines", ColumnDef::new("service_end").date().null().to_owned()),
        ("contract_lines", ColumnDef::new("entitlement_kind").string().null().to_owned()),
        ("contract_lines", ColumnDef::new("entitlement_hours_per_period").decimal_len(10, 2).null().to_owned()),
        ("subscriptions", ColumnDef::new("version").big_integer().not_null().default(1).to_owned()),
        ("subscriptions", ColumnDef::new("cancel_at_period_end").boolean().not_null().default(false).to_owned()),
        ("subscriptions", ColumnDef::new("cancelled_at").timestamp_with_time_zone().null().to_owned()),
        ("subscriptions", ColumnDef::new("cancel_reason").string().null().to_owned()),
    ]
}

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

fn hours(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).decimal_len(10, 2).not_null().to_owned()
}

fn index(name: &str, table: &str, columns: &[&str], unique: bool) -> IndexCreateStatement {
    let mut index = Index::create().name(name).table(Alias::new(table)).to_owned();
    for column in columns {
        index.col(Alias::new(*column));
    }
    if unique {
        index.unique();
    }
    index
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, mut column) in added_columns() {
            manager.alter_table(Table::alter().table(table).add_column(&mut column).to_owned()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table("entitlement_grants")
                    .col(ColumnDef::new("tenant_id").uuid().not_null())
                    .col(ColumnDef::new("id").uuid().not_null())
                    .col(ColumnDef::new("customer_account_id").uuid().not_null())
                    .col(ColumnDef::new("contract_id").uuid().not_null())
                    .col(ColumnDef::new("contract_line_id").uuid().not_null())
                    .col(ColumnDef::new("kind").string().not_null())
                    .col(hours("hours_per_period"))
                    .col(ColumnDef::new("period").string().not_null())
                    .col(ColumnDef::new("start_date").date().not_null())
                    .col(ColumnDef::new("end_date").date().not_null())
                    .col(ColumnDef::new("status").string().not_null())
                    .primary_key(Index::create().col("tenant_id").col("id"))
                    .foreign_key(&mut tenant_foreign_key(
                        "entitlement_grants",
                        "customer_account_id",
                        "customer_accounts",
                    ))
                    .foreign_key(&mut tenant_foreign_key("entitlement_grants", "contract_id", "contracts"))
                    .foreign_key(&mut tenant_foreign_key("entitlement_grants", "contract_line_id", "contract_lines"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("entitlement_usages")
                    .col(ColumnDef::new("tenant_id").uuid().not_null())
                    .col(ColumnDef::new("id").uuid().not_null())
                    .col(ColumnDef::new("grant_id").uuid().not_null())
                    .col(ColumnDef::new("customer_account_id").uuid().not_null())
                    // Delivery's time entry: a plain uuid, no foreign key across services.
                    .col(ColumnDef::new("time_entry_id").uuid().not_null())
                    .col(ColumnDef::new("work_date").date().not_null())
                    .col(hours("hours"))
                    .col(ColumnDef::new("recorded_at").timestamp_with_time_zone().not_null())
                    .primary_key(Index::create().col("tenant_id").col("id"))
                    .foreign_key(&mut tenant_foreign_key("entitlement_usages", "grant_id", "entitlement_grants"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("subscription_items")
                    .col(ColumnDef::new("tenant_id").uuid().not_null())
                    .col(ColumnDef::new("id").uuid().not_null())
                    .col(ColumnDef::new("subscription_id").uuid().not_null())
                    .col(ColumnDef::new("contract_line_id").uuid().null())
                    .col(ColumnDef::new("service_package_id").uuid().null())
                    .col(ColumnDef::new("description").string().not_null())
                    .col(ColumnDef::new("billing_interval").string().not_null())
                    .col(ColumnDef::new("quantity").decimal_len(18, 4).not_null())
                    .col(money("unit_price"))
                    .col(ColumnDef::new("discount_pct").decimal_len(7, 4).not_null())
                    .col(money("monthly_amount"))
                    .col(ColumnDef::new("effective_from").date().not_null())
                    .col(ColumnDef::new("effective_to").date().null())
                    .primary_key(Index::create().col("tenant_id").col("id"))
                    .foreign_key(&mut tenant_foreign_key("subscription_items", "subscription_id", "subscriptions"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("mrr_movements")
                    .col(ColumnDef::new("tenant_id").uuid().not_null())
                    .col(ColumnDef::new("id").uuid().not_null())
                    .col(ColumnDef::new("customer_account_id").uuid().not_null())
                    .col(ColumnDef::new("subscription_id").uuid().not_null())
                    .col(ColumnDef::new("effective_date").date().not_null())
                    .col(ColumnDef::new("movement_type").string().not_null())
                    .col(money("mrr_delta"))
                    .col(ColumnDef::new("currency").string_len(3).not_null())
                    .col(ColumnDef::new("cause_ref").string().null())
                    .col(ColumnDef::new("recorded_at").timestamp_with_time_zone().not_null())
                    .primary_key(Index::create().col("tenant_id").col("id"))
                    .foreign_key(&mut tenant_foreign_key("mrr_movements", "customer_account_id", "customer_accounts"))
                    .foreign_key(&mut tenant_foreign_key("mrr_movements", "subscription_id", "subscriptions"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("fx_rates")
                    .col(ColumnDef::new("tenant_id").uuid().not_null())
                    .col(ColumnDef::new("id").uuid().not_null())
                    .col(ColumnDef::new("from_currency").string_len(3).not_null())
                    .col(ColumnDef::new("to_currency").string_len(3).not_null())
                    .col(ColumnDef::new("rate_date").date().not_null())
                    // Units of `to_currency` per unit of `from_currency`, exact.
                    .col(ColumnDef::new("rate").decimal_len(20, 10).not_null())
                    .primary_key(Index::create().col("tenant_id").col("id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("reporting_currencies")
                    .col(ColumnDef::new("tenant_id").uuid().not_null())
                    .col(ColumnDef::new("currency").string_len(3).not_null())
                    .primary_key(Index::create().col("tenant_id"))
                    .to_owned(),
            )
            .await?;
        for statement in [
            index("entitlement_grants_by_customer", "entitlement_grants", &["tenant_id", "customer_account_id"], false),
            index("entitlement_grants_by_contract", "entitlement_grants", &["tenant_id", "contract_id"], false),
            // One drawdown per time entry, whatever the delivery count.
            index("entitlement_usages_per_time_entry", "entitlement_usages", &["tenant_id", "time_entry_id"], true),
            index("entitlement_usages_by_grant", "entitlement_usages", &["tenant_id", "grant_id"], false),
            index("subscription_items_by_subscription", "subscription_items", &["tenant_id", "subscription_id"], false),
            index("mrr_movements_by_customer", "mrr_movements", &["tenant_id", "customer_account_id"], false),
            index("mrr_movements_by_date", "mrr_movements", &["tenant_id", "effective_date"], false),
            index("fx_rates_per_day", "fx_rates", &["tenant_id", "from_currency", "to_currency", "rate_date"], true),
        ] {
            manager.create_index(statement).await?;
        }
        for table in NEW_TABLES {
            rls::enable_tenant_isolation(manager, table).await?;
        }
        for (table, scope) in CUSTOMER_OWNED {
            rls::enable_second_level_scopes(manager, table, *scope).await?;
        }
        rls::grant_runtime_role(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in NEW_TABLES.iter().rev() {
            manager.drop_table(Table::drop().table(Alias::new(*table)).to_owned()).await?;
        }
        for (table, column) in added_columns().into_iter().rev() {
            manager
                .alter_table(Table::alter().table(table).drop_column(Alias::new(column.get_column_name())).to_owned())
                .await?;
        }
        Ok(())
    }
}
