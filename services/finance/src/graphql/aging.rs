//! Receivables aging and DSO in the finance API (docs/domain.md#aging-and-dso): the aging
//! report per currency on either basis, and days sales outstanding over a window in the
//! reporting currency. Both as of today (the tenant's business date); finance and
//! tenant admins only, since both are money.

use async_graphql::{Context, Enum, Object, Result, SimpleObject};
use atrium_kit::{ErrorCode, TenantContext, cache_control::cache_control, subgraph_http::request_transaction};
use chrono::{NaiveDate, TimeDelta};
use rust_decimal::Decimal;

use super::{money::Money, types::business_date};
use crate::{
    domain::{self, aging, fx},
    repository::{self, ledger},
};

/// Seconds an aging answer may be reused (as other finance reads).
const AGING_MAX_AGE: u32 = 60;
/// The DSO window when none is asked for.
const DEFAULT_DSO_WINDOW_DAYS: i32 = 90;
/// Longest DSO window: two years.
const MAX_DSO_WINDOW_DAYS: i32 = 730;

/// What an invoice's age counts from.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::aging::AgingBasis")]
pub enum AgingBasis {
    /// Days past the due date.
    DueDate,
    /// Days since the invoice date.
    InvoiceDate,
}

/// One bucket of an aging report.
#[derive(SimpleObject)]
pub struct AgingBucketBalance {
    pub bucket: super::types::AgingBucket,
    pub balance: Money,
    /// The part of `balance` under dispute.
    pub disputed: Money,
    pub invoice_count: i32,
}

/// The aging of one currency's open invoices.
#[derive(SimpleObject)]
pub struct CurrencyAging {
    pub currency: String,
    /// Every bucket, youngest first.
    pub buckets: Vec<AgingBucketBalance>,
    pub total: Money,
    pub disputed: Money,
}

/// Days sales outstanding over a window ending today, in the reporting currency at the
/// rates of today.
#[derive(SimpleObject)]
pub struct Dso {
    pub as_of: NaiveDate,
    pub window_days: i32,
    /// Open AR today.
    pub ar_balance: Money,
    /// Σ totals of the invoices issued in the window (not voided).
    pub invoiced: Money,
    /// AR ÷ invoiced × window days, one decimal; null when nothing was invoiced.
    pub days: Option<Decimal>,
}

#[derive(Default)]
pub struct AgingQuery;

fn require_finance(ctx: &Context<'_>) -> Result<()> {
    let context = ctx.data::<TenantContext>()?;
    if ["tenant_admin", "finance"].iter().any(|role| context.has_role(role)) {
        return Ok(());
    }
    Err(ErrorCode::Forbidden.graphql_error("requires one of the roles: tenant_admin, finance"))
}

#[Object]
impl AgingQuery {
    /// Open receivables by currency and aging bucket as of today, on the due-date basis
    /// (default) or the invoice-date basis.
    #[graphql(directive = cache_control::apply(AGING_MAX_AGE))]
    async fn receivables_aging(&self, ctx: &Context<'_>, basis: Option<AgingBasis>) -> Result<Vec<CurrencyAging>> {
        require_finance(ctx)?;
        let tx = request_transaction(ctx)?;
        let today = business_date(ctx)?;
        let invoices = repository::aging::open_invoices(&tx).await?;
        let basis = basis.map_or(aging::AgingBasis::DueDate, Into::into);
        Ok(aging::aging_report(invoices.iter(), basis, today)
            .into_iter()
            .map(|report| CurrencyAging {
                buckets: report
                    .buckets
                    .into_iter()
                    .map(|bucket| AgingBucketBalance {
                        bucket: bucket.bucket.into(),
                        balance: Money::new(bucket.balance, report.currency.clone()),
                        disputed: Money::new(bucket.disputed, report.currency.clone()),
                        invoice_count: i32::try_from(bucket.invoice_count).unwrap_or(i32::MAX),
                    })
                    .collect(),
                total: Money::new(report.total, report.currency.clone()),
                disputed: Money::new(report.disputed, report.currency.clone()),
                currency: report.currency,
            })
            .collect())
    }

    /// Days sales outstanding over the `windowDays` (default 90, 1–730) ending today.
    #[graphql(directive = cache_control::apply(AGING_MAX_AGE))]
    async fn dso(&self, ctx: &Context<'_>, window_days: Option<i32>) -> Result<Dso> {
        require_finance(ctx)?;
        let window_days = window_days.unwrap_or(DEFAULT_DSO_WINDOW_DAYS);
        if !(1..=MAX_DSO_WINDOW_DAYS).contains(&window_days) {
            return Err(ErrorCode::BadUserInput
                .graphql_error(format!("windowDays must be 1 to {MAX_DSO_WINDOW_DAYS}, got {window_days}")));
        }
        let tx = request_transaction(ctx)?;
        let today = business_date(ctx)?;
        let window = i64::from(window_days);
        let open = repository::aging::open_invoices(&tx).await?;
        let issued = repository::aging::invoices_issued_between(&tx, today - TimeDelta::days(window), today).await?;
        let reporting = match ledger::reporting_currency(&tx).await? {
            Some(currency) => currency,
            // Without a reporting currency a single-currency book reports in its own.
            None => {
                open.iter().chain(&issued).next().map_or_else(|| "USD".to_owned(), |invoice| invoice.currency.clone())
            }
        };
        let rates = ledger::rates_into(&tx, &reporting, today).await?;
        let convert = |amount: Decimal, currency: &str| -> Result<Decimal> {
            fx::rate_on(&rates, currency, &reporting, today).map(|rate| amount * rate.rate).ok_or_else(|| {
                ErrorCode::BadUserInput.graphql_error(format!("no {currency}→{reporting} rate on or before {today}"))
            })
        };
        let mut ar_balance = Decimal::ZERO;
        for invoice in &open {
            ar_balance += convert(invoice.balance_due, &invoice.currency)?;
        }
        let mut invoiced = Decimal::ZERO;
        for invoice in issued.iter().filter(|invoice| aging::invoiced_in_window(invoice, today, window)) {
            invoiced += convert(invoice.total, &invoice.currency)?;
        }
        Ok(Dso {
            as_of: today,
            window_days,
            ar_balance: Money::new(ar_balance, reporting.clone()),
            invoiced: Money::new(invoiced, reporting),
            days: aging::dso(ar_balance, invoiced, window),
        })
    }
}
