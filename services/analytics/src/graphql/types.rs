//! Analytics GraphQL types: the `CustomerAccount` extension with its external inputs and
//! `health`, the health score and the model summary. Scoring itself is `domain::health`.

use std::sync::Arc;

use async_graphql::{ComplexObject, Context, Enum, ID, Result, SimpleObject, dataloader::DataLoader};
use atrium_kit::{
    TenantTransaction,
    cache_control::cache_control,
    errors::ErrorCode,
    pagination::{PageInfo, PageRequest},
};
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::{
    journey::{self, LifecycleEventConnection, LifecycleStage},
    loaders::{ActiveModelKey, ActiveModelLoader, CustomerFactsLoader},
};
use crate::{
    domain::{
        HealthModelVersion,
        facts::CustomerFacts,
        health,
        health_model::{self, ScoringKind},
    },
    error::AnalyticsError,
    repository::health_snapshots,
};

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "health::HealthBand")]
pub enum HealthBand {
    Red,
    Yellow,
    Green,
    Unknown,
}

/// A customer account (owned by finance); analytics contributes its health, its journey
/// timeline and its lifecycle stage.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct CustomerAccount {
    pub id: ID,
    /// Open urgent + high tickets (owned by support).
    #[graphql(external)]
    pub open_urgent_high_ticket_count: i32,
    /// Share of open AR more than 60 days past due (owned by finance); null without open AR.
    #[graphql(external, name = "arOver60Share")]
    pub ar_over60_share: Option<f64>,
    /// Whether the router actually sent the ticket count (the field above is non-null in
    /// the contract, so its absence must be remembered separately).
    #[graphql(skip)]
    pub provided_open_urgent_high: Option<i32>,
}

impl CustomerAccount {
    pub fn from_representation(id: ID, open_urgent_high: Option<i32>, ar_over60_share: Option<f64>) -> Self {
        CustomerAccount {
            id,
            open_urgent_high_ticket_count: open_urgent_high.unwrap_or_default(),
            ar_over60_share,
            provided_open_urgent_high: open_urgent_high,
        }
    }
}

#[ComplexObject]
impl CustomerAccount {
    /// Health under the tenant's active model (docs/domain.md#health-score), computed now
    /// from analytics' facts about the customer; the `@requires` inputs stand in for the
    /// open urgent/high tickets and the AR-over-60 share while the facts lack them.
    // Support and finance announce changes to the inputs as `CustomerAccount` changes,
    // which drops cached answers early; the hint bounds the rest (analytics' own signals).
    #[graphql(requires = "openUrgentHighTicketCount arOver60Share", directive = cache_control::apply(300))]
    async fn health(&self, ctx: &Context<'_>) -> Result<HealthScore> {
        let model = active_model_version(ctx).await?;
        let customer_id = Uuid::parse_str(self.id.as_str()).ok();
        let mut facts = match customer_id {
            Some(customer_id) => {
                let loader = ctx.data::<DataLoader<CustomerFactsLoader>>()?;
                loader.load_one(customer_id).await.map_err(loader_error)?.unwrap_or_default()
            }
            None => CustomerFacts::default(),
        };
        facts.open_urgent_high = facts.open_urgent_high.or(self.provided_open_urgent_high.map(f64::from));
        facts.ar_over_60_share = facts.ar_over_60_share.or(self.ar_over60_share);
        let result = health_model::score(&model.definition, &facts);
        Ok(HealthScore::from_result(result, model.label()))
    }

    /// The customer's stored health snapshots, newest first (docs/domain.md#health-snapshots).
    async fn health_history(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<HealthSnapshotConnection> {
        let page = PageRequest::parse(first, after.as_deref())?;
        let Ok(customer_id) = Uuid::parse_str(self.id.as_str()) else {
            let page_info = PageInfo { has_next_page: false, end_cursor: None };
            return Ok(HealthSnapshotConnection { nodes: Vec::new(), page_info });
        };
        let tx = ctx.data::<Arc<TenantTransaction>>()?;
        let rows = health_snapshots::history(tx, customer_id, page.after, page.first + 1).await?;
        let (rows, page_info) = page.finish(rows, |snapshot| snapshot.id);
        Ok(HealthSnapshotConnection { nodes: rows.into_iter().map(Into::into).collect(), page_info })
    }

    /// The customer's journey, oldest step first (contract signed, onboarding started,
    /// onboarding completed, went live), from finance's and delivery's events.
    async fn timeline(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<LifecycleEventConnection> {
        journey::timeline_of(ctx, &self.id, first, after).await
    }

    /// Where the customer is in its lifecycle, by the stage rules over its engagements;
    /// null while analytics has received no event about the customer.
    async fn lifecycle_stage(&self, ctx: &Context<'_>) -> Result<Option<LifecycleStage>> {
        journey::stage_of(ctx, &self.id).await
    }

    /// The customer's CS actions, oldest first (docs/domain.md#cs-actions-and-playbooks).
    #[graphql(
        requires_scopes = "tenant_admin",
        requires_scopes = "exec",
        requires_scopes = "csm",
        requires_scopes = "delivery_manager",
        requires_scopes = "finance",
        requires_scopes = "support_lead",
        requires_scopes = "partner_admin",
        requires_scopes = "partner_user"
    )]
    async fn cs_actions(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<super::cs_actions::CsActionConnection> {
        super::cs_actions::cs_actions_of(ctx, &self.id, first, after).await
    }
}

/// A customer's health as of now.
#[derive(SimpleObject)]
pub struct HealthScore {
    /// 0–100; null when too little of the model's weight has data (band UNKNOWN).
    pub score: Option<i32>,
    pub band: HealthBand,
    /// Share of the profile's weight that had data, 0–1.
    pub coverage: f64,
    /// `<model name>@<version>` of the model that scored.
    pub model_version: String,
    /// `onboarding` or `steady_state`, from the customer's lifecycle stage.
    pub profile: String,
    /// The conditions that capped the score (`; `-separated), null when none did.
    pub override_reason: Option<String>,
    pub measures: Vec<HealthMeasureScore>,
}

impl HealthScore {
    pub fn from_result(result: health_model::HealthResult, model_version: String) -> Self {
        HealthScore {
            score: result.score,
            band: result.band.into(),
            coverage: round4(result.coverage),
            model_version,
            profile: result.profile.as_str().to_owned(),
            override_reason: result.override_reason,
            measures: result
                .measures
                .into_iter()
                .map(|measure| HealthMeasureScore {
                    code: measure.code,
                    group: measure.group.as_str().to_owned(),
                    raw_value: measure.raw_value,
                    score: measure.score,
                    weight: measure.weight,
                    effective_weight: round4(measure.effective_weight),
                })
                .collect(),
        }
    }
}

/// A customer's health as computed and stored on a day, under the model version named.
#[derive(SimpleObject)]
pub struct HealthSnapshot {
    pub id: ID,
    pub as_of: NaiveDate,
    pub score: Option<i32>,
    pub band: HealthBand,
    /// `up`, `flat` or `down` against the snapshot the model's lookback earlier.
    pub trend: String,
    pub previous_score: Option<i32>,
    pub override_reason: Option<String>,
    pub coverage: f64,
    pub profile: String,
    pub model_version: String,
    pub computed_at: DateTime<Utc>,
}

impl From<health_model::HealthSnapshot> for HealthSnapshot {
    fn from(snapshot: health_model::HealthSnapshot) -> Self {
        HealthSnapshot {
            id: ID(snapshot.id.to_string()),
            as_of: snapshot.as_of,
            score: snapshot.score,
            band: snapshot.band.into(),
            trend: snapshot.trend.as_str().to_owned(),
            previous_score: snapshot.previous_score,
            override_reason: snapshot.override_reason,
            coverage: round4(snapshot.coverage),
            profile: snapshot.profile,
            model_version: snapshot.model_version,
            computed_at: snapshot.computed_at,
        }
    }
}

#[derive(SimpleObject)]
pub struct HealthSnapshotConnection {
    pub nodes: Vec<HealthSnapshot>,
    pub page_info: PageInfo,
}

/// One measure's contribution to a health score.
#[derive(SimpleObject)]
pub struct HealthMeasureScore {
    pub code: String,
    pub group: String,
    /// The input value; null when there was no data.
    pub raw_value: Option<f64>,
    /// 0–100; null when there was no data.
    pub score: Option<i32>,
    /// The model's weight.
    pub weight: f64,
    /// The weight after the missing weight was redistributed (0 without data).
    pub effective_weight: f64,
}

/// A version of the tenant's health model.
#[derive(SimpleObject)]
pub struct HealthModel {
    pub id: ID,
    pub name: String,
    pub version: i32,
    /// `draft`, `active` or `retired`.
    pub status: String,
    pub bands: Vec<HealthBandRange>,
    /// Below this share of weight with data, the band is UNKNOWN and there is no score.
    pub min_data_coverage: f64,
    pub trend_lookback_days: i32,
    pub trend_threshold: i32,
    pub renewal_window_days: i32,
    pub overrides_enabled: bool,
    /// The measures of both profiles.
    pub measures: Vec<HealthMeasureDefinition>,
}

/// The scores (inclusive) that fall into a band.
#[derive(SimpleObject)]
pub struct HealthBandRange {
    pub band: HealthBand,
    pub min_score: i32,
    pub max_score: i32,
}

#[derive(SimpleObject)]
pub struct HealthMeasureDefinition {
    /// `onboarding` or `steady_state`.
    pub profile: String,
    pub code: String,
    pub group: String,
    pub weight: f64,
    /// `linear` or `manual` (1–5).
    pub scoring: String,
    /// Linear measures only.
    pub green_at: Option<f64>,
    pub red_at: Option<f64>,
    pub active: bool,
}

impl From<HealthModelVersion> for HealthModel {
    fn from(version: HealthModelVersion) -> Self {
        let definition = &version.definition;
        let bands = definition.bands;
        HealthModel {
            id: ID(version.id.to_string()),
            name: version.name.clone(),
            version: version.version,
            status: version.status.as_str().to_owned(),
            bands: vec![
                HealthBandRange { band: HealthBand::Red, min_score: 0, max_score: bands.red_max },
                HealthBandRange { band: HealthBand::Yellow, min_score: bands.red_max + 1, max_score: bands.yellow_max },
                HealthBandRange { band: HealthBand::Green, min_score: bands.yellow_max + 1, max_score: 100 },
            ],
            min_data_coverage: definition.min_data_coverage,
            trend_lookback_days: definition.trend_lookback_days,
            trend_threshold: definition.trend_threshold,
            renewal_window_days: definition.renewal_window_days,
            overrides_enabled: definition.overrides.enabled,
            measures: definition
                .measures
                .iter()
                .map(|measure| HealthMeasureDefinition {
                    profile: measure.profile.as_str().to_owned(),
                    code: measure.code.clone(),
                    group: measure.group.as_str().to_owned(),
                    weight: measure.weight,
                    scoring: match measure.scoring {
                        ScoringKind::Linear => "linear",
                        ScoringKind::Manual => "manual",
                    }
                    .to_owned(),
                    green_at: measure.green_at,
                    red_at: measure.red_at,
                    active: measure.active,
                })
                .collect(),
        }
    }
}

pub async fn active_health_model(ctx: &Context<'_>) -> Result<HealthModel> {
    Ok(active_model_version(ctx).await?.into())
}

async fn active_model_version(ctx: &Context<'_>) -> Result<HealthModelVersion> {
    let loader = ctx.data::<DataLoader<ActiveModelLoader>>()?;
    loader
        .load_one(ActiveModelKey)
        .await
        .map_err(loader_error)?
        .ok_or_else(|| ErrorCode::NotFound.graphql_error("the tenant has no active health model"))
}

pub fn round4(value: f64) -> f64 {
    (value * 10_000.0).round() / 10_000.0
}

/// A DataLoader failure: logged and masked as an internal error by the schema extension.
fn loader_error(error: Arc<AnalyticsError>) -> async_graphql::Error {
    async_graphql::Error::new(error.to_string())
}
