//! Counts the lexical tokens of a GraphQL document without building anything, so an
//! oversized document is refused before the parser allocates for it. (The parser's own
//! token limit reports a generic syntax error, which would hide the reason.)

/// True when `text` has more than `max` tokens. Stops reading at the first token over.
pub(crate) fn exceeds_token_limit(text: &str, max: usize) -> bool {
    let bytes = text.as_bytes();
    let mut count = 0usize;
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        index = match byte {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => {
                index += 1;
                continue;
            }
            // A byte-order mark is ignored like white space.
            0xEF if bytes[index..].starts_with(&[0xEF, 0xBB, 0xBF]) => {
                index += 3;
                continue;
            }
            b'#' => {
                index = skip_while(bytes, index, |byte| byte != b'\n' && byte != b'\r');
                continue;
            }
            b'"' if bytes[index..].starts_with(b"\"\"\"") => block_string_end(bytes, index + 3),
            b'"' => string_end(bytes, index + 1),
            b'.' if bytes[index..].starts_with(b"...") => index + 3,
            b'_' | b'a'..=b'z' | b'A'..=b'Z' => {
                skip_while(bytes, index + 1, |byte| byte == b'_' || byte.is_ascii_alphanumeric())
            }
            b'-' | b'0'..=b'9' => skip_while(bytes, index + 1, |byte| {
                byte.is_ascii_digit() || matches!(byte, b'.' | b'e' | b'E' | b'+' | b'-')
            }),
            // Punctuators, and anything the parser will reject, are one token each.
            _ => index + 1,
        };
        count += 1;
        if count > max {
            return true;
        }
    }
    false
}

fn skip_while(bytes: &[u8], mut index: usize, keep: impl Fn(u8) -> bool) -> usize {
    while index < bytes.len() && keep(bytes[index]) {
        index += 1;
    }
    index
}

/// Index after the closing quote of a `"…"` string starting at `index` (after the quote).
fn string_end(bytes: &[u8], mut index: usize) -> usize {
    while index < bytes.len() {
        match bytes[index] {
            b'\\' => index += 2,
            b'"' => return index + 1,
            b'\n' | b'\r' => return index,
            _ => index += 1,
        }
    }
    index
}

/// Index after the closing `"""` of a block string; `\"""` does not close it.
fn block_string_end(bytes: &[u8], mut index: usize) -> usize {
    while index < bytes.len() {
        if bytes[index..].starts_with(b"\\\"\"\"") {
            index += 4;
        } else if bytes[index..].starts_with(b"\"\"\"") {
            return index + 3;
        } else {
            index += 1;
        }
    }
    index
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(text: &str) -> usize {
        (0..).find(|max| !exceeds_token_limit(text, *max)).unwrap_or_default()
    }

    #[test]
    fn counts_names_punctuators_numbers_and_strings_once_each() {
        assert_eq!(count("{ tenant { name } }"), 6);
        assert_eq!(count("query Q($n: Int = -1.5e3) { a(s: \"x, \\\" y\", n: $n) ...F }"), 24);
        assert_eq!(count("{ a(s: \"\"\"many \\\"\"\" words\n\"\"\") }"), 8);
    }

    #[test]
    fn ignores_white_space_commas_comments_and_a_byte_order_mark() {
        assert_eq!(count("\u{feff}{ a, b # c d e\n ,,, }"), 4);
    }

    #[test]
    fn stops_at_the_first_token_over_the_limit() {
        assert!(exceeds_token_limit("{ a b c }", 4));
        assert!(!exceeds_token_limit("{ a b c }", 5));
        assert!(!exceeds_token_limit("", 0));
    }
}
