//! Reading the `Authorization: Bearer <token>` header every sandbox API authenticates with.

use axum::http::{HeaderMap, header};

/// The token of `Authorization: Bearer <token>`; the scheme name ignores case.
pub fn token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn read(value: &'static str) -> Option<String> {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static(value));
        token(&headers).map(str::to_owned)
    }

    #[test]
    fn reads_bearer_tokens_only() {
        assert_eq!(read("Bearer sk_demo").as_deref(), Some("sk_demo"));
        assert_eq!(read("bearer  sk_demo ").as_deref(), Some("sk_demo"));
        assert_eq!(read("Basic c2tfZGVtbw=="), None);
        assert_eq!(read("sk_demo"), None);
        assert_eq!(token(&HeaderMap::new()), None);
    }
}
