//! Secrets kept out of what is shown or logged. A base URL may carry the API key in its userinfo
//! (`https://sk_live:x@host/…`) or its query (`?api_key=sk_live…`); every message and log line that
//! names a URL takes it through `url` first. Only what is shown changes: requests still go to the
//! URL as configured.

use std::borrow::Cow;

/// Endings of query parameter names that hold secrets (`key`, `api_key`, `apikey`, `x-api-key`,
/// `token`, `access_token`, `client_secret`, `sig`…), compared in lower case with `-` read as `_`.
/// Hiding a harmless parameter by mistake costs little; showing a key costs a lot.
const SECRET_ENDINGS: [&str; 8] = [
    "key",
    "token",
    "secret",
    "password",
    "passwd",
    "pwd",
    "sig",
    "signature",
];

const HIDDEN: &str = "***";

fn secret_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase().replace('-', "_");
    SECRET_ENDINGS.iter().any(|end| name.ends_with(end)) || name == "auth"
}

/// `pairs` (`a=1&key=2`, from a query or a fragment) with the values of secret-looking names hidden.
fn redact_pairs(pairs: &str) -> String {
    pairs
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, value)) if secret_name(name) && !value.is_empty() => {
                format!("{name}={HIDDEN}")
            }
            _ => pair.to_string(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// `text` (a URL, or something meant to be one) with its userinfo and the values of secret-looking
/// query and fragment parameters replaced by `***`. Works on the text as written, so a URL that does
/// not parse is redacted too and one that does is shown as the user wrote it.
pub fn url(text: &str) -> Cow<'_, str> {
    let (before_fragment, fragment) = match text.split_once('#') {
        Some((before, fragment)) => (before, Some(fragment)),
        None => (text, None),
    };
    let (main, query) = match before_fragment.split_once('?') {
        Some((main, query)) => (main, Some(query)),
        None => (before_fragment, None),
    };
    let authority_start = main.find("://").map_or(0, |at| at + 3);
    let authority_end = main[authority_start..]
        .find('/')
        .map_or(main.len(), |at| authority_start + at);
    let authority = &main[authority_start..authority_end];
    let mut shown = main[..authority_start].to_string();
    match authority.rfind('@') {
        Some(at) => shown.push_str(&format!("{HIDDEN}@{}", &authority[at + 1..])),
        None => shown.push_str(authority),
    }
    shown.push_str(&main[authority_end..]);
    if let Some(query) = query {
        shown.push('?');
        shown.push_str(&redact_pairs(query));
    }
    if let Some(fragment) = fragment {
        shown.push('#');
        shown.push_str(&redact_pairs(fragment));
    }
    if shown == text {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(shown)
    }
}

/// `message` with `url` in it redacted wherever it appears (an HTTP library's error names the URL).
pub fn in_message(message: &str, url: &str) -> String {
    message.replace(url, &self::url(url))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_and_secret_parameters_are_hidden() {
        let cases = [
            (
                "https://api.vantio.app/api/v1",
                "https://api.vantio.app/api/v1",
            ),
            (
                "https://sk_live_1:x@api.example.com/api/v1",
                "https://***@api.example.com/api/v1",
            ),
            ("https://sk_live_1@h/v1", "https://***@h/v1"),
            ("https://h/v1?key=sk_1", "https://h/v1?key=***"),
            (
                "https://h/v1?page=2&api_key=sk_1&per_page=50",
                "https://h/v1?page=2&api_key=***&per_page=50",
            ),
            ("https://h/v1?apikey=sk_1", "https://h/v1?apikey=***"),
            ("https://h/v1?X-Api-Key=sk_1", "https://h/v1?X-Api-Key=***"),
            ("https://h/v1?token=t", "https://h/v1?token=***"),
            (
                "https://h/v1?access_token=t",
                "https://h/v1?access_token=***",
            ),
            (
                "https://h/v1?client_secret=s",
                "https://h/v1?client_secret=***",
            ),
            ("https://h/v1?sig=s&auth=a", "https://h/v1?sig=***&auth=***"),
            ("https://h/v1?password=p", "https://h/v1?password=***"),
            (
                "https://h/v1#access_token=t",
                "https://h/v1#access_token=***",
            ),
            (
                "http://u:p@h:3000/a?key=k#x",
                "http://***@h:3000/a?key=***#x",
            ),
            // Not secrets, or nothing to hide.
            ("https://h/v1?author=me", "https://h/v1?author=me"),
            ("https://h/v1?key=", "https://h/v1?key="),
            ("https://h/v1?key", "https://h/v1?key"),
            ("https://h/a@b", "https://h/a@b"),
            // Text that is no URL is redacted all the same.
            ("h:3000/v1?token=t", "h:3000/v1?token=***"),
            ("not a url", "not a url"),
        ];
        for (text, want) in cases {
            assert_eq!(url(text), want, "{text}");
        }
    }

    #[test]
    fn a_url_inside_a_message_is_redacted() {
        let message = "error sending request for url (https://h/v1/referrals?key=sk_1)";
        assert_eq!(
            in_message(message, "https://h/v1/referrals?key=sk_1"),
            "error sending request for url (https://h/v1/referrals?key=***)"
        );
    }
}
