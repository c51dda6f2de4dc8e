//! Guarded state transitions: each stateful entity lists, per state, the states it may move
//! to; [`guard_transition`] refuses anything else with `INVALID_TRANSITION`, naming the
//! current state and the permitted next ones (`extensions.allowed`), so a client can tell
//! a stale screen from a wrong button.

use super::CommandError;

/// A state machine over an entity's stored status.
pub trait StateMachine: Copy + Eq + Sized + 'static {
    /// The GraphQL type name of the entity, e.g. `Contract`.
    const ENTITY: &'static str;

    /// The states reachable from `self` in one step.
    fn allowed_next(self) -> &'static [Self];

    /// The state as clients see it (the GraphQL enum value, e.g. `PENDING_APPROVAL`).
    fn name(self) -> &'static str;

    fn can_become(self, next: Self) -> bool {
        self.allowed_next().contains(&next)
    }
}

/// `Ok` when `current → next` is a permitted step, `INVALID_TRANSITION` otherwise.
pub fn guard_transition<S: StateMachine>(current: S, next: S) -> Result<(), CommandError> {
    if current.can_become(next) {
        return Ok(());
    }
    Err(CommandError::InvalidTransition {
        entity: S::ENTITY,
        current: current.name().to_owned(),
        requested: next.name().to_owned(),
        allowed: current.allowed_next().iter().map(|state| state.name().to_owned()).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Light {
        Red,
        Green,
        Amber,
    }

    impl StateMachine for Light {
        const ENTITY: &'static str = "Light";
        fn allowed_next(self) -> &'static [Self] {
            match self {
                Light::Red => &[Light::Green],
                Light::Green => &[Light::Amber],
                Light::Amber => &[Light::Red],
            }
        }
        fn name(self) -> &'static str {
            match self {
                Light::Red => "RED",
                Light::Green => "GREEN",
                Light::Amber => "AMBER",
            }
        }
    }

    #[test]
    fn a_permitted_step_passes_and_any_other_names_the_current_and_allowed_states() {
        assert!(guard_transition(Light::Red, Light::Green).is_ok());
        match guard_transition(Light::Red, Light::Amber) {
            Err(CommandError::InvalidTransition { entity, current, requested, allowed }) => {
                assert_eq!((entity, current.as_str(), requested.as_str()), ("Light", "RED", "AMBER"));
                assert_eq!(allowed, vec!["GREEN".to_owned()]);
            }
            other => panic!("expected INVALID_TRANSITION, got {other:?}"),
        }
    }
}
