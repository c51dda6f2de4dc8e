//! Demo data (docs/domain.md#demo-data) for finance: for every demo customer of every
//! tenant one contract, 0–2 subscriptions (managed support, retainers, hosting; linked to
//! catalog's packages by `demo::package_id`) and 3–6 invoices with a realistic status mix,
//! plus the story conditions (Lakeshore Dental's $38,400 open with a 67-day-old invoice and
//! a $12,000 dispute, Prairie Foods and Rheinwerk overdue, Thames Mutual and Summit Ag paid
//! up). Dates are relative to the seed day. Idempotent: a tenant with any customer row is
//! left alone. Each tenant is written in its own tenant transaction, so on PostgreSQL the
//! seed passes through the same RLS policies as requests.
//!
//! Contract and subscription ids are derived from the customer roster alone
//! ([`contract_id`], [`subscription_id`]), so delivery and support can refer to them
//! without asking finance.

use atrium_kit::{
    TenantTransaction,
    demo::{self, DemoCustomer, DemoTenant, SeedRng, Story},
};
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use rust_decimal::Decimal;
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::{
    domain::{self, Clock, DisputeReason, InvoiceStatus},
    entities::{
        billing_schedule, billing_schedule_line, contract, contract_line, customer_account, dispute, entitlement_grant,
        fx_rate, invoice, mrr_movement, reporting_currency, subscription, subscription_item,
    },
    error::FinanceError,
};

/// The one demo contract of customer `ordinal`.
pub fn contract_id(tenant: &DemoTenant, ordinal: usize) -> Uuid {
    demo::id("contract", ordinal as u64, &format!("{}/{}", tenant.slug, tenant.customers[ordinal].name))
}

/// The demo subscription of customer `ordinal` to package `code` (at most two per customer).
pub fn subscription_id(tenant: &DemoTenant, ordinal: usize, slot: usize, code: &str) -> Uuid {
    let key = format!("{}/{}/{code}", tenant.slug, tenant.customers[ordinal].name);
    demo::id("subscription", (ordinal * 2 + slot) as u64, &key)
}

/// Seeds every demo tenant not seeded yet, dates relative to `clock`'s today of the tenant.
pub async fn seed_demo_tenants(database: &DatabaseConnection, clock: Clock) -> Result<(), FinanceError> {
    for demo_tenant in demo::TENANTS {
        let tx = TenantTransaction::begin(database, &demo::seed_context(demo_tenant)).await?;
        let today = clock.today(tx.tenant_id());
        let seeded = customer_account::Entity::find()
            .filter(customer_account::Column::TenantId.eq(tx.tenant_id()))
            .one(tx.connection())
            .await?
            .is_some();
        if seeded {
            continue;
        }
        let rows = plan_tenant(demo_tenant, tx.tenant_id(), today);
        let connection = tx.connection();
        customer_account::Entity::insert_many(rows.customers).exec(connection).await?;
        contract::Entity::insert_many(rows.contracts).exec(connection).await?;
        if !rows.contract_lines.is_empty() {
            contract_line::Entity::insert_many(rows.contract_lines).exec(connection).await?;
        }
        if !rows.entitlement_grants.is_empty() {
            entitlement_grant::Entity::insert_many(rows.entitlement_grants).exec_without_returning(connection).await?;
        }
        if !rows.subscriptions.is_empty() {
            subscription::Entity::insert_many(rows.subscriptions).exec(connection).await?;
            subscription_item::Entity::insert_many(rows.subscription_items).exec(connection).await?;
            mrr_movement::Entity::insert_many(rows.mrr_movements).exec(connection).await?;
        }
        reporting_currency::Entity::insert(reporting_currency::ActiveModel {
            tenant_id: Set(tx.tenant_id()),
            currency: Set(demo_tenant.reporting_currency.to_owned()),
        })
        .exec_without_returning(connection)
        .await?;
        if !rows.fx_rates.is_empty() {
            fx_rate::Entity::insert_many(rows.fx_rates).exec_without_returning(connection).await?;
        }
        invoice::Entity::insert_many(rows.invoices).exec(connection).await?;
        if !rows.disputes.is_empty() {
            dispute::Entity::insert_many(rows.disputes).exec(connection).await?;
        }
        super::billing::insert_demo_schedules(&tx, rows.billing_schedules).await?;
        tx.commit().await?;
        tracing::info!(tenant = demo_tenant.slug, "seeded finance demo data");
    }
    Ok(())
}

#[derive(Default)]
struct TenantRows {
    customers: Vec<customer_account::ActiveModel>,
    contracts: Vec<contract::ActiveModel>,
    contract_lines: Vec<contract_line::ActiveModel>,
    entitlement_grants: Vec<entitlement_grant::ActiveModel>,
    subscriptions: Vec<subscription::ActiveModel>,
    subscription_items: Vec<subscription_item::ActiveModel>,
    mrr_movements: Vec<mrr_movement::ActiveModel>,
    fx_rates: Vec<fx_rate::ActiveModel>,
    invoices: Vec<invoice::ActiveModel>,
    disputes: Vec<dispute::ActiveModel>,
    billing_schedules: Vec<(billing_schedule::ActiveModel, Vec<billing_schedule_line::ActiveModel>)>,
}

/// A subscription to seed: package code and monthly amount.
struct PlannedSubscription {
    code: &'static str,
    monthly: Decimal,
}

/// An invoice to seed, with days relative to the seed day.
struct PlannedInvoice {
    issued_days_ago: i64,
    total: Decimal,
    paid: Decimal,
    status: InvoiceStatus,
    /// Index into the customer's subscriptions when the invoice bills one.
    subscription: Option<usize>,
    /// An open dispute of the whole balance.
    dispute: Option<DisputeReason>,
}

impl PlannedInvoice {
    fn new(issued_days_ago: i64, total: i64, status: InvoiceStatus) -> Self {
        let total = Decimal::from(total);
        let paid = if status == InvoiceStatus::Paid { total } else { Decimal::ZERO };
        PlannedInvoice { issued_days_ago, total, paid, status, subscription: None, dispute: None }
    }

    fn billing(mut self, subscription: usize) -> Self {
        self.subscription = Some(subscription);
        self
    }
}

/// Monthly list price of the recurring demo packages (catalog owns the packages; these
/// mirror its seeded list prices).
/// A contract line to seed: package, description, quantity, unit price, advisory hours a month.
type PlannedLine = (Option<Uuid>, String, Decimal, Decimal, Option<i64>);

/// Advisory hours a month that a retainer package entitles to (docs/domain.md#entitlements).
fn advisory_hours(code: &str) -> Option<i64> {
    match code {
        "OPT-8" => Some(8),
        "OPT-16" => Some(16),
        "OPT-24" => Some(24),
        "HLX-ADV" => Some(10),
        _ => None,
    }
}

fn monthly_price(code: &str) -> i64 {
    match code {
        "MS-BRONZE" => 1_200,
        "MS-SILVER" => 2_500,
        "MS-GOLD" => 5_500,
        "OPT-8" => 1_600,
        "OPT-16" => 3_000,
        "OPT-24" => 4_200,
        "HLX-HOST-STD" => 900,
        "HLX-HOST-PRO" => 2_100,
        "HLX-ADV" => 1_500,
        "GDPR-RET" => 4_500,
        "CMP-MON" => 2_800,
        _ => 1_000,
    }
}

/// Billing currency: the tenant's, except customers pinned to a region with its own.
fn billing_currency(tenant: &DemoTenant, customer: &DemoCustomer) -> &'static str {
    match (tenant.reporting_currency, customer.data_region) {
        ("USD", _) => "USD",
        (_, "us_east") => "USD",
        (_, "uk_south") => "GBP",
        (_, "ap_southeast") => "SGD",
        (currency, _) => currency,
    }
}

fn subscriptions_of(tenant: &DemoTenant, customer: &DemoCustomer, rng: &mut SeedRng) -> Vec<PlannedSubscription> {
    let plain = |code: &'static str| PlannedSubscription { code, monthly: Decimal::from(monthly_price(code)) };
    let codes: Vec<&'static str> = match customer.story {
        Some(Story::PrairieFoods | Story::Harborview) => vec![],
        Some(Story::LakeshoreDental) => vec!["MS-BRONZE"],
        Some(Story::CedarValley) => vec!["OPT-24"],
        Some(Story::SummitAg) => vec!["OPT-16", "MS-SILVER"],
        Some(Story::BlueHeron) => vec!["MS-BRONZE"],
        Some(Story::Rheinwerk) => vec!["CMP-MON"],
        Some(Story::LumenPay) => vec!["GDPR-RET"],
        Some(Story::ThamesMutual) => {
            // Renewed last quarter with a €500/month expansion.
            return vec![PlannedSubscription { code: "GDPR-RET", monthly: Decimal::from(5_000) }];
        }
        None => match tenant.slug {
            "ridgeline" => {
                let support = ["MS-BRONZE", "MS-SILVER", "MS-GOLD"];
                let retainer = ["OPT-8", "OPT-16", "OPT-24"];
                match rng.between(0, 3) {
                    0 => vec![],
                    1 => vec![support[rng.between(0, 2) as usize]],
                    2 => vec![retainer[rng.between(0, 2) as usize]],
                    _ => vec![support[rng.between(0, 2) as usize], retainer[rng.between(0, 2) as usize]],
                }
            }
            "helix" => {
                let hosting = if rng.between(0, 2) == 0 { "HLX-HOST-PRO" } else { "HLX-HOST-STD" };
                if rng.between(0, 3) == 0 { vec![hosting, "HLX-ADV"] } else { vec![hosting] }
            }
            _ => match rng.between(0, 3) {
                0 => vec![],
                1 => vec!["GDPR-RET"],
                2 => vec!["CMP-MON"],
                _ => vec!["GDPR-RET", "CMP-MON"],
            },
        },
    };
    codes.into_iter().map(plain).collect()
}

/// The story invoices (docs/domain.md#story-accounts), or a generated mix for everyone else.
fn invoices_of(
    customer: &DemoCustomer,
    subscriptions: &[PlannedSubscription],
    terms: i64,
    rng: &mut SeedRng,
) -> Vec<PlannedInvoice> {
    use InvoiceStatus::{Disputed, Draft, Issued, Paid, PartiallyPaid};
    let monthly = |slot: usize| subscriptions[slot].monthly;
    match customer.story {
        Some(Story::LakeshoreDental) => {
            // Three open invoices totalling $38,400: one 67 days past due, one with an
            // open $12,000 scope dispute, one not yet due.
            let mut disputed = PlannedInvoice::new(50, 12_000, Disputed);
            disputed.dispute = Some(DisputeReason::Scope);
            vec![
                PlannedInvoice::new(157, 1_200, Paid).billing(0),
                PlannedInvoice::new(127, 1_200, Paid).billing(0),
                PlannedInvoice::new(67 + terms, 14_400, Issued),
                disputed,
                PlannedInvoice::new(20, 12_000, Issued),
            ]
        }
        Some(Story::PrairieFoods) => {
            // BC implementation milestones (20/30/30/20 of $45k) and change-request work.
            let mut change_work = PlannedInvoice::new(10 + terms, 4_800, PartiallyPaid);
            change_work.paid = Decimal::from(2_000);
            vec![
                PlannedInvoice::new(150, 9_000, Paid),
                PlannedInvoice::new(24 + terms, 13_500, Issued),
                change_work,
                PlannedInvoice::new(6, 3_200, Issued),
            ]
        }
        Some(Story::Rheinwerk) => vec![
            PlannedInvoice::new(134, 2_800, Paid).billing(0),
            PlannedInvoice::new(104, 2_800, Paid).billing(0),
            PlannedInvoice::new(44 + terms, 2_800, Issued).billing(0),
            PlannedInvoice::new(14 + terms, 2_800, Issued).billing(0),
            PlannedInvoice::new(16, 2_800, Issued).billing(0),
        ],
        Some(Story::BlueHeron) => vec![
            // Signed two days ago: the 20 % kickoff milestone, the first support month in
            // advance, and the design sign-off milestone prepared as a draft.
            PlannedInvoice::new(1, 9_000, Issued),
            PlannedInvoice::new(1, 1_200, Issued).billing(0),
            PlannedInvoice::new(-28, 13_500, Draft),
        ],
        Some(Story::ThamesMutual | Story::SummitAg) => {
            let count = rng.between(3, 6);
            (0..count)
                .map(|index| {
                    let issued_days_ago = 30 * (count - index) + 15;
                    let slot = (index as usize) % subscriptions.len().max(1);
                    let amount = subscriptions.get(slot).map_or(Decimal::from(5_000), |s| s.monthly);
                    let mut planned = PlannedInvoice::new(issued_days_ago, 0, Paid);
                    planned.total = amount;
                    planned.paid = amount;
                    if !subscriptions.is_empty() {
                        planned.subscription = Some(slot);
                    }
                    planned
                })
                .collect()
        }
        _ => {
            let count = rng.between(3, 6);
            let project_amount = Decimal::from(rng.between(20, 150) * 100);
            (0..count)
                .map(|index| {
                    let issued_days_ago = 30 * (count - 1 - index) + rng.between(3, 25);
                    let days_past_due = issued_days_ago - terms;
                    let slot = (index as usize) % subscriptions.len().max(1);
                    let total = if subscriptions.is_empty() { project_amount } else { monthly(slot) };
                    let roll = rng.between(1, 100);
                    let status = match days_past_due {
                        ..=0 => Issued,
                        1..=45 if roll <= 60 => Paid,
                        1..=45 if roll <= 85 => Issued,
                        1..=45 => PartiallyPaid,
                        _ if roll <= 94 => Paid,
                        _ => PartiallyPaid,
                    };
                    let paid = match status {
                        Paid => total,
                        PartiallyPaid => (total / Decimal::TWO).round_dp(2),
                        _ => Decimal::ZERO,
                    };
                    let subscription = (!subscriptions.is_empty()).then_some(slot);
                    PlannedInvoice { issued_days_ago, total, paid, status, subscription, dispute: None }
                })
                .collect()
        }
    }
}

fn at_noon(date: NaiveDate) -> DateTime<Utc> {
    date.and_time(chrono::NaiveTime::MIN).and_utc() + TimeDelta::hours(12)
}

fn plan_tenant(tenant: &DemoTenant, tenant_id: Uuid, today: NaiveDate) -> TenantRows {
    let mut rng = SeedRng::new(&format!("finance/{}", tenant.slug));
    let days_ago = |days: i64| today - TimeDelta::days(days);
    let mut rows = TenantRows::default();
    let mut invoice_sequence = 0u64;
    let mut dispute_sequence = 0u64;
    for (ordinal, customer) in tenant.customers.iter().enumerate() {
        let customer_id = demo::customer_id(tenant, ordinal);
        let channel_partner_id = customer.partner.map(|partner| demo::partner_id(tenant, partner));
        let currency = billing_currency(tenant, customer);
        let terms: i64 = if customer.segment == "enterprise" { 45 } else { 30 };
        let named_users = match customer.segment {
            "smb" => rng.between(8, 40),
            "mid_market" => rng.between(40, 150),
            _ => rng.between(150, 600),
        };
        let subscriptions = subscriptions_of(tenant, customer, &mut rng);

        // One contract per customer; story accounts pin its dates.
        let (contract_start, renewal_in_days) = match customer.story {
            Some(Story::BlueHeron) => (days_ago(2), 365),
            Some(Story::PrairieFoods) => (days_ago(160), 205),
            Some(Story::CedarValley) => (days_ago(290), 75),
            Some(Story::SummitAg) => (days_ago(265), 100),
            Some(Story::Rheinwerk) => (days_ago(640), 90),
            Some(Story::ThamesMutual) => (days_ago(95), 270),
            _ => (days_ago(rng.between(200, 700)), rng.between(20, 330)),
        };
        let contract_end = today + TimeDelta::days(renewal_in_days);
        let implementation_fee: i64 = match customer.story {
            Some(Story::PrairieFoods | Story::BlueHeron) => 45_000,
            Some(Story::Harborview) => 120_000,
            _ => 0,
        };
        let months = ((contract_end - contract_start).num_days() / 30).max(1);
        let recurring: Decimal = subscriptions.iter().map(|planned| planned.monthly).sum();
        let contract_type = match (customer.story, customer.segment) {
            (Some(Story::PrairieFoods | Story::BlueHeron | Story::Harborview), _) => "sow",
            (_, "enterprise") => "msa",
            _ => "order_form",
        };
        let contract_id = contract_id(tenant, ordinal);
        // The contract's lines add up to its total: the implementation fee, then each
        // recurring package for the contract's months.
        let mut lines: Vec<PlannedLine> = Vec::new();
        if implementation_fee > 0 {
            lines.push((None, "Implementation".to_owned(), Decimal::ONE, Decimal::from(implementation_fee), None));
        }
        for planned in &subscriptions {
            let description = format!("{} (months)", planned.code);
            lines.push((
                demo::package_id(tenant, planned.code),
                description,
                Decimal::from(months),
                planned.monthly,
                advisory_hours(planned.code),
            ));
        }
        let mut recurring_line_ids = Vec::new();
        for (index, (service_package_id, description, quantity, unit_price, hours)) in lines.into_iter().enumerate() {
            // The implementation fee is billed once; package lines monthly.
            let recurring = service_package_id.is_some();
            let line_key = format!("{}/{}/{description}", tenant.slug, tenant.customers[ordinal].name);
            // At most three lines (a fee and two packages): ids in entry order per contract.
            let line_ordinal = (ordinal * 4 + index) as u64;
            let line_id = demo::id("contract_line", line_ordinal, &line_key);
            if service_package_id.is_none() {
                // The implementation fee is billed in dated instalments.
                rows.billing_schedules.push(super::billing::demo_schedule_rows(
                    tenant_id,
                    contract_id,
                    line_id,
                    domain::line_amount(quantity, unit_price, Decimal::ZERO),
                    currency,
                    contract_start,
                    today,
                ));
            }
            rows.contract_lines.push(contract_line::ActiveModel {
                tenant_id: Set(tenant_id),
                id: Set(line_id),
                contract_id: Set(contract_id),
                service_package_id: Set(service_package_id),
                description: Set(description),
                quantity: Set(quantity),
                unit_price: Set(unit_price),
                discount_pct: Set(Decimal::ZERO),
                amount: Set(domain::line_amount(quantity, unit_price, Decimal::ZERO)),
                billing_model: Set(if recurring { "recurring" } else { "fixed" }.to_owned()),
                billing_interval: Set(recurring.then(|| "month".to_owned())),
                service_start: Set(Some(contract_start)),
                service_end: Set(Some(contract_end)),
                entitlement_kind: Set(hours.map(|_| "advisory".to_owned())),
                entitlement_hours_per_period: Set(hours.map(Decimal::from)),
            });
            // A signed contract's retainer grants its hours (the seed's contracts are signed).
            if let Some(hours) = hours {
                rows.entitlement_grants.push(entitlement_grant::ActiveModel {
                    tenant_id: Set(tenant_id),
                    id: Set(demo::id("entitlement_grant", line_ordinal, &line_key)),
                    customer_account_id: Set(customer_id),
                    contract_id: Set(contract_id),
                    contract_line_id: Set(demo::id("contract_line", line_ordinal, &line_key)),
                    kind: Set("advisory".to_owned()),
                    hours_per_period: Set(Decimal::from(hours)),
                    period: Set("month".to_owned()),
                    start_date: Set(contract_start),
                    end_date: Set(contract_end),
                    status: Set("active".to_owned()),
                });
            }
            if recurring {
                recurring_line_ids.push(demo::id("contract_line", line_ordinal, &line_key));
            }
        }
        rows.contracts.push(contract::ActiveModel {
            tenant_id: Set(tenant_id),
            id: Set(contract_id),
            number: Set(format!("CTR-{:05}", ordinal + 1)),
            customer_account_id: Set(customer_id),
            channel_partner_id: Set(channel_partner_id),
            contract_type: Set(contract_type.to_owned()),
            status: Set("active".to_owned()),
            start_date: Set(contract_start),
            end_date: Set(contract_end),
            signed_at: Set(Some(at_noon(contract_start))),
            total_value: Set(Decimal::from(implementation_fee) + recurring * Decimal::from(months)),
            currency: Set(currency.to_owned()),
            auto_renew: Set(!subscriptions.is_empty()),
            version: Set(1),
            signer_name: Set(None),
            signer_email: Set(None),
            discount_pct: Set(Decimal::ZERO),
        });
        rows.customers.push(customer_account::ActiveModel {
            tenant_id: Set(tenant_id),
            id: Set(customer_id),
            channel_partner_id: Set(channel_partner_id),
            name: Set(customer.name.to_owned()),
            legal_name: Set(Some(customer.name.to_owned())),
            segment: Set(customer.segment.to_owned()),
            erp_platform: Set(customer.erp_platform.to_owned()),
            data_region: Set(customer.data_region.to_owned()),
            billing_currency: Set(currency.to_owned()),
            payment_terms_days: Set(terms as i32),
            named_users: Set(named_users as i32),
            status: Set("active".to_owned()),
            customer_since: Set(Some(contract_start)),
            version: Set(1),
            csm_user_id: Set(None),
            account_owner_user_id: Set(None),
        });

        let subscription_ids: Vec<Uuid> = subscriptions
            .iter()
            .enumerate()
            .map(|(slot, planned)| subscription_id(tenant, ordinal, slot, planned.code))
            .collect();
        for (slot, (planned, id)) in subscriptions.iter().zip(&subscription_ids).enumerate() {
            // The ledger starts with the subscription: one item version and a `new` movement.
            let item_key = format!("{}/{}/{}", tenant.slug, customer.name, planned.code);
            rows.subscription_items.push(subscription_item::ActiveModel {
                tenant_id: Set(tenant_id),
                id: Set(demo::id("subscription_item", (ordinal * 2 + slot) as u64, &item_key)),
                subscription_id: Set(*id),
                contract_line_id: Set(recurring_line_ids.get(slot).copied()),
                service_package_id: Set(demo::package_id(tenant, planned.code)),
                description: Set(planned.code.to_owned()),
                billing_interval: Set("month".to_owned()),
                quantity: Set(Decimal::ONE),
                unit_price: Set(planned.monthly),
                discount_pct: Set(Decimal::ZERO),
                monthly_amount: Set(planned.monthly),
                effective_from: Set(contract_start),
                effective_to: Set(None),
            });
            rows.mrr_movements.push(mrr_movement::ActiveModel {
                tenant_id: Set(tenant_id),
                id: Set(demo::id("mrr_movement", (ordinal * 2 + slot) as u64, &item_key)),
                customer_account_id: Set(customer_id),
                subscription_id: Set(*id),
                effective_date: Set(contract_start),
                movement_type: Set(if slot == 0 { "new" } else { "expansion" }.to_owned()),
                mrr_delta: Set(planned.monthly),
                currency: Set(currency.to_owned()),
                cause_ref: Set(Some(format!("contract:{contract_id}"))),
                recorded_at: Set(at_noon(contract_start)),
            });
            rows.subscriptions.push(subscription::ActiveModel {
                tenant_id: Set(tenant_id),
                id: Set(*id),
                customer_account_id: Set(customer_id),
                contract_id: Set(contract_id),
                service_package_id: Set(demo::package_id(tenant, planned.code)),
                status: Set("active".to_owned()),
                billing_interval: Set("month".to_owned()),
                start_date: Set(contract_start),
                renewal_date: Set(Some(contract_end)),
                mrr: Set(planned.monthly),
                currency: Set(currency.to_owned()),
                version: Set(1),
                cancel_at_period_end: Set(false),
                cancelled_at: Set(None),
                cancel_reason: Set(None),
            });
        }

        for planned in invoices_of(customer, &subscriptions, terms, &mut rng) {
            invoice_sequence += 1;
            let issue_date = days_ago(planned.issued_days_ago);
            let due_date = issue_date + TimeDelta::days(terms);
            let number = format!("INV-{}-{invoice_sequence:05}", issue_date.format("%Y"));
            let id = demo::id("invoice", invoice_sequence, &format!("{}/{number}", tenant.slug));
            let balance = domain::balance_due(planned.total, planned.paid, Decimal::ZERO);
            let disputed = if planned.dispute.is_some() { balance } else { Decimal::ZERO };
            if let Some(reason) = planned.dispute {
                dispute_sequence += 1;
                rows.disputes.push(dispute::ActiveModel {
                    tenant_id: Set(tenant_id),
                    id: Set(demo::id("dispute", dispute_sequence, &format!("{}/{number}", tenant.slug))),
                    invoice_id: Set(id),
                    opened_at: Set(at_noon(due_date.min(today))),
                    reason: Set(reason.as_str().to_owned()),
                    amount: Set(disputed),
                    status: Set("open".to_owned()),
                    resolved_at: Set(None),
                    ..Default::default()
                });
            }
            rows.invoices.push(invoice::ActiveModel {
                tenant_id: Set(tenant_id),
                id: Set(id),
                number: Set(number),
                customer_account_id: Set(customer_id),
                channel_partner_id: Set(channel_partner_id),
                contract_id: Set(Some(contract_id)),
                subscription_id: Set(planned.subscription.and_then(|slot| subscription_ids.get(slot).copied())),
                status: Set(planned.status.as_str().to_owned()),
                issue_date: Set(issue_date),
                due_date: Set(due_date),
                currency: Set(currency.to_owned()),
                total: Set(planned.total),
                amount_paid: Set(planned.paid),
                amount_credited: Set(Decimal::ZERO),
                balance_due: Set(balance),
                disputed_amount: Set(disputed),
                paid_at: Set((planned.status == InvoiceStatus::Paid).then(|| at_noon(due_date - TimeDelta::days(3)))),
                version: Set(1),
                engagement_id: Set(None),
                subtotal: Set(planned.total),
                tax_total: Set(Decimal::ZERO),
                issued_at: Set(Some(at_noon(issue_date))),
                voided_at: Set(None),
                written_off_at: Set(None),
            });
        }
    }
    rows.fx_rates = demo_fx_rates(tenant, tenant_id, today);
    rows
}

/// Daily rates into the tenant's reporting currency of the other currencies its
/// customers pay in: one from before the oldest demo contract, one a month ago.
fn demo_fx_rates(tenant: &DemoTenant, tenant_id: Uuid, today: NaiveDate) -> Vec<fx_rate::ActiveModel> {
    const RATES: &[(&str, &str, &str, &str)] = &[
        // (from, to, rate two years ago, rate a month ago)
        ("USD", "EUR", "0.9200", "0.9350"),
        ("GBP", "EUR", "1.1700", "1.1850"),
        ("SGD", "EUR", "0.6900", "0.6850"),
    ];
    let mut rows = Vec::new();
    for (index, (from, to, old, recent)) in RATES.iter().enumerate() {
        let used = tenant.customers.iter().any(|customer| billing_currency(tenant, customer) == *from);
        if *to != tenant.reporting_currency || !used {
            continue;
        }
        for (offset, (days_ago, rate)) in [(800, old), (30, recent)].into_iter().enumerate() {
            let key = format!("{}/{from}/{to}/{days_ago}", tenant.slug);
            rows.push(fx_rate::ActiveModel {
                tenant_id: Set(tenant_id),
                id: Set(demo::id("fx_rate", (index * 2 + offset) as u64, &key)),
                from_currency: Set((*from).to_owned()),
                to_currency: Set((*to).to_owned()),
                rate_date: Set(today - TimeDelta::days(days_ago)),
                rate: Set(rate.parse().expect("a decimal rate")),
            });
        }
    }
    rows
}
