//! Query strings of v1 list endpoints: reading parameters and the shared `limit`/`offset` rules.
//!
//! An empty value (`?status=`) counts as not given, and a repeated parameter keeps its last value,
//! so forms that always send every field work.

use std::collections::HashMap;

use super::error::ApiError;

const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 100;

pub struct Params(HashMap<String, String>);

/// One page of a list: at most `limit` rows after skipping `offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub limit: u32,
    pub offset: i64,
}

impl Params {
    pub fn parse(raw: Option<&str>) -> Params {
        let pairs = url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
            .filter(|(_, value)| !value.is_empty())
            .map(|(key, value)| (key.into_owned(), value.into_owned()));
        Params(pairs.collect())
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// `limit` defaults to 50 and is clamped to 100; below 1 or not a number is an error.
    /// `offset` defaults to 0; negative or not a number is an error.
    pub fn page(&self) -> Result<Page, ApiError> {
        let limit = match self.get("limit") {
            None => DEFAULT_LIMIT,
            Some(text) => parse_limit(text).ok_or_else(|| {
                ApiError::bad_request("Invalid limit: must be a number from 1 to 100")
            })?,
        };
        let offset = match self.get("offset") {
            None => 0,
            Some(text) => text.parse().ok().filter(|n| *n >= 0).ok_or_else(|| {
                ApiError::bad_request("Invalid offset: must be a number of 0 or more")
            })?,
        };
        Ok(Page { limit, offset })
    }
}

fn parse_limit(text: &str) -> Option<u32> {
    match text.parse::<i64>() {
        Ok(n) if n >= 1 => Some(n.min(i64::from(MAX_LIMIT)) as u32),
        Ok(_) => None,
        // Digits too long for i64 are still a number above 100.
        Err(_) => text
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then_some(MAX_LIMIT),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(query: &str) -> Result<Page, ApiError> {
        Params::parse(Some(query)).page()
    }

    #[test]
    fn defaults_and_clamping() {
        assert_eq!(
            page("").unwrap(),
            Page {
                limit: 50,
                offset: 0
            }
        );
        assert_eq!(
            page("limit=150&offset=3").unwrap(),
            Page {
                limit: 100,
                offset: 3
            }
        );
        assert_eq!(page("limit=99999999999999999999999").unwrap().limit, 100);
        assert_eq!(page("limit=1").unwrap().limit, 1);
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
            assert!(page(query).is_err(), "{query}");
        }
    }

    #[test]
    fn empty_values_count_as_absent_and_last_repeat_wins() {
        let params = Params::parse(Some("status=&programId=a&programId=prog_b%20c"));
        assert_eq!(params.get("status"), None);
        assert_eq!(params.get("programId"), Some("prog_b c"));
        assert_eq!(Params::parse(None).get("limit"), None);
    }
}
