//! Support service configuration: the shared subgraph settings (`ServiceConfig`) with this
//! service's defaults. Optional TOML file plus `ATRIUM_SUPPORT__*` overrides; see
//! `deploy/config/service.example.toml`.

pub use atrium_kit::service::ServiceConfig as Config;
use atrium_kit::service::ServiceIdentity;

/// Name (SQLite file, logs), environment prefix and `make run` port of this service.
pub const SERVICE: ServiceIdentity =
    ServiceIdentity { name: "support", binary: "atrium-support", env_prefix: "ATRIUM_SUPPORT", default_port: 4004 };
