//! HTTP-level checks that run before a request body is even parsed: total header size
//! and cross-site request forgery.
//!
//! CSRF: a browser sends a cross-origin request without asking the server first (a CORS
//! preflight) only when it is "simple": GET/POST with a form or text content type and no
//! custom headers. Requiring a JSON content type or a header that forces a preflight
//! means such a request never reaches execution; the gateway answers no CORS preflight,
//! so a foreign page cannot get one through.

use atrium_contract::graphql_http::has_json_content_type;
use axum::http::HeaderMap;

/// Total size of the request headers, names plus values, in bytes.
pub fn header_bytes(headers: &HeaderMap) -> usize {
    headers.iter().map(|(name, value)| name.as_str().len() + value.len()).sum()
}

/// True when the request could not have been sent cross-origin without a preflight.
pub fn is_csrf_safe(headers: &HeaderMap, preflight_headers: &[String]) -> bool {
    has_json_content_type(headers) || preflight_headers.iter().any(|name| headers.contains_key(name.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderValue, header};

    fn preflight() -> Vec<String> {
        vec!["authorization".to_owned(), "x-atrium-preflight".to_owned()]
    }

    #[test]
    fn accepts_json_bodies_and_requests_with_a_preflight_header() {
        let mut json = HeaderMap::new();
        json.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
        assert!(is_csrf_safe(&json, &preflight()));
        let mut custom = HeaderMap::new();
        custom.insert("x-atrium-preflight", HeaderValue::from_static("1"));
        assert!(is_csrf_safe(&custom, &preflight()));
    }

    #[test]
    fn refuses_simple_requests() {
        assert!(!is_csrf_safe(&HeaderMap::new(), &preflight()));
        let mut form = HeaderMap::new();
        form.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        form.insert(header::COOKIE, HeaderValue::from_static("session=1"));
        assert!(!is_csrf_safe(&form, &preflight()));
    }

    #[test]
    fn counts_header_names_and_values() {
        let mut headers = HeaderMap::new();
        headers.insert("x-a", HeaderValue::from_static("12345"));
        headers.append("x-a", HeaderValue::from_static("6"));
        assert_eq!(header_bytes(&headers), 3 + 5 + 3 + 1);
    }
}
