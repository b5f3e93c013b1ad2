//! Every occurrence of many short literals in a line, ASCII
//! case-insensitively and overlapping: the redactor's first pass.
//!
//! An Aho-Corasick DFA takes one table step per byte whatever the line holds
//! (~2.6 ns a byte for the ~200 literals of the default keys and detector
//! pack, two thirds of all redaction time). Here each literal of three bytes
//! or more is *filed* under one of its 3-byte windows, the one whose letters
//! are rarest in text, and the line is walked with a 64 Kibit set of hashed
//! windows: eight bytes are loaded and lowercased at once, and a position
//! costs a shift, a multiply and a bit test. Only a window whose hash is in
//! the set is looked up exactly, and the literals filed under it compared in
//! place. Each occurrence is found once, at its filed window; the result is
//! the same set of (literal, start, end) an overlapping Aho-Corasick search
//! reports. Literals shorter than three bytes (`\u`, a one-letter key word)
//! are found by a memchr for their first bytes.

/// One occurrence of literal `id` at `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    pub id: usize,
    pub start: usize,
    pub end: usize,
}

/// The window set has `1 << BITS` bits; `SLOTS` index the filed literals.
const BITS: u32 = 16;
const SET_WORDS: usize = (1 << BITS) / 64;
const SLOTS: usize = 1024;

/// The compiled literal set. See the module docs.
#[derive(Debug)]
pub struct Literals {
    /// Hashed windows under which a literal is filed.
    set: Box<[u64; SET_WORDS]>,
    /// (slot, window, literal id, offset of the window in the literal),
    /// sorted; `slot_start[s]..slot_start[s + 1]` are slot `s`'s.
    filed: Vec<(usize, u32, usize, usize)>,
    slot_start: Box<[u32; SLOTS + 1]>,
    /// The literals, lowercased.
    lits: Vec<Vec<u8>>,
    /// The ids of the literals shorter than a window, and the bytes (both
    /// cases) they start with.
    short: Vec<usize>,
    short_first: Vec<u8>,
}

/// How rare a lowercased byte is in log text: 0 for what nearly every line
/// holds (frequent letters, digits, spaces and the usual punctuation), 2 for
/// the rare letters and bytes.
fn rarity(b: u8) -> u32 {
    match b {
        b'e' | b't' | b'a' | b'o' | b'i' | b'n' | b's' | b'r' | b'0'..=b'9' => 0,
        b' ' | b'"' | b':' | b',' | b'.' | b'/' | b'-' | b'=' | b'_' => 0,
        b'h' | b'd' | b'l' | b'c' | b'u' | b'm' | b'w' | b'f' | b'g' | b'y' | b'p' | b'b' => 1,
        b'{' | b'}' | b'[' | b']' | b'&' | b'?' => 1,
        _ => 2,
    }
}

/// The offset of the window `lit` (lowercased, at least 3 bytes) is filed
/// under: the rarest, the first of equals.
fn filing_offset(lit: &[u8]) -> usize {
    let score = |o: usize| lit[o..o + 3].iter().map(|&b| rarity(b)).sum::<u32>();
    (0..=lit.len() - 3)
        .rev()
        .max_by_key(|&o| score(o))
        .unwrap_or(0)
}

fn window(b: &[u8]) -> u32 {
    u32::from(b[0]) | u32::from(b[1]) << 8 | u32::from(b[2]) << 16
}

/// A window's bit in the set (the top `BITS` bits of a multiplicative hash).
fn hash(w: u32) -> usize {
    (w.wrapping_mul(0x9E37_79B1) >> (32 - BITS)) as usize
}

/// ASCII-lowercases the eight bytes of `x` at once (the classic SWAR test:
/// a byte is upper case when adding 0x3f sets its top bit and adding 0x25
/// does not, and its own top bit is clear).
fn lower8(x: u64) -> u64 {
    const HI: u64 = 0x8080_8080_8080_8080;
    let low7 = x & !HI;
    let ge_a = low7.wrapping_add(0x3f3f_3f3f_3f3f_3f3f);
    let gt_z = low7.wrapping_add(0x2525_2525_2525_2525);
    let upper = ge_a & !gt_z & !x & HI;
    x | (upper >> 2)
}

impl Literals {
    /// Compiles `lits` (any bytes; ids are their indices). An empty literal
    /// is never found.
    pub fn new<L: AsRef<[u8]>>(lits: &[L]) -> Literals {
        let lits: Vec<Vec<u8>> = lits
            .iter()
            .map(|l| l.as_ref().to_ascii_lowercase())
            .collect();
        let mut set = Box::new([0u64; SET_WORDS]);
        let mut filed = Vec::new();
        let mut short = Vec::new();
        let mut short_first = Vec::new();
        for (id, l) in lits.iter().enumerate() {
            match l.len() {
                0 => {}
                1 | 2 => {
                    short.push(id);
                    for b in [l[0], l[0].to_ascii_uppercase()] {
                        if !short_first.contains(&b) {
                            short_first.push(b);
                        }
                    }
                }
                _ => {
                    let off = filing_offset(l);
                    let w = window(&l[off..]);
                    let h = hash(w);
                    set[h / 64] |= 1 << (h % 64);
                    filed.push((h % SLOTS, w, id, off));
                }
            }
        }
        filed.sort_unstable();
        let mut slot_start = Box::new([0u32; SLOTS + 1]);
        for (s, start) in slot_start.iter_mut().enumerate() {
            let n = filed.partition_point(|f| f.0 < s);
            *start = u32::try_from(n).unwrap_or(u32::MAX);
        }
        Literals {
            set,
            filed,
            slot_start,
            lits,
            short,
            short_first,
        }
    }

    /// Appends every occurrence in `hay` to `out`, ordered by start and, at
    /// one start, the longest first.
    pub fn find_all(&self, hay: &[u8], out: &mut Vec<Found>) {
        let from = out.len();
        if !self.short.is_empty() {
            self.find_short(hay, out);
        }
        if !self.filed.is_empty() && hay.len() >= 3 {
            self.walk(hay, out);
        }
        out[from..].sort_unstable_by_key(|f| (f.start, usize::MAX - f.end, f.id));
    }

    /// The literals of one or two bytes: a memchr for their first bytes (up
    /// to three of them; a byte-by-byte walk for more).
    fn find_short(&self, hay: &[u8], out: &mut Vec<Found>) {
        let mut at = |pos: usize| {
            for &id in &self.short {
                let lit = &self.lits[id];
                let end = pos + lit.len();
                if end <= hay.len() && hay[pos..end].eq_ignore_ascii_case(lit) {
                    out.push(Found {
                        id,
                        start: pos,
                        end,
                    });
                }
            }
        };
        match *self.short_first.as_slice() {
            [a] => memchr::memchr_iter(a, hay).for_each(&mut at),
            [a, b] => memchr::memchr2_iter(a, b, hay).for_each(&mut at),
            [a, b, c] => memchr::memchr3_iter(a, b, c, hay).for_each(&mut at),
            _ => (0..hay.len())
                .filter(|&i| self.short_first.contains(&hay[i]))
                .for_each(&mut at),
        }
    }

    fn walk(&self, hay: &[u8], out: &mut Vec<Found>) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 (checked just above).
            let i = unsafe { self.walk_avx2(hay, out) };
            self.walk_from(hay, i, out);
            return;
        }
        self.walk_from(hay, 0, out);
    }

    /// The portable walk over the windows starting at `i` and after.
    fn walk_from(&self, hay: &[u8], mut i: usize, out: &mut Vec<Found>) {
        // Eight bytes at a time give six windows.
        while i + 8 <= hay.len() {
            let mut chunk = [0u8; 8];
            chunk.copy_from_slice(&hay[i..i + 8]);
            let v = lower8(u64::from_le_bytes(chunk));
            for k in 0..6 {
                self.probe(hay, i + k, (v >> (8 * k)) as u32 & 0x00ff_ffff, out);
            }
            i += 6;
        }
        while i + 3 <= hay.len() {
            let mut b = [0u8; 3];
            b.copy_from_slice(&hay[i..i + 3]);
            self.probe(hay, i, window(&b.to_ascii_lowercase()), out);
            i += 1;
        }
    }

    /// The walk with AVX2, eight windows a step: sixteen bytes are loaded
    /// and lowercased, shuffled into eight 3-byte windows, hashed by one
    /// multiply and looked up in the set by one gather. Returns where the
    /// portable walk takes over (fewer than sixteen bytes left).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn walk_avx2(&self, hay: &[u8], out: &mut Vec<Found>) -> usize {
        use std::arch::x86_64::*;
        // Lane 0 gets the windows at 0..4, lane 1 those at 4..8 (each lane
        // holds the same sixteen bytes); -1 zeroes the fourth byte.
        #[rustfmt::skip]
        let shuffle = _mm256_setr_epi8(
            0, 1, 2, -1, 1, 2, 3, -1, 2, 3, 4, -1, 3, 4, 5, -1,
            4, 5, 6, -1, 5, 6, 7, -1, 6, 7, 8, -1, 7, 8, 9, -1,
        );
        let below_a = _mm_set1_epi8(b'A' as i8 - 1);
        let above_z = _mm_set1_epi8(b'Z' as i8 + 1);
        let case_bit = _mm_set1_epi8(0x20);
        let mul = _mm256_set1_epi32(0x9E37_79B1_u32 as i32);
        let low5 = _mm256_set1_epi32(31);
        let thirty_one = _mm256_set1_epi32(31);
        // The set as little-endian 32-bit words: bit h is bit h % 32 of
        // word h / 32, as it is bit h % 64 of the u64 word h / 64.
        let set = self.set.as_ptr().cast::<i32>();
        let mut i = 0;
        while i + 16 <= hay.len() {
            // SAFETY: i + 16 <= hay.len(), an unaligned load is allowed.
            let raw = unsafe { _mm_loadu_si128(hay.as_ptr().add(i).cast()) };
            let upper = _mm_and_si128(_mm_cmpgt_epi8(raw, below_a), _mm_cmpgt_epi8(above_z, raw));
            let lower = _mm_or_si128(raw, _mm_and_si128(upper, case_bit));
            let windows = _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(lower), shuffle);
            let h = _mm256_srli_epi32::<{ 32 - BITS as i32 }>(_mm256_mullo_epi32(windows, mul));
            // SAFETY: h < 1 << BITS, so h / 32 indexes the set's words.
            let words = unsafe { _mm256_i32gather_epi32::<4>(set, _mm256_srli_epi32::<5>(h)) };
            let bit = _mm256_and_si256(h, low5);
            let top = _mm256_sllv_epi32(words, _mm256_sub_epi32(thirty_one, bit));
            let mut hits = _mm256_movemask_ps(_mm256_castsi256_ps(top)) as u32;
            while hits != 0 {
                let k = hits.trailing_zeros() as usize;
                hits &= hits - 1;
                let w = window(&hay[i + k..i + k + 3].to_ascii_lowercase());
                self.probe(hay, i + k, w, out);
            }
            i += 8;
        }
        i
    }

    /// Tests window `w` (lowercased) at `pos`.
    #[inline(always)]
    fn probe(&self, hay: &[u8], pos: usize, w: u32, out: &mut Vec<Found>) {
        let h = hash(w);
        if self.set[(h / 64) % SET_WORDS] & (1 << (h % 64)) != 0 {
            self.confirm(hay, pos, h % SLOTS, w, out);
        }
    }

    /// The literals filed under window `w` (in `slot`), found at `pos`,
    /// that really occur.
    #[cold]
    fn confirm(&self, hay: &[u8], pos: usize, slot: usize, w: u32, out: &mut Vec<Found>) {
        let (a, b) = (
            self.slot_start[slot],
            self.slot_start[(slot + 1) % (SLOTS + 1)],
        );
        let Some(filed) = self.filed.get(a as usize..b as usize) else {
            return;
        };
        for &(_, fw, id, off) in filed {
            let Some(start) = pos.checked_sub(off) else {
                continue;
            };
            let lit = &self.lits[id];
            let end = start + lit.len();
            if fw == w && end <= hay.len() && hay[start..end].eq_ignore_ascii_case(lit) {
                out.push(Found { id, start, end });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What an overlapping, case-insensitive Aho-Corasick search reports, in
    /// the same order.
    fn reference(lits: &[&[u8]], hay: &[u8]) -> Vec<Found> {
        let mut v = Vec::new();
        for (id, l) in lits.iter().enumerate() {
            if l.is_empty() || l.len() > hay.len() {
                continue;
            }
            for s in 0..=hay.len() - l.len() {
                if hay[s..s + l.len()].eq_ignore_ascii_case(l) {
                    v.push(Found {
                        id,
                        start: s,
                        end: s + l.len(),
                    });
                }
            }
        }
        v.sort_unstable_by_key(|f| (f.start, usize::MAX - f.end, f.id));
        v
    }

    fn found(lits: &[&[u8]], hay: &[u8]) -> Vec<Found> {
        let mut v = Vec::new();
        Literals::new(lits).find_all(hay, &mut v);
        v
    }

    #[test]
    fn table() {
        let lits: &[&[u8]] = &[
            b"api", b"key", b"\\u", b"AKIA", b"token", b"x", b"", b"akia",
        ];
        let cases: &[&[u8]] = &[
            b"",
            b"ap",
            b"api",
            b"GET /API/v1/keys?token=1",
            b"AKIAakiaAKIA",
            b"\\u0070assword \\U",
            b"tokentoken_token",
            b"no literal here at all, none",
            b"\xff\xfeapi\x80KEY\x00",
            b"xxxxxxxxxxxxxxxxx",
        ];
        for &h in cases {
            assert_eq!(
                found(lits, h),
                reference(lits, h),
                "{:?}",
                String::from_utf8_lossy(h)
            );
        }
    }

    #[test]
    fn lower8_is_ascii_lowercase() {
        for b in 0..=255u8 {
            let x = u64::from_le_bytes([b, b'A', b'Z', b'@', b'[', b'a', 0xc1, 0xda]);
            let want = u64::from_le_bytes(
                [b, b'A', b'Z', b'@', b'[', b'a', 0xc1, 0xda].map(|c| c.to_ascii_lowercase()),
            );
            assert_eq!(lower8(x), want, "byte {b:#x}");
        }
    }

    #[test]
    fn filed_under_the_rarest_window() {
        assert_eq!(filing_offset(b"token"), 0); // "tok": the k
        assert_eq!(filing_offset(b"api"), 0);
        assert_eq!(filing_offset(b"hooks.slack.com"), 8); // "ack"
    }

    proptest! {
        #[test]
        fn same_as_a_naive_search(
            lits in proptest::collection::vec(proptest::collection::vec(
                prop_oneof![Just(b'a'), Just(b'B'), Just(b'k'), Just(b'_'), Just(0xffu8)], 0..7), 1..12),
            hay in proptest::collection::vec(
                prop_oneof![Just(b'A'), Just(b'b'), Just(b'K'), Just(b'_'), Just(b' '), Just(0xffu8)], 0..80),
        ) {
            let lits: Vec<&[u8]> = lits.iter().map(Vec::as_slice).collect();
            let want = reference(&lits, &hay);
            prop_assert_eq!(found(&lits, &hay), want.clone());
            // The portable walk too, where the CPU would take the AVX2 one.
            let l = Literals::new(&lits);
            let mut portable = Vec::new();
            l.find_short(&hay, &mut portable);
            if !l.filed.is_empty() {
                l.walk_from(&hay, 0, &mut portable);
            }
            portable.sort_unstable_by_key(|f| (f.start, usize::MAX - f.end, f.id));
            prop_assert_eq!(portable, want);
        }
    }
}
