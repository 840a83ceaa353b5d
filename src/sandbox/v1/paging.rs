//! The `limit`/`offset` paging rules of v1 list endpoints.

use super::error::ApiError;
use crate::sandbox::query::{Params, count_up_to};

const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 100;

/// One page of a list: at most `limit` rows after skipping `offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub limit: u32,
    pub offset: i64,
}

/// `limit` defaults to 50 and is clamped to 100; below 1 or not a number is an error.
/// `offset` defaults to 0; negative or not a number is an error.
pub fn page(params: &Params) -> Result<Page, ApiError> {
    let limit = match params.get("limit") {
        None => DEFAULT_LIMIT,
        Some(text) => count_up_to(text, MAX_LIMIT).ok_or_else(|| {
            ApiError::bad_request("Invalid limit: must be a number from 1 to 100")
        })?,
    };
    let offset = match params.get("offset") {
        None => 0,
        Some(text) => text.parse().ok().filter(|n| *n >= 0).ok_or_else(|| {
            ApiError::bad_request("Invalid offset: must be a number of 0 or more")
        })?,
    };
    Ok(Page { limit, offset })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(query: &str) -> Result<Page, ApiError> {
        page(&Params::parse(Some(query)))
    }

    #[test]
    fn defaults_and_clamping() {
        assert_eq!(
            parse("").unwrap(),
            Page {
                limit: 50,
                offset: 0
            }
        );
        assert_eq!(
            parse("limit=150&offset=3").unwrap(),
            Page {
                limit: 100,
                offset: 3
            }
        );
        assert_eq!(parse("limit=99999999999999999999999").unwrap().limit, 100);
        assert_eq!(parse("limit=1").unwrap().limit, 1);
    }

    #[test]
    fn bad_numbers_are_rejected() {
        for query in [
            "limit=0",
            "limit=-1",
            "limit=abc",
            "limit=2.5",
            "offset=-1",
            "offset=x",
        ] {
            assert!(parse(query).is_err(), "{query}");
        }
    }
}
