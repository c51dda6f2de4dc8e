//! Delivery service configuration: the shared subgraph settings (`ServiceConfig`) with this
//! service's defaults. Optional TOML file plus `ATRIUM_DELIVERY__*` overrides; see
//! `deploy/config/service.example.toml`.

pub use atrium_kit::service::ServiceConfig as Config;
use atrium_kit::service::ServiceIdentity;

/// Name (SQLite file, logs), environment prefix and `make run` port of this service.
pub const SERVICE: ServiceIdentity =
    ServiceIdentity { name: "delivery", binary: "atrium-delivery", env_prefix: "ATRIUM_DELIVERY", default_port: 4002 };
