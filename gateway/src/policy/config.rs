//! The `[policy]` section of the gateway configuration: request size limits, parser
//! limits, introspection, CSRF, error masking, static cost, and the operation limits per
//! client kind. Defaults follow ENGINEERING.md §4.

use std::collections::BTreeMap;

use atrium_contract::ClientKind;
use serde::Deserialize;

use atrium_contract::config::Profile;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyConfig {
    /// Largest request body, in bytes. Default 2,097,152 (2 MiB); larger bodies get 413.
    #[serde(default = "default_max_body_bytes")]
    pub max_body_bytes: usize,
    /// Largest total size of the request headers (names plus values), in bytes. Default
    /// 65,536 (64 KiB); larger header sets get 431.
    #[serde(default = "default_max_header_bytes")]
    pub max_header_bytes: usize,
    /// Most lexical tokens a document may have; the parser stops at the limit. Default
    /// 15,000. (The parser's nesting limit of 50 brackets is built in.)
    #[serde(default = "default_max_tokens")]
    pub max_tokens: usize,
    /// Whether `__schema`/`__type` may be queried. Default: on in the dev profile, off in
    /// production. Validation messages carry no "Did you mean" suggestions while it is off.
    #[serde(default)]
    pub introspection: Option<bool>,
    /// Replace subgraph error messages with a generic one, keeping only `extensions.code`
    /// and `path`; the full error is logged. Default true.
    #[serde(default = "default_true")]
    pub mask_subgraph_errors: bool,
    /// Request headers (lower case) that a browser only sends cross-origin after a CORS
    /// preflight. A request without a JSON content type must carry one of them (CSRF
    /// protection). Default `["authorization", "x-atrium-preflight"]`.
    #[serde(default = "default_csrf_preflight_headers")]
    pub csrf_preflight_headers: Vec<String>,
    #[serde(default)]
    pub cost: CostConfig,
    /// Limits for every client kind, unless `clients.<kind>` overrides them.
    #[serde(default)]
    pub limits: ClientLimits,
    /// Per client kind overrides (`partner_portal`, `dashboard`, `bi`, `service`). `bi`
    /// has built-in overrides (depth 20, gateway timeout 60 s) unless it sets those keys.
    #[serde(default)]
    pub clients: ClientOverrides,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        PolicyConfig {
            max_body_bytes: default_max_body_bytes(),
            max_header_bytes: default_max_header_bytes(),
            max_tokens: default_max_tokens(),
            introspection: None,
            mask_subgraph_errors: true,
            csrf_preflight_headers: default_csrf_preflight_headers(),
            cost: CostConfig::default(),
            limits: ClientLimits::default(),
            clients: ClientOverrides::default(),
        }
    }
}

impl PolicyConfig {
    /// Introspection as configured, else on only in the dev profile.
    pub fn introspection_enabled(&self, profile: Profile) -> bool {
        self.introspection.unwrap_or(profile == Profile::Dev)
    }

    /// The effective limits of one client kind: the kind's configured override, then its
    /// built-in override, then `limits`.
    pub fn limits_for(&self, kind: ClientKind) -> ClientLimits {
        let configured = self.clients.get(kind);
        let built_in = ClientLimitOverrides::built_in(kind);
        let pick = |configured: Option<u64>, built_in: Option<u64>, base: u64| configured.or(built_in).unwrap_or(base);
        let base = &self.limits;
        ClientLimits {
            max_depth: pick(configured.max_depth, built_in.max_depth, base.max_depth),
            max_aliases: pick(configured.max_aliases, built_in.max_aliases, base.max_aliases),
            max_root_fields: pick(configured.max_root_fields, built_in.max_root_fields, base.max_root_fields),
            max_cost: pick(configured.max_cost, built_in.max_cost, base.max_cost),
            gateway_timeout_ms: pick(
                configured.gateway_timeout_ms,
                built_in.gateway_timeout_ms,
                base.gateway_timeout_ms,
            ),
        }
    }
}

/// The operation limits one client kind gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientLimits {
    /// Deepest field nesting of an operation (root fields are depth 1). Default 15.
    #[serde(default = "default_max_depth")]
    pub max_depth: u64,
    /// Most aliased fields in an operation, counted through fragments. Default 30.
    #[serde(default = "default_max_aliases")]
    pub max_aliases: u64,
    /// Most root fields in an operation, counted through fragments. Default 20.
    #[serde(default = "default_max_root_fields")]
    pub max_root_fields: u64,
    /// Static cost budget of one operation (see `[policy.cost]`). Default 5,000.
    #[serde(default = "default_max_cost")]
    pub max_cost: u64,
    /// Time the gateway gives one request end to end, in milliseconds; then 504. Default
    /// 15,000.
    #[serde(default = "default_gateway_timeout_ms")]
    pub gateway_timeout_ms: u64,
}

impl Default for ClientLimits {
    fn default() -> Self {
        ClientLimits {
            max_depth: default_max_depth(),
            max_aliases: default_max_aliases(),
            max_root_fields: default_max_root_fields(),
            max_cost: default_max_cost(),
            gateway_timeout_ms: default_gateway_timeout_ms(),
        }
    }
}

/// Limits a client kind sets differently from `[policy.limits]`; unset keys inherit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientLimitOverrides {
    pub max_depth: Option<u64>,
    pub max_aliases: Option<u64>,
    pub max_root_fields: Option<u64>,
    pub max_cost: Option<u64>,
    pub gateway_timeout_ms: Option<u64>,
}

impl ClientLimitOverrides {
    /// BI tools run deeper, slower reports (ENGINEERING.md §4); the others use the base.
    fn built_in(kind: ClientKind) -> Self {
        match kind {
            ClientKind::Bi => {
                ClientLimitOverrides { max_depth: Some(20), gateway_timeout_ms: Some(60_000), ..Default::default() }
            }
            ClientKind::PartnerPortal | ClientKind::Dashboard | ClientKind::Service => Self::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientOverrides {
    #[serde(default)]
    pub partner_portal: ClientLimitOverrides,
    #[serde(default)]
    pub dashboard: ClientLimitOverrides,
    #[serde(default)]
    pub bi: ClientLimitOverrides,
    #[serde(default)]
    pub service: ClientLimitOverrides,
}

impl ClientOverrides {
    fn get(&self, kind: ClientKind) -> ClientLimitOverrides {
        match kind {
            ClientKind::PartnerPortal => self.partner_portal,
            ClientKind::Dashboard => self.dashboard,
            ClientKind::Bi => self.bi,
            ClientKind::Service => self.service,
        }
    }
}

/// `measure` computes and reports the cost; `enforce` also rejects operations over budget.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CostMode {
    #[default]
    Measure,
    Enforce,
}

impl CostMode {
    pub fn as_str(self) -> &'static str {
        match self {
            CostMode::Measure => "measure",
            CostMode::Enforce => "enforce",
        }
    }
}

/// Static cost, in the manner of Apollo's demand control: an object field costs 1 (a
/// mutation root field 10), a scalar or enum 0, and a list multiplies what it holds by its
/// size: the `first`/`last` argument when given, else `list_sizes`, else
/// `default_list_size`. On a connection (a field with `first` returning an object), the
/// argument sizes its `nodes`/`edges` list.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CostConfig {
    /// `measure` (default) reports the cost in `extensions.cost` and logs it; `enforce`
    /// also rejects operations whose cost exceeds the client's `max_cost`.
    #[serde(default)]
    pub mode: CostMode,
    /// Size assumed for a list without a slicing argument or `list_sizes` entry. Default 10.
    #[serde(default = "default_list_size")]
    pub default_list_size: u64,
    /// Assumed sizes of particular list fields, keyed by coordinate (`Type.field`).
    #[serde(default)]
    pub list_sizes: BTreeMap<String, u64>,
    /// Arguments whose value is the size of the list a field returns. Default
    /// `["first", "last"]`.
    #[serde(default = "default_slicing_arguments")]
    pub slicing_arguments: Vec<String>,
    /// Fields of a connection that the slicing argument sizes. Default `["nodes", "edges"]`.
    #[serde(default = "default_sized_fields")]
    pub sized_fields: Vec<String>,
}

impl Default for CostConfig {
    fn default() -> Self {
        CostConfig {
            mode: CostMode::default(),
            default_list_size: default_list_size(),
            list_sizes: BTreeMap::new(),
            slicing_arguments: default_slicing_arguments(),
            sized_fields: default_sized_fields(),
        }
    }
}

fn default_max_body_bytes() -> usize {
    2 * 1024 * 1024
}
fn default_max_header_bytes() -> usize {
    64 * 1024
}
fn default_max_tokens() -> usize {
    15_000
}
fn default_true() -> bool {
    true
}
fn default_csrf_preflight_headers() -> Vec<String> {
    vec!["authorization".to_owned(), "x-atrium-preflight".to_owned()]
}
fn default_max_depth() -> u64 {
    15
}
fn default_max_aliases() -> u64 {
    30
}
fn default_max_root_fields() -> u64 {
    20
}
fn default_max_cost() -> u64 {
    5_000
}
fn default_gateway_timeout_ms() -> u64 {
    15_000
}
fn default_list_size() -> u64 {
    10
}
fn default_slicing_arguments() -> Vec<String> {
    vec!["first".to_owned(), "last".to_owned()]
}
fn default_sized_fields() -> Vec<String> {
    vec!["nodes".to_owned(), "edges".to_owned()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(toml_text: &str) -> PolicyConfig {
        toml::from_str(toml_text).expect("policy config parses")
    }

    #[test]
    fn defaults_follow_the_engineering_guide() {
        let policy = parse("");
        assert_eq!(policy.max_body_bytes, 2 * 1024 * 1024);
        assert_eq!(policy.max_header_bytes, 64 * 1024);
        assert_eq!(policy.max_tokens, 15_000);
        let dashboard = policy.limits_for(ClientKind::Dashboard);
        assert_eq!((dashboard.max_depth, dashboard.max_aliases, dashboard.max_root_fields), (15, 30, 20));
        assert_eq!(dashboard.gateway_timeout_ms, 15_000);
        let bi = policy.limits_for(ClientKind::Bi);
        assert_eq!((bi.max_depth, bi.gateway_timeout_ms), (20, 60_000));
        assert_eq!(policy.cost.mode, CostMode::Measure);
        assert_eq!(policy, PolicyConfig::default());
    }

    #[test]
    fn introspection_is_off_in_production_unless_configured() {
        let policy = parse("");
        assert!(policy.introspection_enabled(Profile::Dev));
        assert!(!policy.introspection_enabled(Profile::Production));
        assert!(parse("introspection = true").introspection_enabled(Profile::Production));
        assert!(!parse("introspection = false").introspection_enabled(Profile::Dev));
    }

    #[test]
    fn a_client_override_wins_over_the_built_in_and_the_base() {
        let policy = parse(
            "[limits]\nmax_depth = 12\nmax_cost = 900\n[clients.bi]\nmax_cost = 40000\n\
             [clients.partner_portal]\nmax_depth = 8\n",
        );
        let bi = policy.limits_for(ClientKind::Bi);
        assert_eq!((bi.max_depth, bi.max_cost), (20, 40_000), "built-in depth kept, cost overridden");
        assert_eq!(policy.limits_for(ClientKind::PartnerPortal).max_depth, 8);
        let service = policy.limits_for(ClientKind::Service);
        assert_eq!((service.max_depth, service.max_cost), (12, 900));
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(toml::from_str::<PolicyConfig>("max_depth = 3").is_err());
        assert!(toml::from_str::<PolicyConfig>("[clients.mobile]\nmax_depth = 3").is_err());
        assert!(toml::from_str::<PolicyConfig>("[cost]\nmode = \"strict\"").is_err());
    }
}
