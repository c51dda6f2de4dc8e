//! What the service refuses to start with (the rules every service shares through
//! `atrium_kit::service`): outside the dev profile, no explicit context keys or the
//! development key.

use atrium_kit::{
    ContextKey,
    service::{Profile, ServiceConfigError},
    startup::StartupError,
    testing,
};
use atrium_support::{config::Config, startup};

async fn refusal(config: &Config) -> StartupError {
    match startup::build(config).await {
        Ok(_) => panic!("the service started with {:?}", config.context_keys),
        Err(error) => error,
    }
}

#[tokio::test]
async fn a_production_service_refuses_to_start_with_the_development_key_or_without_keys() {
    let mut config = Config::for_tests(testing::sqlite_url("support"), None);
    config.profile = Profile::Production;
    let refused = refusal(&config).await;
    assert!(matches!(refused, StartupError::Config(ServiceConfigError::DevelopmentContextKey { .. })), "{refused}");

    config.context_keys.clear();
    let refused = refusal(&config).await;
    assert!(matches!(refused, StartupError::Config(ServiceConfigError::MissingContextKeys)), "{refused}");

    config.context_keys = vec![ContextKey { id: "2026-11".into(), secret: "a-secret-of-the-operator".into() }];
    assert!(startup::build(&config).await.is_ok(), "explicit keys are accepted");
}
