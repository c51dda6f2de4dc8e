//! The GraphQL request of a GET: `query`, `documentId`, `operationName`, `variables` and
//! `extensions` from the URL's query string (form encoding), as GraphQL over HTTP defines.

use crate::persisted::IncomingRequest;

pub(crate) fn parse_get_parameters(raw: &str) -> Result<IncomingRequest, &'static str> {
    let mut request = IncomingRequest::default();
    for (key, value) in form_urlencoded_pairs(raw) {
        match key.as_str() {
            "query" => request.query = Some(value),
            "documentId" => request.document_id = Some(value),
            "operationName" => request.operation_name = Some(value).filter(|name| !name.is_empty()),
            "variables" if !value.is_empty() => {
                request.variables = serde_json::from_str(&value).map_err(|_| "`variables` must be a JSON object")?;
            }
            "extensions" if !value.is_empty() => {
                request.extensions = serde_json::from_str(&value).map_err(|_| "`extensions` must be a JSON object")?;
            }
            _ => {}
        }
    }
    if request.query.is_some() || request.document_id.is_some() || request.extensions.contains_key("persistedQuery") {
        Ok(request)
    } else {
        Err("the `query` (or `documentId`) parameter is required")
    }
}

/// Decodes `application/x-www-form-urlencoded` pairs (`+` is a space, `%XX` a byte).
fn form_urlencoded_pairs(raw: &str) -> impl Iterator<Item = (String, String)> + '_ {
    raw.split('&').filter(|pair| !pair.is_empty()).map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(key), percent_decode(value))
    })
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'+' => decoded.push(b' '),
            b'%' if index + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[index + 1..index + 3])
                    .ok()
                    .and_then(|hex| u8::from_str_radix(hex, 16).ok());
                match hex {
                    Some(byte) => {
                        decoded.push(byte);
                        index += 2;
                    }
                    None => decoded.push(b'%'),
                }
            }
            byte => decoded.push(byte),
        }
        index += 1;
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_get_parameters_with_percent_and_plus_encoding() {
        let request =
            parse_get_parameters("query=%7B+tenant+%7B+name+%7D+%7D&operationName=&variables=%7B%22a%22%3A1%7D")
                .unwrap();
        assert_eq!(request.query.as_deref(), Some("{ tenant { name } }"));
        assert_eq!(request.operation_name, None);
        assert_eq!(request.variables["a"], 1);
    }

    #[test]
    fn rejects_get_without_query_and_with_non_object_variables() {
        assert!(parse_get_parameters("operationName=x").is_err());
        assert!(parse_get_parameters("query=%7Ba%7D&variables=%5B1%5D").is_err());
    }

    #[test]
    fn keeps_a_trailing_percent_that_is_not_an_escape() {
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("a%2"), "a%2");
    }
}
