//! Query strings of sandbox list endpoints: reading parameters, and the count rule page sizes share.
//!
//! An empty value (`?status=`) counts as not given, so forms that always send every field work. A
//! repeated parameter keeps its last value for [`Params::get`]; [`Params::all`] sees every one
//! (`ids[]=1&ids[]=2`).

pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn parse(raw: Option<&str>) -> Params {
        let pairs = url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
            .filter(|(_, value)| !value.is_empty())
            .map(|(key, value)| (key.into_owned(), value.into_owned()));
        Params(pairs.collect())
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.all(name).last()
    }

    pub fn all<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a str> {
        self.0
            .iter()
            .filter(move |(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// A whole number of 1 or more, clamped to `max`; `None` for 0, negatives and non-numbers.
pub fn count_up_to(text: &str, max: u32) -> Option<u32> {
    match text.parse::<i64>() {
        Ok(n) if n >= 1 => Some(n.min(i64::from(max)) as u32),
        Ok(_) => None,
        // Digits too long for i64 are still a number above the maximum.
        Err(_) => (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())).then_some(max),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_values_count_as_absent_and_last_repeat_wins() {
        let params = Params::parse(Some("status=&programId=a&programId=prog_b%20c"));
        assert_eq!(params.get("status"), None);
        assert_eq!(params.get("programId"), Some("prog_b c"));
        assert_eq!(Params::parse(None).get("limit"), None);
    }

    #[test]
    fn all_sees_every_repeat_in_order() {
        let params = Params::parse(Some("ids%5B%5D=3&x=1&ids[]=1&ids[]="));
        assert_eq!(params.all("ids[]").collect::<Vec<_>>(), ["3", "1"]);
        assert_eq!(params.all("y").count(), 0);
    }

    #[test]
    fn counts_are_positive_and_clamped() {
        assert_eq!(count_up_to("1", 100), Some(1));
        assert_eq!(count_up_to("150", 100), Some(100));
        assert_eq!(count_up_to("99999999999999999999999", 100), Some(100));
        for bad in ["0", "-1", "abc", "2.5", "", " 3"] {
            assert_eq!(count_up_to(bad, 100), None, "{bad:?}");
        }
    }
}
