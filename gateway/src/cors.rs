//! CORS for partner portals served from their own origins: `[cors]` lists, per tenant,
//! the browser origins of that tenant's portals.
//!
//! Default deny: without a configured origin the gateway sends no CORS header at all, and
//! browsers keep every cross-origin page out. With origins configured:
//! - a preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) to
//!   `/graphql` or `/admin/graphql` from a listed origin is answered 204 with the allowed
//!   methods, headers and max age, without authentication (a preflight carries no
//!   credentials); from any other origin it is refused with 403 `ORIGIN_NOT_ALLOWED`;
//! - an actual request from a listed origin gets that exact origin echoed in
//!   `Access-Control-Allow-Origin` (never `*`), with `Vary: Origin`;
//! - once the caller is authenticated, a request from a portal origin listed only for
//!   *other* tenants is refused with 403 `ORIGIN_NOT_ALLOWED` before anything runs and
//!   without CORS headers. Withholding the headers alone would let the browser hide the
//!   answer but not undo a mutation that already ran, so the refusal comes first.
//!
//! Requests with an origin listed for no tenant (the gateway's own GraphiQL page, scripts,
//! server-side callers) are served as before, without CORS headers: the browser decides,
//! and the CSRF rule (`crate::policy`) keeps simple cross-site requests out.

use atrium_contract::ErrorCode;
use std::{collections::HashMap, sync::Arc};

use atrium_contract::graphql_http::APPLICATION_JSON;
use axum::{
    extract::{Request, State},
    http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use uuid::Uuid;

/// `[cors]`: which browser origins may call the GraphQL endpoints, per tenant.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorsConfig {
    /// Portal origins per tenant. Default none: no CORS headers at all.
    #[serde(default)]
    pub tenants: Vec<TenantOrigins>,
    /// Methods a preflight allows. Default `GET`, `POST`.
    #[serde(default = "default_allow_methods")]
    pub allow_methods: Vec<String>,
    /// Request headers a preflight allows. Default `authorization`, `content-type`,
    /// `accept`, `x-atrium-preflight`.
    #[serde(default = "default_allow_headers")]
    pub allow_headers: Vec<String>,
    /// Response headers a portal's scripts may read beyond the CORS-safelisted ones.
    /// Default `retry-after` (rate limits) and `x-atrium-cache`.
    #[serde(default = "default_expose_headers")]
    pub expose_headers: Vec<String>,
    /// Send `Access-Control-Allow-Credentials: true`, for portals that send cookies.
    /// Default false: a bearer token in `Authorization` needs no credentials mode.
    #[serde(default)]
    pub allow_credentials: bool,
    /// How long a browser may reuse a preflight answer, in seconds. Default 600.
    #[serde(default = "default_max_age_seconds")]
    pub max_age_seconds: u64,
}

/// The portal origins of one tenant.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantOrigins {
    /// The tenant's UUID, or a demo tenant's slug (`ridgeline`, `helix`, `veritas`).
    pub tenant: String,
    /// Origins exactly as browsers send them: scheme, host and optional port
    /// (`https://portal.ridgeline.example`); no path, no wildcard.
    pub origins: Vec<String>,
}

impl Default for CorsConfig {
    fn default() -> Self {
        CorsConfig {
            tenants: Vec::new(),
            allow_methods: default_allow_methods(),
            allow_headers: default_allow_headers(),
            expose_headers: default_expose_headers(),
            allow_credentials: false,
            max_age_seconds: default_max_age_seconds(),
        }
    }
}

fn default_allow_methods() -> Vec<String> {
    vec!["GET".to_owned(), "POST".to_owned()]
}
fn default_allow_headers() -> Vec<String> {
    ["authorization", "content-type", "accept", "x-atrium-preflight"].map(str::to_owned).to_vec()
}
fn default_expose_headers() -> Vec<String> {
    ["retry-after", "x-atrium-cache"].map(str::to_owned).to_vec()
}
fn default_max_age_seconds() -> u64 {
    600
}

/// HTTP 403: a preflight from an origin of no tenant's portal, or a request whose caller
/// belongs to another tenant than the portal it comes from.
pub const ORIGIN_NOT_ALLOWED: &str = ErrorCode::OriginNotAllowed.as_str();

#[derive(Debug, thiserror::Error)]
pub enum CorsConfigError {
    #[error("cors: tenant `{0}` is neither a tenant UUID nor a known tenant slug")]
    UnknownTenant(String),
    #[error("cors: origin `{origin}` {reason}; write it as browsers send it, e.g. `https://portal.example.com`")]
    InvalidOrigin { origin: String, reason: &'static str },
    #[error("cors: `{0}` cannot be sent as a header value")]
    InvalidHeaderValue(String),
}

/// `[cors]` compiled for requests: who may call from which origin, and the headers sent.
#[derive(Debug, Default)]
pub struct CorsPolicy {
    /// Origin as browsers serialise it → the tenants whose portal it is.
    tenants_by_origin: HashMap<String, Vec<Uuid>>,
    preflight_headers: Vec<(HeaderName, HeaderValue)>,
    response_headers: Vec<(HeaderName, HeaderValue)>,
}

/// Marks a response refused for its origin, so no CORS allowance is added to it.
#[derive(Debug, Clone, Copy)]
struct OriginRefused;

impl CorsPolicy {
    pub fn new(config: &CorsConfig) -> Result<Self, CorsConfigError> {
        let mut tenants_by_origin: HashMap<String, Vec<Uuid>> = HashMap::new();
        for portal in &config.tenants {
            let tenant = tenant_id(&portal.tenant)?;
            for origin in &portal.origins {
                let tenants = tenants_by_origin.entry(serialised_origin(origin)?).or_default();
                if !tenants.contains(&tenant) {
                    tenants.push(tenant);
                }
            }
        }
        let list = |items: &[String]| {
            let joined = items.join(", ");
            HeaderValue::from_str(&joined).map_err(|_| CorsConfigError::InvalidHeaderValue(joined))
        };
        let mut preflight_headers = vec![
            (header::ACCESS_CONTROL_ALLOW_METHODS, list(&config.allow_methods)?),
            (header::ACCESS_CONTROL_ALLOW_HEADERS, list(&config.allow_headers)?),
            (header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from(config.max_age_seconds)),
        ];
        let mut response_headers = Vec::new();
        if !config.expose_headers.is_empty() {
            response_headers.push((header::ACCESS_CONTROL_EXPOSE_HEADERS, list(&config.expose_headers)?));
        }
        if config.allow_credentials {
            let credentials = (header::ACCESS_CONTROL_ALLOW_CREDENTIALS, HeaderValue::from_static("true"));
            preflight_headers.push(credentials.clone());
            response_headers.push(credentials);
        }
        Ok(CorsPolicy { tenants_by_origin, preflight_headers, response_headers })
    }

    /// Whether any origin is allowed at all; without one the gateway sends no CORS header.
    pub fn is_enabled(&self) -> bool {
        !self.tenants_by_origin.is_empty()
    }

    /// The tenants whose portal the request's `Origin` is, if it is any tenant's.
    fn portal_tenants(&self, headers: &HeaderMap) -> Option<&[Uuid]> {
        let origin = headers.get(header::ORIGIN)?.to_str().ok()?;
        self.tenants_by_origin.get(&origin.to_ascii_lowercase()).map(Vec::as_slice)
    }

    /// The refusal for an authenticated request that comes from a portal of other
    /// tenants only; `None` when the origin is the tenant's own or no tenant's portal.
    pub(crate) fn refusal(&self, media: &'static str, headers: &HeaderMap, tenant: Uuid) -> Option<Response> {
        let tenants = self.portal_tenants(headers)?;
        if tenants.contains(&tenant) {
            return None;
        }
        tracing::info!(
            origin = ?headers.get(header::ORIGIN),
            %tenant,
            "refused a request from another tenant's portal origin"
        );
        let mut response = crate::rejection::reject(
            media,
            StatusCode::FORBIDDEN,
            ErrorCode::OriginNotAllowed,
            "this origin is not a portal of the caller's tenant",
        );
        response.extensions_mut().insert(OriginRefused);
        Some(response)
    }

    fn preflight(&self, headers: &HeaderMap) -> Response {
        let Some(origin) = headers.get(header::ORIGIN).filter(|_| self.portal_tenants(headers).is_some()) else {
            tracing::info!(origin = ?headers.get(header::ORIGIN), "refused a preflight from an origin of no tenant's portal");
            let mut response = crate::rejection::reject(
                APPLICATION_JSON,
                StatusCode::FORBIDDEN,
                ErrorCode::OriginNotAllowed,
                "this origin is not allowed to call the gateway",
            );
            add_vary(response.headers_mut(), PREFLIGHT_VARY);
            return response;
        };
        let mut response = StatusCode::NO_CONTENT.into_response();
        let response_headers = response.headers_mut();
        response_headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
        for (name, value) in &self.preflight_headers {
            response_headers.insert(name.clone(), value.clone());
        }
        add_vary(response_headers, PREFLIGHT_VARY);
        response
    }
}

/// What a preflight answer depends on, for caches between the browser and the gateway.
const PREFLIGHT_VARY: &str = "origin, access-control-request-method, access-control-request-headers";

/// Middleware around `/graphql` and `/admin/graphql` (installed only when
/// [`CorsPolicy::is_enabled`]): answers preflights, and adds the allowance to answers for a
/// portal origin unless the endpoint refused the request for its origin.
pub(crate) async fn apply(State(policy): State<Arc<CorsPolicy>>, request: Request, next: Next) -> Response {
    let policy = policy.as_ref();
    let is_preflight = request.method() == Method::OPTIONS
        && request.headers().contains_key(header::ORIGIN)
        && request.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if is_preflight {
        return policy.preflight(request.headers());
    }
    let allowed_origin = policy.portal_tenants(request.headers()).and(request.headers().get(header::ORIGIN).cloned());
    let mut response = next.run(request).await;
    add_vary(response.headers_mut(), "origin");
    if let Some(origin) = allowed_origin
        && response.extensions().get::<OriginRefused>().is_none()
    {
        let headers = response.headers_mut();
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        for (name, value) in &policy.response_headers {
            headers.insert(name.clone(), value.clone());
        }
    }
    response
}

/// Adds to `Vary` without dropping what the endpoint put there (`authorization`).
fn add_vary(headers: &mut HeaderMap, value: &'static str) {
    headers.append(header::VARY, HeaderValue::from_static(value));
}

/// A tenant UUID, or the id of a demo tenant named by its slug.
fn tenant_id(tenant: &str) -> Result<Uuid, CorsConfigError> {
    if let Ok(id) = Uuid::parse_str(tenant) {
        return Ok(id);
    }
    atrium_contract::demo::tenant_by_slug(tenant)
        .map(|demo| atrium_contract::demo::tenant_id(demo.slug))
        .ok_or_else(|| CorsConfigError::UnknownTenant(tenant.to_owned()))
}

/// An origin as browsers send it in `Origin`: lowercase scheme and host, the port only
/// when it is not the scheme's default. Anything more (a path, a wildcard) is refused, so
/// a configured origin can only ever match exactly.
fn serialised_origin(configured: &str) -> Result<String, CorsConfigError> {
    let invalid = |reason| CorsConfigError::InvalidOrigin { origin: configured.to_owned(), reason };
    if configured.contains('*') {
        return Err(invalid("has a wildcard; list every origin"));
    }
    let url = reqwest::Url::parse(configured).map_err(|_| invalid("is not a URL"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("is not http or https"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("has credentials"));
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("has a path, query or fragment"));
    }
    Ok(url.origin().ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(tenants: serde_json::Value) -> Result<CorsPolicy, CorsConfigError> {
        let config: CorsConfig = serde_json::from_value(serde_json::json!({ "tenants": tenants })).unwrap();
        CorsPolicy::new(&config)
    }

    fn from(origin: &str) -> HeaderMap {
        HeaderMap::from_iter([(header::ORIGIN, HeaderValue::from_str(origin).unwrap())])
    }

    #[test]
    fn configured_origins_are_matched_as_browsers_serialise_them() {
        let ridgeline = atrium_contract::demo::tenant_id("ridgeline");
        let policy = policy(serde_json::json!([{ "tenant": "ridgeline", "origins": [
            "HTTPS://Portal.Ridgeline.Example:443/", "http://localhost:5173"
        ] }]))
        .unwrap();
        assert_eq!(policy.portal_tenants(&from("https://portal.ridgeline.example")), Some(&[ridgeline][..]));
        assert_eq!(policy.portal_tenants(&from("http://localhost:5173")), Some(&[ridgeline][..]));
        for other in
            ["http://portal.ridgeline.example", "https://portal.ridgeline.example:8443", "null", "http://localhost"]
        {
            assert_eq!(policy.portal_tenants(&from(other)), None, "{other}");
        }
    }

    #[test]
    fn origins_with_a_path_or_wildcard_and_unknown_tenants_are_refused_at_startup() {
        for origin in
            ["https://*.ridgeline.example", "https://portal.example/app", "portal.example", "ftp://portal.example"]
        {
            let refused = policy(serde_json::json!([{ "tenant": "ridgeline", "origins": [origin] }]));
            assert!(matches!(refused, Err(CorsConfigError::InvalidOrigin { .. })), "{origin}");
        }
        let unknown = policy(serde_json::json!([{ "tenant": "no-such-tenant", "origins": ["https://a.example"] }]));
        assert!(matches!(unknown, Err(CorsConfigError::UnknownTenant(_))));
    }

    #[test]
    fn only_a_portal_of_other_tenants_is_refused_for_a_caller() {
        let (ridgeline, helix) =
            (atrium_contract::demo::tenant_id("ridgeline"), atrium_contract::demo::tenant_id("helix"));
        let policy = policy(serde_json::json!([
            { "tenant": "ridgeline", "origins": ["https://shared.example", "https://ridgeline.example"] },
            { "tenant": helix.to_string(), "origins": ["https://shared.example"] },
        ]))
        .unwrap();
        assert!(policy.refusal(APPLICATION_JSON, &from("https://ridgeline.example"), ridgeline).is_none());
        assert!(policy.refusal(APPLICATION_JSON, &from("https://shared.example"), helix).is_none());
        assert!(policy.refusal(APPLICATION_JSON, &from("https://unlisted.example"), helix).is_none());
        assert!(policy.refusal(APPLICATION_JSON, &HeaderMap::new(), helix).is_none());
        let refused = policy.refusal(APPLICATION_JSON, &from("https://ridgeline.example"), helix).unwrap();
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        assert!(refused.extensions().get::<OriginRefused>().is_some());
    }

    #[test]
    fn without_origins_cors_is_off() {
        assert!(!CorsPolicy::new(&CorsConfig::default()).unwrap().is_enabled());
    }
}
