//! The email rules every backend shares: what counts as a valid address, and the key that makes
//! uniqueness checks ignore case.

use email_address::{EmailAddress, Options};

/// `local@domain.tld`: the email_address syntax rules, with a dotted domain and no display name.
pub fn is_valid(text: &str) -> bool {
    let options = Options::default()
        .with_required_tld()
        .without_display_text()
        .without_domain_literal();
    EmailAddress::parse_with_options(text, options).is_ok()
}

/// The stored lookup form of an address: lowercased, so `Ann@X.org` and `ann@x.org` collide.
pub fn key(email: &str) -> String {
    email.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needs_a_dotted_domain_and_nothing_around_the_address() {
        assert!(is_valid("ann.lee+promo@uni.edu"));
        for bad in [
            "a@b",
            "Ann <a@b.co>",
            "a@[127.0.0.1]",
            "plain",
            "",
            "a@@b.co",
        ] {
            assert!(!is_valid(bad), "{bad}");
        }
    }

    #[test]
    fn keys_ignore_case() {
        assert_eq!(key("Ann.Lee@Mail.COM"), "ann.lee@mail.com");
    }
}
