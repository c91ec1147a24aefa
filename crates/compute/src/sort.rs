//! ORDER BY with LIMIT/OFFSET.

use std::cmp::Ordering;

use freshet_common::{Datum, Row};
use freshet_expr::func::compare;
use freshet_expr::SortKey;

/// Compares two rows by `keys` with SQL NULL placement.
pub(crate) fn compare_rows(a: &[Datum], b: &[Datum], keys: &[SortKey]) -> Ordering {
    for k in keys {
        let (x, y) = (&a[k.column], &b[k.column]);
        let ord = match (x.is_null(), y.is_null()) {
            (true, true) => Ordering::Equal,
            (true, false) => {
                if k.nulls_first {
                    Ordering::Less
                } else {
                    Ordering::Greater
                }
            }
            (false, true) => {
                if k.nulls_first {
                    Ordering::Greater
                } else {
                    Ordering::Less
                }
            }
            (false, false) => {
                let o = compare(x, y).unwrap_or(Ordering::Equal);
                if k.descending {
                    o.reverse()
                } else {
                    o
                }
            }
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}

/// Sorts `rows` (stably) and applies OFFSET then LIMIT.
pub(crate) fn top_k(mut rows: Vec<Row>, keys: &[SortKey], limit: Option<u64>, offset: u64) -> Vec<Row> {
    let wanted = limit.map(|l| l.saturating_add(offset) as usize);
    if !keys.is_empty() {
        match wanted {
            Some(k) if k < rows.len() / 2 && k > 0 => {
                rows.select_nth_unstable_by(k, |a, b| compare_rows(a, b, keys));
                rows.truncate(k);
                rows.sort_by(|a, b| compare_rows(a, b, keys));
            }
            _ => rows.sort_by(|a, b| compare_rows(a, b, keys)),
        }
    }
    let start = (offset as usize).min(rows.len());
    let mut out: Vec<Row> = rows.into_iter().skip(start).collect();
    if let Some(l) = limit {
        out.truncate(l as usize);
    }
    out
}
