//! Analytics' root mutation: each area contributes its part.

use async_graphql::MergedObject;

use super::cs_actions::AutomationMutation;

#[derive(MergedObject, Default)]
pub struct Mutation(AutomationMutation);
