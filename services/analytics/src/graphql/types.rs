//! Analytics GraphQL types: the `CustomerAccount` extension with its external inputs and
//! `health`, the health score and the model summary. Scoring itself is `domain::health`.

use std::sync::Arc;

use async_graphql::{ComplexObject, Context, Enum, ID, Result, SimpleObject, dataloader::DataLoader};
use atrium_kit::{cache_control::cache_control, errors::ErrorCode};
use chrono::Utc;
use uuid::Uuid;

use super::{
    journey::{self, LifecycleEventConnection, LifecycleStage},
    loaders::{ActiveModelKey, ActiveModelLoader, CustomerSignalsLoader},
};
use crate::{
    domain::{
        HealthModelVersion,
        health::{self, HealthInputs, HealthModelDefinition, Scoring},
    },
    error::AnalyticsError,
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
    /// Health computed now from the required inputs and analytics' own signals, on the
    /// measures of the standard model that have inputs today.
    // Measures, weights and bands: docs/domain.md#health-score.
    // Support and finance announce changes to the inputs as `CustomerAccount` changes,
    // which drops cached answers early; the hint bounds the rest (analytics' own signals).
    #[graphql(requires = "openUrgentHighTicketCount arOver60Share", directive = cache_control::apply(300))]
    async fn health(&self, ctx: &Context<'_>) -> Result<HealthScore> {
        let model = active_model_version(ctx).await?;
        let signals = match Uuid::parse_str(self.id.as_str()) {
            Ok(customer_id) => {
                let loader = ctx.data::<DataLoader<CustomerSignalsLoader>>()?;
                loader.load_one(customer_id).await.map_err(loader_error)?
            }
            Err(_) => None,
        };
        let today = Utc::now().date_naive();
        let inputs = HealthInputs {
            open_urgent_high: self.provided_open_urgent_high.map(f64::from),
            ar_over_60_share: self.ar_over60_share,
            csm_pulse: signals.as_ref().and_then(|signals| signals.csm_pulse),
            days_since_exec_touch: signals
                .as_ref()
                .and_then(|signals| health::days_since(signals.last_exec_touch_on, today)),
        };
        let assessment = health::assess(&HealthModelDefinition::standard_v1(), &inputs);
        Ok(HealthScore {
            score: assessment.score,
            band: assessment.band.into(),
            coverage: round4(assessment.coverage),
            model_version: model.label(),
            measures: assessment
                .measures
                .into_iter()
                .map(|measure| HealthMeasureScore {
                    code: measure.code.as_str().to_owned(),
                    group: measure.group.as_str().to_owned(),
                    raw_value: measure.raw_value,
                    score: measure.score,
                    weight: measure.weight,
                })
                .collect(),
        })
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
    /// 0–100; null when no measure has data.
    pub score: Option<i32>,
    pub band: HealthBand,
    /// Share of the model's weight that had data, 0–1.
    pub coverage: f64,
    /// `<model name>@<version>` of the model that scored.
    pub model_version: String,
    pub measures: Vec<HealthMeasureScore>,
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
    pub weight: f64,
}

/// The tenant's active health model.
#[derive(SimpleObject)]
pub struct HealthModel {
    pub id: ID,
    pub name: String,
    pub version: i32,
    pub bands: Vec<HealthBandRange>,
    /// Below this share of weight with data, the band is UNKNOWN.
    pub min_data_coverage: f64,
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
    pub code: String,
    pub group: String,
    pub weight: f64,
    /// `linear` or `manual` (1–5).
    pub scoring: String,
    /// Linear measures only.
    pub green_at: Option<f64>,
    pub red_at: Option<f64>,
}

pub async fn active_health_model(ctx: &Context<'_>) -> Result<HealthModel> {
    let version = active_model_version(ctx).await?;
    let definition = HealthModelDefinition::standard_v1();
    let bands = definition.bands;
    Ok(HealthModel {
        id: ID(version.id.to_string()),
        name: version.name,
        version: version.version,
        bands: vec![
            HealthBandRange { band: HealthBand::Red, min_score: 0, max_score: bands.red_max },
            HealthBandRange { band: HealthBand::Yellow, min_score: bands.red_max + 1, max_score: bands.yellow_max },
            HealthBandRange { band: HealthBand::Green, min_score: bands.yellow_max + 1, max_score: 100 },
        ],
        min_data_coverage: definition.min_data_coverage,
        measures: definition
            .measures
            .iter()
            .map(|measure| {
                let (scoring, green_at, red_at) = match measure.scoring {
                    Scoring::Linear { green_at, red_at } => ("linear", Some(green_at), Some(red_at)),
                    Scoring::Manual => ("manual", None, None),
                };
                HealthMeasureDefinition {
                    code: measure.code.as_str().to_owned(),
                    group: measure.group.as_str().to_owned(),
                    weight: measure.weight,
                    scoring: scoring.to_owned(),
                    green_at,
                    red_at,
                }
            })
            .collect(),
    })
}

async fn active_model_version(ctx: &Context<'_>) -> Result<HealthModelVersion> {
    let loader = ctx.data::<DataLoader<ActiveModelLoader>>()?;
    loader
        .load_one(ActiveModelKey)
        .await
        .map_err(loader_error)?
        .ok_or_else(|| ErrorCode::NotFound.graphql_error("the tenant has no active health model"))
}

fn round4(value: f64) -> f64 {
    (value * 10_000.0).round() / 10_000.0
}

/// A DataLoader failure: logged and masked as an internal error by the schema extension.
fn loader_error(error: Arc<AnalyticsError>) -> async_graphql::Error {
    async_graphql::Error::new(error.to_string())
}
