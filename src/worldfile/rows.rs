//! Per-entity values stored row by row: an entity's state variables (or window counts, or
//! master-data fields) side by side, so an event that reads several of one entity's values
//! touches one or two cache lines, not one per variable.

/// `width` values per entity: value `v` of entity `i` is at `i * width + v`.
#[derive(Debug, Clone)]
pub struct Rows<T> {
    width: usize,
    values: Vec<T>,
    /// Entities stored (kept, so that asking costs no division).
    len: usize,
}

impl<T> Default for Rows<T> {
    fn default() -> Self {
        Rows {
            width: 0,
            values: Vec::new(),
            len: 0,
        }
    }
}

impl<T: Clone> Rows<T> {
    /// From columns (`columns[v][i]`), all of one length.
    pub fn from_columns(columns: &[Vec<T>]) -> Self {
        let n = columns.first().map_or(0, Vec::len);
        let mut values = Vec::with_capacity(n * columns.len());
        for i in 0..n {
            values.extend(columns.iter().filter_map(|c| c.get(i).cloned()));
        }
        Rows {
            width: columns.len(),
            len: values.len().checked_div(columns.len()).unwrap_or(0),
            values,
        }
    }

    /// `n` entities, each with `width` copies of `value`.
    pub fn filled(n: usize, width: usize, value: T) -> Self {
        Rows {
            width,
            values: vec![value; n * width],
            len: if width == 0 { 0 } else { n },
        }
    }
}

impl<T> Rows<T> {
    pub fn get(&self, i: u32, v: u16) -> Option<&T> {
        if v as usize >= self.width {
            return None;
        }
        self.values.get(i as usize * self.width + v as usize)
    }

    pub fn get_mut(&mut self, i: u32, v: u16) -> Option<&mut T> {
        if v as usize >= self.width {
            return None;
        }
        self.values.get_mut(i as usize * self.width + v as usize)
    }

    /// Asks the processor to start loading entity `i`'s row. An event prefetches the rows of
    /// every entity it names as soon as it knows them, so that they load together rather than
    /// one after another as the event reaches each read.
    pub fn prefetch(&self, i: u32) {
        let first = i as usize * self.width;
        if let Some(row) = self.values.get(first..first + self.width) {
            if let (Some(a), Some(b)) = (row.first(), row.last()) {
                prefetch(a);
                prefetch(b);
            }
        }
    }

    /// Entities stored.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// [`prefetch`] of `xs[at]`, if there is one.
#[inline(always)]
pub fn prefetch_at<T>(xs: &[T], at: usize) {
    if let Some(x) = xs.get(at) {
        prefetch(x);
    }
}

/// A hint to load the cache line holding `x`; it reads nothing and changes nothing.
#[inline(always)]
fn prefetch<T>(x: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint that never faults, and `x` is a live reference.
    #[allow(unused_unsafe)]
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>((x as *const T).cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = x;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_read_back_what_the_columns_held() {
        let columns = vec![vec![1, 2, 3], vec![10, 20, 30]];
        let rows = Rows::from_columns(&columns);
        assert_eq!(rows.len(), 3);
        for (v, col) in columns.iter().enumerate() {
            for (i, want) in col.iter().enumerate() {
                assert_eq!(rows.get(i as u32, v as u16), Some(want));
            }
        }
        // Out of range on either axis is None, never another entity's value.
        assert_eq!(rows.get(0, 2), None);
        assert_eq!(rows.get(3, 0), None);
        let mut filled = Rows::filled(2, 3, 0);
        *filled.get_mut(1, 2).unwrap() = 7;
        assert_eq!(filled.get(1, 2), Some(&7));
        assert_eq!(filled.get(0, 2), Some(&0));
        assert!(Rows::<i32>::filled(0, 3, 0).is_empty());
    }
}
