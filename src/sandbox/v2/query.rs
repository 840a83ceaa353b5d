//! Query strings of v2 list endpoints: `page`/`per_page` paging and the referral filters, every
//! bad parameter reported at once as a 422 naming it.

use jiff::civil::Date;

use super::error::{ApiError, FieldErrors};
use super::records::State;
use super::store::{Days, ReferralFilter};
use crate::sandbox::query::{Params, count_up_to};

const DEFAULT_PER_PAGE: u32 = 20;
const MAX_PER_PAGE: u32 = 100;
const POSITIVE: &str = "must be a positive integer";
const NOT_LISTED: &str = "is not included in the list";

/// One page of a list: page numbers start at 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub page: u32,
    pub per_page: u32,
}

impl Page {
    pub fn limit(self) -> u32 {
        self.per_page
    }

    pub fn offset(self) -> i64 {
        (i64::from(self.page) - 1) * i64::from(self.per_page)
    }
}

/// `page` defaults to 1 (huge numbers count as the last possible page, which is empty);
/// `per_page` defaults to 20 and is clamped to 100. Below 1 or not a whole number is an error.
pub fn page(params: &Params, errors: &mut FieldErrors) -> Page {
    let mut read = |name: &str, max: u32, default: u32| match params.get(name) {
        None => default,
        Some(text) => count_up_to(text, max).unwrap_or_else(|| {
            errors.add(name, POSITIVE);
            default
        }),
    };
    Page {
        page: read("page", u32::MAX, 1),
        per_page: read("per_page", MAX_PER_PAGE, DEFAULT_PER_PAGE),
    }
}

/// The page and filters of `GET /referrals`.
pub fn referral_list(params: &Params) -> Result<(Page, ReferralFilter), ApiError> {
    let mut errors = FieldErrors::default();
    let page = page(params, &mut errors);
    let ids: Vec<i64> = params
        .all("ids[]")
        .filter_map(|text| {
            let id = text.parse().ok();
            if id.is_none() {
                errors.add("ids", "must be integers");
            }
            id
        })
        .collect();
    let customer = params.get("filters[type]").and_then(|text| match text {
        "customer" => Some(true),
        "lead" => Some(false),
        _ => {
            errors.add("filters[type]", NOT_LISTED);
            None
        }
    });
    let state = params.get("filters[state]").and_then(|text| {
        let state = State::parse(text);
        if state.is_none() {
            errors.add("filters[state]", NOT_LISTED);
        }
        state
    });
    let promoter_id = params.get("filters[promoter_id]").and_then(|text| {
        let id = text.parse().ok();
        if id.is_none() {
            errors.add("filters[promoter_id]", "must be an integer");
        }
        id
    });
    let mut days = |field: &str| {
        let mut date = |bound: &str| {
            let name = format!("filters[{field}][{bound}]");
            params.get(&name).and_then(|text| {
                let date = day(text);
                if date.is_none() {
                    errors.add(&name, "must be a date (YYYY-MM-DD)");
                }
                date
            })
        };
        Days {
            from: date("from"),
            to: date("to"),
        }
    };
    let created_at = days("created_at");
    let customer_since = days("customer_since");
    let cancelled_at = days("cancelled_at");
    let filter = ReferralFilter {
        q: params.get("q").map(str::to_owned),
        ids: (!ids.is_empty()).then_some(ids),
        customer,
        state,
        promoter_id,
        created_at,
        customer_since,
        cancelled_at,
    };
    errors.or_value((page, filter))
}

/// `YYYY-MM-DD` exactly, and a real day.
fn day(text: &str) -> Option<String> {
    let date: Date = text.parse().ok()?;
    let canonical = date.to_string();
    (canonical == text).then_some(canonical)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(query: &str) -> Result<(Page, ReferralFilter), ApiError> {
        referral_list(&Params::parse(Some(query)))
    }

    fn errors(query: &str) -> String {
        format!("{:?}", parse(query).unwrap_err())
    }

    #[test]
    fn paging_defaults_clamps_and_offsets() {
        let (page, filter) = parse("").unwrap();
        assert_eq!((page.page, page.per_page, page.offset()), (1, 20, 0));
        assert_eq!(filter, ReferralFilter::default());
        let (page, _) = parse("page=3&per_page=500").unwrap();
        assert_eq!((page.limit(), page.offset()), (100, 200));
        let (page, _) = parse("page=99999999999999999999").unwrap();
        assert_eq!(page.page, u32::MAX);
        assert!(page.offset() > 0);
    }

    #[test]
    fn reads_every_filter() {
        let (_, filter) = parse(
            "q=Ann&ids[]=5001&ids%5B%5D=5003&filters[type]=lead&filters[state]=denied\
             &filters[promoter_id]=201&filters[created_at][from]=2026-02-01\
             &filters[created_at][to]=2026-02-28&filters[customer_since][from]=2026-03-01\
             &filters[cancelled_at][to]=2026-09-30",
        )
        .unwrap();
        assert_eq!(
            filter,
            ReferralFilter {
                q: Some("Ann".into()),
                ids: Some(vec![5001, 5003]),
                customer: Some(false),
                state: Some(State::Denied),
                promoter_id: Some(201),
                created_at: Days {
                    from: Some("2026-02-01".into()),
                    to: Some("2026-02-28".into()),
                },
                customer_since: Days {
                    from: Some("2026-03-01".into()),
                    to: None,
                },
                cancelled_at: Days {
                    from: None,
                    to: Some("2026-09-30".into()),
                },
            }
        );
    }

    #[test]
    fn names_every_bad_parameter_at_once() {
        let all = errors(
            "page=0&per_page=x&ids[]=a&filters[type]=vip&filters[state]=gone\
             &filters[promoter_id]=1.5&filters[created_at][from]=2026-2-1\
             &filters[created_at][to]=2026-02-30&filters[customer_since][from]=yesterday\
             &filters[cancelled_at][to]=2026-09-31",
        );
        for field in [
            "\"page\"",
            "\"per_page\"",
            "\"ids\"",
            "\"filters[type]\"",
            "\"filters[state]\"",
            "\"filters[promoter_id]\"",
            "\"filters[created_at][from]\"",
            "\"filters[created_at][to]\"",
            "\"filters[customer_since][from]\"",
            "\"filters[cancelled_at][to]\"",
        ] {
            assert!(all.contains(field), "{field} missing from {all}");
        }
    }
}
