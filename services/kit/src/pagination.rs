//! Cursor pagination shared by every list field: `first`/`after` arguments, an opaque
//! cursor and the `PageInfo` object (shareable, since every subgraph defines it).
//!
//! Lists are ordered by id; ids are UUIDv7, so id order is creation order. A cursor is
//! the base64 of `v1:<uuid>`; it carries no tenant, so a cursor forged from another
//! tenant's id only positions the scan and can never widen it.

use async_graphql::SimpleObject;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use uuid::Uuid;

use crate::errors::ErrorCode;

/// Page size when the client gives none.
pub const DEFAULT_PAGE_SIZE: u64 = 20;
/// Largest page a client may ask for.
pub const MAX_PAGE_SIZE: u64 = 100;

#[derive(Debug, Clone, SimpleObject)]
#[graphql(shareable)]
pub struct PageInfo {
    pub has_next_page: bool,
    pub end_cursor: Option<String>,
}

/// Validated `first`/`after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PageRequest {
    pub first: u64,
    pub after: Option<Uuid>,
}

impl PageRequest {
    pub fn parse(first: Option<i32>, after: Option<&str>) -> Result<Self, async_graphql::Error> {
        let first = match first {
            None => DEFAULT_PAGE_SIZE,
            Some(value) if value >= 1 && (value as u64) <= MAX_PAGE_SIZE => value as u64,
            Some(_) => {
                return Err(
                    ErrorCode::BadUserInput.graphql_error(format!("`first` must be between 1 and {MAX_PAGE_SIZE}"))
                );
            }
        };
        let after = after.map(decode_cursor).transpose()?;
        Ok(PageRequest { first, after })
    }

    /// Slices an id-ordered list into one page. Used for nested lists that a DataLoader
    /// fetched for many parents in one statement.
    pub fn slice<T>(&self, items: &[T], id_of: impl Fn(&T) -> Uuid) -> (Vec<T>, PageInfo)
    where
        T: Clone,
    {
        let start = match self.after {
            Some(after) => items.iter().position(|item| id_of(item) > after).unwrap_or(items.len()),
            None => 0,
        };
        let rest = &items[start..];
        let take = (self.first as usize).min(rest.len());
        let page: Vec<T> = rest[..take].to_vec();
        let page_info = PageInfo {
            has_next_page: rest.len() > take,
            end_cursor: page.last().map(|item| encode_cursor(id_of(item))),
        };
        (page, page_info)
    }

    /// Builds the page from `first + 1` rows fetched with `id > after ORDER BY id`.
    pub fn finish<T>(&self, mut rows: Vec<T>, id_of: impl Fn(&T) -> Uuid) -> (Vec<T>, PageInfo) {
        let has_next_page = rows.len() as u64 > self.first;
        rows.truncate(self.first as usize);
        let end_cursor = rows.last().map(|row| encode_cursor(id_of(row)));
        (rows, PageInfo { has_next_page, end_cursor })
    }
}

pub fn encode_cursor(id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(format!("v1:{id}"))
}

pub fn decode_cursor(cursor: &str) -> Result<Uuid, async_graphql::Error> {
    let invalid = || ErrorCode::BadUserInput.graphql_error("`after` is not a valid cursor");
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let text = std::str::from_utf8(&bytes).map_err(|_| invalid())?;
    let id = text.strip_prefix("v1:").ok_or_else(invalid)?;
    Uuid::parse_str(id).map_err(|_| invalid())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips() {
        let id = Uuid::now_v7();
        assert_eq!(decode_cursor(&encode_cursor(id)).unwrap(), id);
    }

    #[test]
    fn rejects_garbage_cursors_and_out_of_range_page_sizes() {
        assert!(decode_cursor("not-a-cursor").is_err());
        assert!(PageRequest::parse(Some(0), None).is_err());
        assert!(PageRequest::parse(Some(101), None).is_err());
        assert_eq!(PageRequest::parse(None, None).unwrap().first, DEFAULT_PAGE_SIZE);
    }

    #[test]
    fn slices_after_the_cursor_and_reports_the_next_page() {
        let ids: Vec<Uuid> = (0..5).map(|_| Uuid::now_v7()).collect();
        let request = PageRequest::parse(Some(2), Some(&encode_cursor(ids[1]))).unwrap();
        let (page, info) = request.slice(&ids, |id| *id);
        assert_eq!(page, vec![ids[2], ids[3]]);
        assert!(info.has_next_page);
        assert_eq!(info.end_cursor, Some(encode_cursor(ids[3])));
    }
}
