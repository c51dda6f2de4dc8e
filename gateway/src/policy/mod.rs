//! Operation policy: what a client kind may ask of the gateway, decided on the parsed
//! operation before it is validated, planned or sent to any subgraph.
//!
//! [`OperationPolicy::admit`] counts the document's tokens (`tokens`), parses it, measures
//! the selected operation (depth, aliases, root fields, static cost — `measure`) and
//! compares the figures with the caller's [`ClientLimits`]. HTTP-level guards (header size, CSRF)
//! live in `request_guard`, response masking in `masking`, the `[policy]` configuration
//! in `config`. Every rejection carries a stable `extensions.code` from [`codes`].

mod config;
mod field_types;
mod masking;
mod measure;
mod request_guard;
mod tokens;

use std::time::Duration;

use atrium_contract::ClientKind;
use graphql_tools::parser::parse_query;
use serde_json::{Value, json};

pub use config::{ClientLimitOverrides, ClientLimits, ClientOverrides, CostConfig, CostMode, PolicyConfig};
pub use field_types::SchemaParseError;
pub use masking::{MASKED_SUBGRAPH_MESSAGE, mask_subgraph_errors, strip_suggestions};
pub use measure::OperationMeasure;
pub use request_guard::{header_bytes, is_csrf_safe};

use crate::engine::{GraphQLRequest, OperationKind, RequestError};
use field_types::FieldTypes;
use measure::MeasuredOperation;

/// `extensions.code` values of policy rejections.
pub mod codes {
    pub use crate::engine::codes::{GRAPHQL_PARSE_FAILED, MAX_DEPTH_EXCEEDED};
    pub const MAX_TOKENS_EXCEEDED: &str = atrium_contract::ErrorCode::MaxTokensExceeded.as_str();
    pub const MAX_ALIASES_EXCEEDED: &str = atrium_contract::ErrorCode::MaxAliasesExceeded.as_str();
    pub const MAX_ROOT_FIELDS_EXCEEDED: &str = atrium_contract::ErrorCode::MaxRootFieldsExceeded.as_str();
    pub const COST_ESTIMATED_TOO_EXPENSIVE: &str = atrium_contract::ErrorCode::CostEstimatedTooExpensive.as_str();
    /// HTTP 413.
    pub const PAYLOAD_TOO_LARGE: &str = atrium_contract::ErrorCode::PayloadTooLarge.as_str();
    /// HTTP 431.
    pub const REQUEST_HEADER_FIELDS_TOO_LARGE: &str = atrium_contract::ErrorCode::RequestHeaderFieldsTooLarge.as_str();
    /// HTTP 400: neither a JSON content type nor a preflight header.
    pub const CSRF_PREVENTED: &str = atrium_contract::ErrorCode::CsrfPrevented.as_str();
    /// HTTP 504: the client kind's gateway timeout elapsed.
    pub const GATEWAY_TIMEOUT: &str = atrium_contract::ErrorCode::GatewayTimeout.as_str();
}

/// Bytes of document text the measure cache may hold (keys dominate its size).
const MEASURE_CACHE_BYTES: u64 = 64 * 1024 * 1024;

pub struct OperationPolicy {
    config: PolicyConfig,
    field_types: FieldTypes,
    /// Measures of documents seen before, keyed by operation name and full text (never a
    /// hash, so no crafted collision borrows another document's measure). Measures that
    /// read request variables are not kept.
    measured: moka::sync::Cache<String, MeasuredOperation>,
}

/// A request the policy let through, with what it measured and the limits that applied.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Admission {
    /// `None` when the document does not select one operation (the engine rejects it).
    pub measure: Option<OperationMeasure>,
    /// The selected operation's kind, read from the document alone (GET refuses mutations
    /// even where the schema has none).
    pub operation_kind: Option<OperationKind>,
    pub limits: ClientLimits,
    pub cost_mode: CostMode,
}

impl Admission {
    /// How long the whole request may take.
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.limits.gateway_timeout_ms)
    }

    /// `extensions.cost` of the response: the estimate, the budget and the mode.
    pub fn cost_extension(&self) -> Option<Value> {
        let measure = self.measure?;
        Some(json!({ "estimated": measure.cost, "max": self.limits.max_cost, "mode": self.cost_mode.as_str() }))
    }
}

impl OperationPolicy {
    /// `api_schema_sdl` is the client-facing schema the cost model reads list shapes from.
    pub fn new(config: PolicyConfig, api_schema_sdl: &str) -> Result<Self, SchemaParseError> {
        let field_types = FieldTypes::from_sdl(api_schema_sdl, &config.cost.slicing_arguments)?;
        let measured = moka::sync::Cache::builder()
            .weigher(|key: &String, _: &MeasuredOperation| u32::try_from(key.len()).unwrap_or(u32::MAX))
            .max_capacity(MEASURE_CACHE_BYTES)
            .build();
        Ok(OperationPolicy { config, field_types, measured })
    }

    pub fn config(&self) -> &PolicyConfig {
        &self.config
    }

    /// Parses and measures the request's operation and checks it against `client`'s limits.
    pub fn admit(&self, client: ClientKind, request: &GraphQLRequest) -> Result<Admission, RequestError> {
        let limits = self.config.limits_for(client);
        let measured = self.measure(request)?;
        let admission = Admission {
            measure: measured.map(|measured| measured.measure),
            operation_kind: measured.map(|measured| measured.kind),
            limits,
            cost_mode: self.config.cost.mode,
        };
        let Some(measure) = admission.measure else { return Ok(admission) };
        let exceeded = |code, what: &str, value: u64, limit: u64| {
            tracing::info!(client = client.as_str(), code, value, limit, "operation rejected by policy");
            Err(RequestError::new(code, format!("The operation's {what} ({value}) exceeds the limit of {limit}.")))
        };
        if measure.depth > limits.max_depth {
            return exceeded(codes::MAX_DEPTH_EXCEEDED, "depth", measure.depth, limits.max_depth);
        }
        if measure.aliases > limits.max_aliases {
            return exceeded(codes::MAX_ALIASES_EXCEEDED, "alias count", measure.aliases, limits.max_aliases);
        }
        if measure.root_fields > limits.max_root_fields {
            return exceeded(
                codes::MAX_ROOT_FIELDS_EXCEEDED,
                "root field count",
                measure.root_fields,
                limits.max_root_fields,
            );
        }
        if measure.cost > limits.max_cost {
            match self.config.cost.mode {
                CostMode::Enforce => {
                    return exceeded(
                        codes::COST_ESTIMATED_TOO_EXPENSIVE,
                        "estimated cost",
                        measure.cost,
                        limits.max_cost,
                    );
                }
                CostMode::Measure => tracing::info!(
                    client = client.as_str(),
                    cost = measure.cost,
                    max_cost = limits.max_cost,
                    "operation over its cost budget (measure mode: not rejected)"
                ),
            }
        }
        tracing::debug!(client = client.as_str(), ?measure, "operation admitted");
        Ok(admission)
    }
}

impl OperationPolicy {
    /// Token count, parse and measure, or the cached measure of the same document.
    fn measure(&self, request: &GraphQLRequest) -> Result<Option<MeasuredOperation>, RequestError> {
        let operation_name = request.operation_name.as_deref().unwrap_or("");
        let mut key = String::with_capacity(operation_name.len() + 1 + request.query.len());
        key.push_str(operation_name);
        // Names cannot contain NUL, so the key is unambiguous.
        key.push('\0');
        key.push_str(&request.query);
        if let Some(measured) = self.measured.get(&key) {
            return Ok(Some(measured));
        }
        let max_tokens = self.config.max_tokens;
        if tokens::exceeds_token_limit(&request.query, max_tokens) {
            let message = format!("The document has more than {max_tokens} tokens.");
            return Err(RequestError::new(codes::MAX_TOKENS_EXCEEDED, message));
        }
        let document = parse_query::<&str>(&request.query).map_err(|error| parse_rejection(&error))?;
        let measured = measure::measure_operation(
            &document,
            request.operation_name.as_deref(),
            &request.variables,
            &self.field_types,
            &self.config.cost,
        )
        .map_err(|error| RequestError::new(codes::MAX_DEPTH_EXCEEDED, format!("The operation's {error}.")))?;
        if let Some(measured) = measured.filter(|measured| !measured.depends_on_variables) {
            self.measured.insert(key, measured);
        }
        Ok(measured)
    }
}

fn parse_rejection(error: &graphql_tools::parser::query::ParseError) -> RequestError {
    let text = error.to_string();
    // The parser's built-in limit of 50 nested brackets keeps its recursion bounded.
    if text.contains("Recursion limit exceeded") {
        return RequestError::new(codes::MAX_DEPTH_EXCEEDED, "The document is nested too deeply to parse.");
    }
    let position = error.0.position;
    RequestError::new(codes::GRAPHQL_PARSE_FAILED, format!("Syntax error: {}", text.trim()))
        .with_location(position.line, position.column)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SDL: &str = "type Query { tenant: Tenant accounts(first: Int): [Account!]! }\n\
                       type Tenant { name: String! parent: Tenant }\n\
                       type Account { id: ID! }";

    fn policy(toml_text: &str) -> OperationPolicy {
        OperationPolicy::new(toml::from_str(toml_text).unwrap(), SDL).unwrap()
    }

    fn rejection(policy: &OperationPolicy, client: ClientKind, query: &str) -> &'static str {
        policy.admit(client, &GraphQLRequest::new(query)).expect_err("rejected").code
    }

    /// A document exactly `depth` fields deep (`depth` >= 2).
    fn nested(depth: usize) -> String {
        format!("{{ tenant {}{{ name }}{} }}", "{ parent ".repeat(depth - 2), " }".repeat(depth - 2))
    }

    #[test]
    fn rejects_query_deeper_than_the_client_kinds_limit() {
        let policy = policy("");
        assert!(policy.admit(ClientKind::Dashboard, &GraphQLRequest::new(nested(15))).is_ok());
        assert_eq!(rejection(&policy, ClientKind::Dashboard, &nested(16)), codes::MAX_DEPTH_EXCEEDED);
        assert!(policy.admit(ClientKind::Bi, &GraphQLRequest::new(nested(20))).is_ok(), "BI allows depth 20");
        assert_eq!(rejection(&policy, ClientKind::Bi, &nested(21)), codes::MAX_DEPTH_EXCEEDED);
    }

    #[test]
    fn rejects_too_many_aliases_and_root_fields() {
        let policy = policy("[limits]\nmax_aliases = 2\nmax_root_fields = 3");
        assert_eq!(
            rejection(&policy, ClientKind::Service, "{ a: tenant { b: name c: name } }"),
            "MAX_ALIASES_EXCEEDED"
        );
        assert_eq!(
            rejection(
                &policy,
                ClientKind::Service,
                "{ tenant { name } ...F } fragment F on Query { t: tenant { name } u: tenant { name } __typename }"
            ),
            "MAX_ROOT_FIELDS_EXCEEDED"
        );
    }

    #[test]
    fn rejects_documents_over_the_token_limit_before_parsing_them_fully() {
        let policy = policy("max_tokens = 9");
        assert_eq!(
            rejection(&policy, ClientKind::Dashboard, "{ tenant { name parent { name } } }"),
            "MAX_TOKENS_EXCEEDED"
        );
        assert!(policy.admit(ClientKind::Dashboard, &GraphQLRequest::new("{ tenant { name } }")).is_ok());
        let deep = format!("{{ accounts(first: {}1{}) {{ id }} }}", "[".repeat(60), "]".repeat(60));
        assert_eq!(rejection(&self::policy(""), ClientKind::Dashboard, &deep), codes::MAX_DEPTH_EXCEEDED);
        assert_eq!(rejection(&self::policy(""), ClientKind::Dashboard, "{ tenant"), codes::GRAPHQL_PARSE_FAILED);
    }

    #[test]
    fn enforce_mode_rejects_over_budget_and_measure_mode_reports() {
        let query = GraphQLRequest::new("{ accounts(first: 50) { id } }");
        let measured = policy("[limits]\nmax_cost = 10").admit(ClientKind::PartnerPortal, &query).unwrap();
        assert_eq!(measured.cost_extension(), Some(json!({ "estimated": 50, "max": 10, "mode": "measure" })));
        let enforcing = policy("[limits]\nmax_cost = 10\n[cost]\nmode = \"enforce\"");
        assert_eq!(
            enforcing.admit(ClientKind::PartnerPortal, &query).unwrap_err().code,
            "COST_ESTIMATED_TOO_EXPENSIVE"
        );
        let within = GraphQLRequest::new("{ accounts(first: 10) { id } }");
        assert!(enforcing.admit(ClientKind::PartnerPortal, &within).is_ok());
    }

    #[test]
    fn a_measured_document_is_reused_unless_its_cost_reads_variables() {
        let policy = policy("[limits]\nmax_depth = 2");
        let deep = GraphQLRequest::new(nested(3));
        for _ in 0..2 {
            assert_eq!(policy.admit(ClientKind::Service, &deep).unwrap_err().code, codes::MAX_DEPTH_EXCEEDED);
        }
        let sized_by_variable = GraphQLRequest::new("query Q($n: Int) { accounts(first: $n) { id } }");
        let small = sized_by_variable.clone().with_variables(json!({ "n": 2 }).as_object().cloned().unwrap());
        let large = sized_by_variable.with_variables(json!({ "n": 9000 }).as_object().cloned().unwrap());
        assert_eq!(policy.admit(ClientKind::Service, &small).unwrap().measure.map(|measure| measure.cost), Some(2));
        assert_eq!(policy.admit(ClientKind::Service, &large).unwrap().measure.map(|measure| measure.cost), Some(9000));
        policy.measured.run_pending_tasks();
        assert_eq!(policy.measured.entry_count(), 1, "only the variable-free document is kept");
        // A cached measure is still checked against each client kind's own limits.
        let bi_limits = policy.admit(ClientKind::Bi, &deep).expect("BI allows depth 20").limits;
        assert_eq!(bi_limits.max_depth, 20);
    }

    #[test]
    fn bi_gets_the_longer_gateway_timeout() {
        let policy = policy("");
        let request = GraphQLRequest::new("{ tenant { name } }");
        assert_eq!(policy.admit(ClientKind::Bi, &request).unwrap().timeout(), Duration::from_secs(60));
        assert_eq!(policy.admit(ClientKind::Dashboard, &request).unwrap().timeout(), Duration::from_secs(15));
    }
}
