//! The executive KPIs on GraphQL (docs/domain.md#kpis): analytics contributes `kpis` to the
//! catalog-owned `Tenant` and to `ChannelPartner` by key, answering the live values over a
//! trailing window ending today (tenant time zone) with numerator, denominator and n.
//! Readable by tenant admins, CSMs and executives; partner users read only their own
//! partner's values (on `Tenant` their second-level scope narrows every row to it).

use std::sync::Arc;

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use atrium_kit::{TenantContext, TenantTransaction, errors::ErrorCode, schedule::TenantTick};
use chrono::{NaiveDate, Utc};
use uuid::Uuid;

use crate::kpi::{KpiValue, KpiWindow, snapshots};

/// Roles that read the KPIs of the whole tenant.
const KPI_READERS: &[&str] = &["tenant_admin", "csm", "exec"];
/// Roles that read the KPIs of their own channel partner.
const PARTNER_READERS: &[&str] = &["partner_admin", "partner_user"];

/// One KPI over one window.
#[derive(SimpleObject)]
pub struct Kpi {
    pub code: String,
    pub window: KpiWindow,
    pub period_end: NaiveDate,
    /// Null when there is nothing to measure (see `reason`).
    pub value: Option<f64>,
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
    pub n: i32,
    /// `no_data`, `insufficient_sample` or `no_variance` when `value` is null.
    pub reason: Option<String>,
}

impl Kpi {
    fn new(kpi: KpiValue, window: KpiWindow, period_end: NaiveDate) -> Self {
        Kpi {
            code: kpi.code.to_owned(),
            window,
            period_end,
            value: kpi.value,
            numerator: kpi.numerator,
            denominator: kpi.denominator,
            n: kpi.n as i32,
            reason: kpi.reason.map(str::to_owned),
        }
    }
}

pub struct Tenant {
    pub id: ID,
}

#[Object]
impl Tenant {
    async fn id(&self) -> &ID {
        &self.id
    }

    /// The tenant's KPIs over `window` (default the trailing 90 days).
    async fn kpis(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "KpiWindow::D90")] window: KpiWindow,
    ) -> Result<Vec<Kpi>> {
        let context = ctx.data::<TenantContext>()?;
        let partner = if context.has_any(KPI_READERS) {
            None
        } else if context.has_any(PARTNER_READERS) && context.channel_partner_id.is_some() {
            context.channel_partner_id
        } else {
            return Err(forbidden());
        };
        live_kpis(ctx, &self.id, partner, window).await
    }
}

pub struct ChannelPartner {
    pub id: ID,
}

#[Object]
impl ChannelPartner {
    async fn id(&self) -> &ID {
        &self.id
    }

    /// The channel partner's KPIs over `window` (default the trailing 90 days).
    async fn kpis(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "KpiWindow::D90")] window: KpiWindow,
    ) -> Result<Vec<Kpi>> {
        let context = ctx.data::<TenantContext>()?;
        let Ok(partner) = Uuid::parse_str(self.id.as_str()) else { return Ok(Vec::new()) };
        let own = context.channel_partner_id == Some(partner) && context.has_any(PARTNER_READERS);
        if !(own || (context.channel_partner_id.is_none() && context.has_any(KPI_READERS))) {
            return Err(forbidden());
        }
        let tenant = ID(context.tenant_id.to_string());
        live_kpis(ctx, &tenant, Some(partner), window).await
    }
}

trait RoleCheck {
    fn has_any(&self, roles: &[&str]) -> bool;
}

impl RoleCheck for TenantContext {
    fn has_any(&self, roles: &[&str]) -> bool {
        roles.iter().any(|role| self.has_role(role))
    }
}

fn forbidden() -> async_graphql::Error {
    ErrorCode::Forbidden
        .graphql_error("KPIs are readable by tenant_admin, csm, exec and partner users for their partner")
}

async fn live_kpis(ctx: &Context<'_>, tenant: &ID, partner: Option<Uuid>, window: KpiWindow) -> Result<Vec<Kpi>> {
    let tx = ctx.data::<Arc<TenantTransaction>>()?;
    // Another tenant's representation: nothing of it is readable here.
    if Uuid::parse_str(tenant.as_str()).ok() != Some(tx.tenant_id()) {
        return Ok(Vec::new());
    }
    let today = TenantTick::at(tx.tenant_id(), Utc::now()).today;
    let kpis = snapshots::compute(tx, partner, window, today).await?;
    Ok(kpis.into_iter().map(|kpi| Kpi::new(kpi, window, today)).collect())
}
