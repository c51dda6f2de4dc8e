//! The mutation root: analytics' writes, one merged object per area.

use async_graphql::MergedObject;

use super::health_admin::HealthModelMutation;

#[derive(MergedObject, Default)]
pub struct Mutation(HealthModelMutation);
