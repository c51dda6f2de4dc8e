//! GraphQL-over-HTTP media types and `Accept` negotiation, shared by the gateway and the
//! subgraphs so both speak the spec the same way.

use axum::http::{HeaderMap, header};

pub const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";
pub const APPLICATION_JSON: &str = "application/json";

/// Picks the response media type from `Accept`; `None` means nothing we can produce.
/// No `Accept` header, a wildcard, or the GraphQL media type all get
/// `application/graphql-response+json`; legacy clients asking only for
/// `application/json` get that.
pub fn negotiate(headers: &HeaderMap) -> Option<&'static str> {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|value| value.to_str().ok()) else {
        return Some(GRAPHQL_RESPONSE_JSON);
    };
    let mut fallback = None;
    for media in accept.split(',').map(|part| part.split(';').next().unwrap_or("").trim().to_ascii_lowercase()) {
        match media.as_str() {
            GRAPHQL_RESPONSE_JSON | "*/*" | "application/*" => return Some(GRAPHQL_RESPONSE_JSON),
            APPLICATION_JSON => fallback = Some(APPLICATION_JSON),
            _ => {}
        }
    }
    fallback
}

/// True when the request body is declared as JSON (any charset parameter allowed).
pub fn has_json_content_type(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case(APPLICATION_JSON))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn accept(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn prefers_the_graphql_media_type_and_falls_back_to_json() {
        assert_eq!(negotiate(&HeaderMap::new()), Some(GRAPHQL_RESPONSE_JSON));
        assert_eq!(negotiate(&accept("application/json")), Some(APPLICATION_JSON));
        assert_eq!(
            negotiate(&accept("application/json, application/graphql-response+json")),
            Some(GRAPHQL_RESPONSE_JSON)
        );
        assert_eq!(negotiate(&accept("*/*")), Some(GRAPHQL_RESPONSE_JSON));
        assert_eq!(negotiate(&accept("text/html")), None);
    }
}
