//! Which of many literals occur in a text: the replay's prefilter asks this of every
//! indexed field of every event (thousands of literals for `CommandLine`).
//!
//! An Aho-Corasick automaton over them is large (a SigmaHQ `CommandLine` automaton has
//! tens of thousands of states) and a replay walks it with the event parser's data in
//! between, so most of its steps missed the cache: 15-35 ns per byte of text, the
//! prefilter a quarter of the time per event. Here each literal is found by one of
//! its 4-byte windows, the one fewest other literals share. A pass over the text looks
//! each window of the text up in a filter of the chosen windows (a bit array sized to
//! the literals, at most 8 KB), and only where the filter says one may start, in a
//! table of the literals that chose that window, which are then compared in place.
//! Literals shorter than a window are few (`-e`, `/c`): a small automaton finds them.

use aho_corasick::AhoCorasick;
use rustc_hash::FxHashMap;

/// Bytes in a window.
const WINDOW: usize = 4;

/// The filter's size in bits, as powers of two: about 16 bits per literal (one in 16
/// windows of a text passes when they are spread), within these bounds. A filter
/// sized to its literals keeps the fields with few of them to a cache line or two.
const MIN_FILTER_BITS: u32 = 9;
const MAX_FILTER_BITS: u32 = 16;

/// A set of literals (byte strings, non-empty), searched for all at once.
#[derive(Debug)]
pub struct Literals {
    /// Every literal's bytes, one after the other.
    bytes: Vec<u8>,
    /// A bit per hash of a window some literal chose.
    filter: Box<[u64]>,
    /// How far a window's hash is shifted to index `filter` (32 less its bits).
    shift: u32,
    /// The chosen windows in an open-addressing table (linear probing, at least three
    /// quarters empty, [`EMPTY`] where none is): where a window passes the filter, the
    /// probe reads 16 of them a cache line, and an entry's other fields only where its
    /// window is the text's.
    windows: Box<[u32]>,
    /// The literals, by their place in `windows`.
    table: Box<[Entry]>,
    /// How far a window's hash is shifted to index `table`.
    table_shift: u32,
    /// The literals shorter than a window, and their numbers.
    short: Option<(AhoCorasick, Vec<usize>)>,
}

/// An empty place in the table of windows: four 0xFF bytes, which no UTF-8 text holds
/// (a literal with no other window is looked for with the short ones).
const EMPTY: u32 = u32::MAX;

/// A literal in the table: where its chosen window is in it, its number, and its bytes
/// (`start..start + len` of `Literals::bytes`).
#[derive(Debug, Clone, Copy, Default)]
struct Entry {
    offset: u32,
    number: u32,
    start: u32,
    len: u32,
}

fn window(bytes: &[u8]) -> u32 {
    u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}

/// Where a window's bit is in a filter or table of `32 - shift` bits (multiplicative
/// hashing: the top bits of the product depend on every byte).
fn bit(window: u32, shift: u32) -> usize {
    (window.wrapping_mul(0x9E37_79B1) >> shift) as usize
}

impl Literals {
    /// The set of `literals` (numbered in order; none may be empty).
    pub fn new<T: AsRef<[u8]>>(literals: &[T]) -> Literals {
        let literals: Vec<&[u8]> = literals.iter().map(AsRef::as_ref).collect();
        // How many literals hold each window: a literal is found by its rarest one,
        // so that few literals are compared wherever a common window occurs.
        let mut holders: FxHashMap<u32, u32> = FxHashMap::default();
        for l in &literals {
            let mut seen: Vec<u32> = l.windows(WINDOW).map(window).collect();
            seen.sort_unstable();
            seen.dedup();
            for w in seen {
                *holders.entry(w).or_default() += 1;
            }
        }
        let bits = (literals.len() * 16)
            .next_power_of_two()
            .trailing_zeros()
            .clamp(MIN_FILTER_BITS, MAX_FILTER_BITS);
        let shift = 32 - bits;
        let mut filter = vec![0u64; 1 << (bits - 6)].into_boxed_slice();
        let table_bits = (literals.len() * 4).next_power_of_two().trailing_zeros().max(1);
        let table_shift = 32 - table_bits;
        let mut windows = vec![EMPTY; 1 << table_bits].into_boxed_slice();
        let mut table = vec![Entry::default(); 1 << table_bits].into_boxed_slice();
        let mut bytes = Vec::with_capacity(literals.iter().map(|l| l.len()).sum());
        let mut short = (Vec::new(), Vec::new());
        for (i, l) in literals.iter().enumerate() {
            assert!(!l.is_empty(), "an empty literal occurs in every text");
            let Some((offset, w)) = l
                .windows(WINDOW)
                .map(window)
                .enumerate()
                .filter(|&(_, w)| w != EMPTY)
                .min_by_key(|&(_, w)| holders[&w])
            else {
                short.0.push(*l);
                short.1.push(i);
                continue;
            };
            let b = bit(w, shift);
            filter[b / 64] |= 1 << (b % 64);
            let mut at = bit(w, table_shift);
            while windows[at] != EMPTY {
                at = (at + 1) & (windows.len() - 1);
            }
            windows[at] = w;
            table[at] = Entry {
                offset: offset as u32,
                number: i as u32,
                start: bytes.len() as u32,
                len: l.len() as u32,
            };
            bytes.extend_from_slice(l);
        }
        let short = (!short.0.is_empty()).then(|| {
            let automaton = AhoCorasick::new(&short.0).expect("short literals compile");
            (automaton, short.1)
        });
        Literals {
            bytes,
            filter,
            shift,
            windows,
            table,
            table_shift,
            short,
        }
    }

    /// Calls `found` with the number of each literal that occurs in `text`, once per
    /// occurrence (in no particular order).
    pub fn find(&self, text: &[u8], mut found: impl FnMut(usize)) {
        if let Some((automaton, numbers)) = &self.short {
            for m in automaton.find_overlapping_iter(text) {
                found(numbers[m.pattern().as_usize()]);
            }
        }
        if text.len() < WINDOW {
            return;
        }
        let mask = self.windows.len() - 1;
        for at in 0..=text.len() - WINDOW {
            let w = window(&text[at..]);
            let b = bit(w, self.shift);
            if self.filter[b / 64] & (1 << (b % 64)) == 0 {
                continue;
            }
            let mut probe = bit(w, self.table_shift);
            loop {
                let held = self.windows[probe];
                if held == EMPTY {
                    break;
                }
                let e = &self.table[probe];
                if held == w
                    && let Some(start) = at.checked_sub(e.offset as usize)
                    && text[start..].starts_with(&self.bytes[e.start as usize..(e.start + e.len) as usize])
                {
                    found(e.number as usize);
                }
                probe = (probe + 1) & mask;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn found(literals: &[&str], text: &str) -> Vec<usize> {
        let mut out = Vec::new();
        Literals::new(literals).find(text.as_bytes(), |i| out.push(i));
        out.sort_unstable();
        out
    }

    /// What an Aho-Corasick automaton finds, occurrence by occurrence.
    fn expected(literals: &[&str], text: &str) -> Vec<usize> {
        let mut out: Vec<usize> = AhoCorasick::new(literals)
            .unwrap()
            .find_overlapping_iter(text)
            .map(|m| m.pattern().as_usize())
            .collect();
        out.sort_unstable();
        out
    }

    #[test]
    fn every_occurrence_of_every_literal() {
        let literals = [
            "-e",
            "/c",
            "powershell",
            "shell",
            "\\rundll32.exe",
            "aaaa",
            "aaaaa",
            "x",
        ];
        let text = "c:\\windows\\system32\\rundll32.exe powershell -e aaaaaa /c x";
        assert_eq!(found(&literals, text), expected(&literals, text));
        assert_eq!(found(&literals, "aaaa"), vec![5]);
        assert_eq!(found(&literals, "xy"), vec![7]);
        assert_eq!(found(&literals, ""), Vec::<usize>::new());
    }

    proptest! {
        // Small alphabets make overlaps, shared windows and repeats common.
        #[test]
        fn finds_what_aho_corasick_finds(
            literals in prop::collection::vec("[ab\\\\c]{1,7}", 1..40),
            text in "[ab\\\\cd]{0,60}",
        ) {
            let literals: Vec<&str> = literals.iter().map(String::as_str).collect();
            prop_assert_eq!(found(&literals, &text), expected(&literals, &text));
        }

        /// Bytes too, 0xFF among them (the table's empty mark as a window).
        #[test]
        fn finds_what_aho_corasick_finds_in_bytes(
            literals in prop::collection::vec(prop::collection::vec(prop::sample::select(vec![b'a', 0xFF]), 1..7), 1..20),
            text in prop::collection::vec(prop::sample::select(vec![b'a', b'b', 0xFF]), 0..40),
        ) {
            let mut out = Vec::new();
            Literals::new(&literals).find(&text, |i| out.push(i));
            out.sort_unstable();
            let mut expected: Vec<usize> = AhoCorasick::new(&literals)
                .unwrap()
                .find_overlapping_iter(&text)
                .map(|m| m.pattern().as_usize())
                .collect();
            expected.sort_unstable();
            prop_assert_eq!(out, expected);
        }
    }
}
