//! The mutation root: analytics' writes, one merged object per area.

use async_graphql::MergedObject;

use super::{cs_actions::AutomationMutation, health_admin::HealthModelMutation, health_signals::HealthSignalsMutation};

#[derive(MergedObject, Default)]
pub struct Mutation(HealthModelMutation, HealthSignalsMutation, AutomationMutation);
