//! The tenant admin's editing of the health model (docs/domain.md#health-model-editing):
//! draft a new version from an existing one, change its measures, bands and thresholds,
//! preview how the tenant's customers would score under it, activate it. Every write is a
//! command (tenant_admin only, audited); activation emits `analytics.health_model.activated`
//! and announces `CustomerAccount` changes so cached health answers are dropped.

use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use atrium_kit::{
    ErrorCode, TenantContext, TenantTransaction,
    changes::{self, ChangeKind},
    command::{self, Command, CommandError, Outcome},
    events::{DomainEvent, Subject},
};
use serde_json::json;
use uuid::Uuid;

use super::types::{HealthBand, HealthModel, round4};
use crate::{
    config::SERVICE,
    domain::{
        HealthModelVersion,
        health::{Bands, HealthBand as DomainBand},
        health_model::{self, Group, MeasureSpec, ModelDefinition, Profile, ScoringKind},
    },
    error::AnalyticsError,
    repository::{self, health_models},
};

const MODEL_EDITORS: &[&str] = &["tenant_admin"];

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum HealthProfile {
    Onboarding,
    SteadyState,
}

impl From<HealthProfile> for Profile {
    fn from(profile: HealthProfile) -> Self {
        match profile {
            HealthProfile::Onboarding => Profile::Onboarding,
            HealthProfile::SteadyState => Profile::SteadyState,
        }
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum HealthMeasureGroup {
    Delivery,
    Support,
    Financial,
    Adoption,
    Relationship,
}

impl From<HealthMeasureGroup> for Group {
    fn from(group: HealthMeasureGroup) -> Self {
        match group {
            HealthMeasureGroup::Delivery => Group::Delivery,
            HealthMeasureGroup::Support => Group::Support,
            HealthMeasureGroup::Financial => Group::Financial,
            HealthMeasureGroup::Adoption => Group::Adoption,
            HealthMeasureGroup::Relationship => Group::Relationship,
        }
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum HealthScoring {
    Linear,
    Manual,
}

/// A change to one measure of one profile; a measure not yet in the profile is added and
/// then needs `group` and `weight`.
#[derive(InputObject)]
pub struct HealthMeasureInput {
    pub profile: HealthProfile,
    pub code: String,
    pub group: Option<HealthMeasureGroup>,
    pub weight: Option<f64>,
    pub scoring: Option<HealthScoring>,
    pub green_at: Option<f64>,
    pub red_at: Option<f64>,
    pub active: Option<bool>,
}

/// Inclusive upper bounds of the red and yellow bands.
#[derive(InputObject)]
pub struct HealthBandsInput {
    pub red_max: i32,
    pub yellow_max: i32,
}

/// What to change in a draft; omitted fields keep their value.
#[derive(InputObject, Default)]
pub struct HealthModelDraftInput {
    pub measures: Option<Vec<HealthMeasureInput>>,
    pub bands: Option<HealthBandsInput>,
    pub min_data_coverage: Option<f64>,
    pub trend_lookback_days: Option<i32>,
    pub trend_threshold: Option<i32>,
    pub renewal_window_days: Option<i32>,
    pub overrides_enabled: Option<bool>,
}

/// How many of the tenant's customers fall into a band.
#[derive(SimpleObject)]
pub struct BandCount {
    pub band: HealthBand,
    pub customers: i32,
}

/// One customer's score under the previewed model.
#[derive(SimpleObject)]
pub struct CustomerHealthPreview {
    pub customer_account_id: ID,
    pub profile: String,
    pub score: Option<i32>,
    pub band: HealthBand,
    pub coverage: f64,
    pub override_reason: Option<String>,
}

/// The tenant's customers scored under a model version on today's facts.
#[derive(SimpleObject)]
pub struct HealthModelPreview {
    pub model_version: String,
    /// Red, yellow, green, unknown: every band, also when empty.
    pub distribution: Vec<BandCount>,
    pub customers: Vec<CustomerHealthPreview>,
}

#[derive(Default)]
pub struct HealthModelMutation;

#[Object]
impl HealthModelMutation {
    /// A new draft version with the definition of version `fromVersion` of the active
    /// model's name (the active version when omitted).
    async fn create_health_model_draft(&self, ctx: &Context<'_>, from_version: Option<i32>) -> Result<HealthModel> {
        let command = model_command("createHealthModelDraft", None);
        let draft = command::run(ctx, command, |tx| Box::pin(create_draft(tx, from_version))).await?;
        Ok(draft.into())
    }

    /// Changes a draft; refused with BAD_USER_INPUT when the result would not validate
    /// (the message starts with the problem's code, e.g. `WEIGHT_NOT_POSITIVE`).
    async fn update_health_model_draft(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: HealthModelDraftInput,
    ) -> Result<HealthModel> {
        let model_id = target(&id)?;
        let command = model_command("updateHealthModelDraft", Some(model_id));
        let draft = command::run(ctx, command, |tx| Box::pin(update_draft(tx, model_id, input))).await?;
        Ok(draft.into())
    }

    /// Makes a draft the tenant's active model; the previously active version retires.
    /// Stored snapshots keep the version they were computed with.
    async fn activate_health_model(&self, ctx: &Context<'_>, id: ID) -> Result<HealthModel> {
        let model_id = target(&id)?;
        let command = model_command("activateHealthModel", Some(model_id));
        let active = command::run(ctx, command, |tx| Box::pin(activate(tx, model_id))).await?;
        Ok(active.into())
    }
}

fn model_command(operation: &'static str, target: Option<Uuid>) -> Command {
    Command { operation, entity_type: "HealthModel", allowed_roles: MODEL_EDITORS, target }
}

fn target(id: &ID) -> Result<Uuid> {
    Uuid::parse_str(id.as_str()).map_err(|_| ErrorCode::NotFound.graphql_error("no HealthModel with this id"))
}

fn internal(error: AnalyticsError) -> CommandError {
    match error {
        AnalyticsError::Database(error) => CommandError::Database(error),
        other => CommandError::Database(sea_orm::DbErr::Custom(other.to_string())),
    }
}

fn model_event(context: &TenantContext, event_type: &str, model: &HealthModelVersion, version: i64) -> DomainEvent {
    let subject = Subject { entity_type: "HealthModel".to_owned(), id: model.id, version };
    DomainEvent::new(context, event_type, subject)
        .with_data(json!({ "name": model.name, "version": model.version, "model_version": model.label() }))
}

async fn create_draft(
    tx: &TenantTransaction,
    from_version: Option<i32>,
) -> Result<Outcome<HealthModelVersion>, CommandError> {
    let active =
        repository::active_health_model(tx).await.map_err(internal)?.ok_or(CommandError::NotFound("HealthModel"))?;
    let source = match from_version {
        None => active,
        Some(version) => health_models::model_by_version(tx, &active.name, version)
            .await
            .map_err(internal)?
            .ok_or(CommandError::NotFound("HealthModel"))?,
    };
    let draft = health_models::insert_draft(tx, &source).await.map_err(internal)?;
    Ok(Outcome {
        entity_ids: vec![draft.id],
        detail: format!("draft {} from {}", draft.label(), source.label()),
        events: vec![model_event(tx.context(), "analytics.health_model.draft_created", &draft, 1)],
        value: draft,
    })
}

/// Applies `input` to a definition, or says why it cannot be.
pub fn apply_input(mut definition: ModelDefinition, input: HealthModelDraftInput) -> Result<ModelDefinition, String> {
    for change in input.measures.unwrap_or_default() {
        let profile = Profile::from(change.profile);
        let position = definition.measures.iter().position(|m| m.profile == profile && m.code == change.code);
        let measure = match position {
            Some(position) => &mut definition.measures[position],
            None => {
                let (Some(group), Some(weight)) = (change.group, change.weight) else {
                    return Err(format!(
                        "MEASURE_INCOMPLETE: {} is new in {} and needs group and weight",
                        change.code,
                        profile.as_str()
                    ));
                };
                definition.measures.push(MeasureSpec {
                    profile,
                    group: group.into(),
                    code: change.code.clone(),
                    weight,
                    scoring: ScoringKind::Linear,
                    green_at: None,
                    red_at: None,
                    active: true,
                });
                definition.measures.last_mut().expect("just pushed")
            }
        };
        if let Some(group) = change.group {
            measure.group = group.into();
        }
        if let Some(weight) = change.weight {
            measure.weight = weight;
        }
        if let Some(scoring) = change.scoring {
            measure.scoring = match scoring {
                HealthScoring::Linear => ScoringKind::Linear,
                HealthScoring::Manual => ScoringKind::Manual,
            };
        }
        if change.green_at.is_some() {
            measure.green_at = change.green_at;
        }
        if change.red_at.is_some() {
            measure.red_at = change.red_at;
        }
        if let Some(active) = change.active {
            measure.active = active;
        }
    }
    if let Some(bands) = input.bands {
        definition.bands = Bands { red_max: bands.red_max, yellow_max: bands.yellow_max };
    }
    if let Some(coverage) = input.min_data_coverage {
        definition.min_data_coverage = coverage;
    }
    if let Some(days) = input.trend_lookback_days {
        definition.trend_lookback_days = days;
    }
    if let Some(threshold) = input.trend_threshold {
        definition.trend_threshold = threshold;
    }
    if let Some(days) = input.renewal_window_days {
        definition.renewal_window_days = days;
    }
    if let Some(enabled) = input.overrides_enabled {
        definition.overrides.enabled = enabled;
    }
    let problems = definition.validate();
    if !problems.is_empty() {
        let described: Vec<String> =
            problems.iter().map(|problem| format!("{}: {}", problem.code, problem.message)).collect();
        return Err(described.join("; "));
    }
    Ok(definition)
}

async fn draft_of(tx: &TenantTransaction, id: Uuid) -> Result<HealthModelVersion, CommandError> {
    let model =
        health_models::model_by_id(tx, id).await.map_err(internal)?.ok_or(CommandError::NotFound("HealthModel"))?;
    if model.status != crate::domain::health::ModelStatus::Draft {
        return Err(CommandError::Conflict(format!(
            "{} is {}, only a draft can change",
            model.label(),
            model.status.as_str()
        )));
    }
    Ok(model)
}

async fn update_draft(
    tx: &TenantTransaction,
    id: Uuid,
    input: HealthModelDraftInput,
) -> Result<Outcome<HealthModelVersion>, CommandError> {
    let mut draft = draft_of(tx, id).await?;
    draft.definition = apply_input(draft.definition, input).map_err(CommandError::Invalid)?;
    if !health_models::save_draft_definition(tx, id, &draft.definition).await.map_err(internal)? {
        return Err(CommandError::stale("HealthModel"));
    }
    Ok(Outcome {
        entity_ids: vec![draft.id],
        detail: format!("draft {} changed", draft.label()),
        events: Vec::new(),
        value: draft,
    })
}

async fn activate(tx: &TenantTransaction, id: Uuid) -> Result<Outcome<HealthModelVersion>, CommandError> {
    let mut draft = draft_of(tx, id).await?;
    if let Some(problem) = draft.definition.validate().first() {
        return Err(CommandError::Invalid(format!("{}: {}", problem.code, problem.message)));
    }
    let previous = repository::active_health_model(tx).await.map_err(internal)?;
    if !health_models::activate_draft(tx, id).await.map_err(internal)? {
        return Err(CommandError::stale("HealthModel"));
    }
    draft.status = crate::domain::health::ModelStatus::Active;
    // Every customer's health answer depends on the active model.
    changes::record_change(tx, SERVICE.name, "CustomerAccount", &id.to_string(), ChangeKind::Updated).await?;
    let mut event = model_event(tx.context(), "analytics.health_model.activated", &draft, 2);
    if let (Some(previous), Some(data)) = (&previous, event.data.as_object_mut()) {
        data.insert("previous_model_version".to_owned(), json!(previous.label()));
    }
    Ok(Outcome {
        entity_ids: vec![draft.id],
        detail: format!(
            "{} -> active{}",
            draft.label(),
            previous.as_ref().map(|previous| format!(", {} -> retired", previous.label())).unwrap_or_default()
        ),
        events: vec![event],
        value: draft,
    })
}

/// Scores every customer analytics knows under model `id` (any status) on today's facts.
pub async fn preview(ctx: &Context<'_>, id: ID) -> Result<HealthModelPreview> {
    let tx = ctx.data::<std::sync::Arc<TenantTransaction>>()?;
    let model_id = target(&id)?;
    let model = health_models::model_by_id(tx, model_id)
        .await?
        .ok_or_else(|| ErrorCode::NotFound.graphql_error("no HealthModel with this id"))?;
    let customers = health_models::known_customers(tx).await?;
    let today = atrium_kit::calendar::tenant_date(tx.tenant_id(), chrono::Utc::now());
    let facts = repository::facts::customer_facts(tx, &customers, today).await?;
    let scored: Vec<CustomerHealthPreview> = facts
        .iter()
        .map(|facts| {
            let result = health_model::score(&model.definition, facts);
            CustomerHealthPreview {
                customer_account_id: ID(facts.customer_account_id.to_string()),
                profile: result.profile.as_str().to_owned(),
                score: result.score,
                band: result.band.into(),
                coverage: round4(result.coverage),
                override_reason: result.override_reason,
            }
        })
        .collect();
    let distribution = [DomainBand::Red, DomainBand::Yellow, DomainBand::Green, DomainBand::Unknown]
        .into_iter()
        .map(|band| BandCount {
            band: band.into(),
            customers: scored.iter().filter(|customer| customer.band == HealthBand::from(band)).count() as i32,
        })
        .collect();
    Ok(HealthModelPreview { model_version: model.label(), distribution, customers: scored })
}
