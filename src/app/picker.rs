//! The searchable picker for referenced resources (promoter campaigns): its options for a query,
//! and what choosing one does.

use super::state::State;
use crate::domain::schema::RefKind;

/// Options of `kind` matching every word of `query` (in the name or the id), sorted by name.
pub fn options<'a>(state: &'a State, kind: RefKind, query: &str) -> Vec<(&'a str, &'a str)> {
    let terms: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
    let mut found: Vec<(&str, &str)> = state
        .lookups
        .get(&kind)
        .map(|names| {
            names
                .iter()
                .filter(|(id, name)| {
                    let hay = format!("{} {}", name.to_lowercase(), id);
                    terms.iter().all(|t| hay.contains(t.as_str()))
                })
                .map(|(id, name)| (id.as_str(), name.as_str()))
                .collect()
        })
        .unwrap_or_default();
    found.sort_by(|a, b| a.1.cmp(b.1).then(a.0.cmp(b.0)));
    found
}
