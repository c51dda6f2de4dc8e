//! Naming and ordering conventions shared by merge and print: the
//! `join__Graph` value of a subgraph and the order Apollo prints names in.

use std::cmp::Ordering;

/// The `join__Graph` enum value for a subgraph name, as Apollo derives it:
/// upper-cased, anything outside `[A-Z0-9_]` replaced by `_`, and a leading
/// digit prefixed with `_` so the result is a valid enum value.
pub(crate) fn graph_enum_value(subgraph: &str) -> Option<String> {
    if !subgraph.chars().any(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    let mut value: String =
        subgraph.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect();
    if value.starts_with(|c: char| c.is_ascii_digit()) {
        value.insert(0, '_');
    }
    Some(value)
}

/// Orders type and directive names like Apollo's printer, which sorts with
/// JavaScript's `localeCompare`: `_` before digits before letters, letters
/// compared case-insensitively first, then lower case before upper case.
/// Plain byte order would put every upper-case name before `join__Graph`,
/// which would make our output drift from Apollo's for no reason.
pub(crate) fn compare_names(a: &str, b: &str) -> Ordering {
    fn primary(c: char) -> (u8, char) {
        match c {
            '_' => (0, c),
            '0'..='9' => (1, c),
            c if c.is_ascii_alphabetic() => (2, c.to_ascii_lowercase()),
            c => (3, c),
        }
    }
    let by_primary = a.chars().map(primary).cmp(b.chars().map(primary));
    by_primary.then_with(|| {
        // Tertiary level: at the first case difference, lower case wins.
        a.chars().map(|c| c.is_ascii_uppercase()).cmp(b.chars().map(|c| c.is_ascii_uppercase()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_values_are_upper_cased_and_sanitised() {
        assert_eq!(graph_enum_value("catalog").as_deref(), Some("CATALOG"));
        assert_eq!(graph_enum_value("user-profile").as_deref(), Some("USER_PROFILE"));
        assert_eq!(graph_enum_value("1st").as_deref(), Some("_1ST"));
        assert_eq!(graph_enum_value("--"), None);
    }

    #[test]
    fn names_sort_like_apollo_locale_compare() {
        let mut names = vec!["Query", "join__Graph", "E", "link__Import", "join__FieldSet", "Agency"];
        names.sort_by(|a, b| compare_names(a, b));
        assert_eq!(names, ["Agency", "E", "join__FieldSet", "join__Graph", "link__Import", "Query"]);
    }
}
