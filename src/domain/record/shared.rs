//! Values many referrals hold alike (a status word, a program, an ambassador, a promoter campaign),
//! each held once for the life of the process and named in a record by a small number.
//!
//! A shared value is its packed bytes (see `packed`), leaked so that reading one needs no lock held
//! and hands out `&'static` text. The table only grows, so it is capped: once it holds
//! `MAX_VALUES` values or `MAX_BYTES` bytes, further values stay in their records. Reloading the
//! same referrals finds the values already there.

use std::collections::HashMap;
use std::sync::{LazyLock, PoisonError, RwLock};

/// At most this many distinct shared values.
const MAX_VALUES: usize = 1 << 16;
/// At most this many bytes of shared values.
const MAX_BYTES: usize = 16 << 20;

#[derive(Default)]
struct Table {
    values: Vec<&'static [u8]>,
    numbers: HashMap<&'static [u8], u32>,
    bytes: usize,
}

static TABLE: LazyLock<RwLock<Table>> = LazyLock::new(Default::default);

/// The number naming `bytes`, added when new; None when the table is full.
pub fn share(bytes: &[u8]) -> Option<u32> {
    if let Some(number) = TABLE
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .numbers
        .get(bytes)
    {
        return Some(*number);
    }
    let mut table = TABLE.write().unwrap_or_else(PoisonError::into_inner);
    if let Some(number) = table.numbers.get(bytes) {
        return Some(*number);
    }
    if table.values.len() >= MAX_VALUES || table.bytes + bytes.len() > MAX_BYTES {
        return None;
    }
    let number = u32::try_from(table.values.len()).ok()?;
    let kept: &'static [u8] = Box::leak(bytes.into());
    table.values.push(kept);
    table.numbers.insert(kept, number);
    table.bytes += kept.len();
    Some(number)
}

/// The bytes `number` names.
pub fn get(number: u32) -> Option<&'static [u8]> {
    TABLE
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .values
        .get(number as usize)
        .copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_bytes_share_one_number_and_one_copy() {
        let a = share(b"shared-test-a").unwrap();
        let b = share(b"shared-test-b").unwrap();
        assert_ne!(a, b);
        assert_eq!(share(b"shared-test-a"), Some(a));
        assert_eq!(get(a), Some(&b"shared-test-a"[..]));
        assert!(std::ptr::eq(get(a).unwrap(), get(a).unwrap()));
        assert_eq!(get(u32::MAX), None);
    }
}
