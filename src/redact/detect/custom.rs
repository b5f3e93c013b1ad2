//! The rules with a check of their own: formats whose validity is more than
//! a charset and a length (Telegram and SendGrid tokens, JWTs, PEM blocks,
//! credentials in URLs, FIX logon passwords).

use super::*;

pub(super) fn is_uuid(t: &[u8]) -> bool {
    t.len() == 36
        && t.iter().enumerate().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                *c == b'-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

/// `123456789:AAH…` (bot id, colon, 35 base64url bytes); the anchor is `:AA`.
pub(super) fn telegram(b: &[u8], s: usize, _e: usize) -> Option<(usize, usize)> {
    let mut d = s;
    while d > 0 && s - d < 12 && b[d - 1].is_ascii_digit() {
        d -= 1;
    }
    let digits = s - d;
    let before_ok = left_ok(b, d) || (d >= 3 && b[d - 3..d].eq_ignore_ascii_case(b"bot"));
    if !(5..=12).contains(&digits) || !before_ok {
        return None;
    }
    let end = run(b, s + 1, Set::B64Url, 80);
    let tail = end - (s + 1);
    let right_ok = end == b.len() || !b[end].is_ascii_alphanumeric();
    ((30..=80).contains(&tail) && right_ok).then_some((d, end))
}

/// `api.telegram.org/bot<token>/…`: the path segment after `bot`.
pub(super) fn telegram_url(b: &[u8], _s: usize, e: usize) -> Option<(usize, usize)> {
    let end = value_end(b, e, b"/?#");
    (end > e).then_some((e, end))
}

/// `SG.<16–32>.<30+>` (base64url segments).
pub(super) fn sendgrid(b: &[u8], s: usize, e: usize) -> Option<(usize, usize)> {
    if !left_ok(b, s) {
        return None;
    }
    let m = run(b, e, Set::B64Url, 33);
    if !(16..=32).contains(&(m - e)) || b.get(m) != Some(&b'.') {
        return None;
    }
    let end = run(b, m + 1, Set::B64Url, 100);
    (end - (m + 1) >= 30).then_some((s, end))
}

/// A JWT (or JWS/JWE): base64url segments joined by dots, the first two
/// JSON objects (`eyJ`), the signature possibly empty (`alg: none`).
pub(super) fn jwt(b: &[u8], s: usize, _e: usize) -> Option<(usize, usize)> {
    if s > 0 && in_set(Set::B64Url, b[s - 1]) {
        return None;
    }
    let h = run(b, s, Set::B64Url, 4096);
    if h - s < 10 || b.get(h) != Some(&b'.') || !b[h + 1..].starts_with(b"eyJ") {
        return None;
    }
    let mut end = run(b, h + 1, Set::B64Url, 16384);
    if end - (h + 1) < 10 || b.get(end) != Some(&b'.') {
        return None;
    }
    // The signature (and, for a JWE, further segments).
    for _ in 0..4 {
        if b.get(end) != Some(&b'.') {
            break;
        }
        end = run(b, end + 1, Set::B64Url, 16384);
    }
    Some((s, end))
}

/// A JWT wrapped in standard base64: `ZXlK` is base64 of `eyJ`.
pub(super) fn jwt_base64(b: &[u8], s: usize, _e: usize) -> Option<(usize, usize)> {
    if !left_ok(b, s) {
        return None;
    }
    let end = run(b, s, Set::B64, 32768);
    if end - s < 40 {
        return None;
    }
    let head = decode_base64(&b[s..s + 60.min(end - s) / 4 * 4]);
    let ok = head.starts_with(b"eyJ")
        && head.contains(&b'.')
        && head.iter().all(|c| in_set(Set::B64Url, *c) || *c == b'.');
    ok.then_some((s, end))
}

pub(super) fn decode_base64(t: &[u8]) -> Vec<u8> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::with_capacity(t.len() / 4 * 3);
    for q in t.chunks_exact(4) {
        let (Some(a), Some(b2), Some(c), Some(d)) = (val(q[0]), val(q[1]), val(q[2]), val(q[3]))
        else {
            break;
        };
        let n = a << 18 | b2 << 12 | c << 6 | d;
        out.extend_from_slice(&[(n >> 16) as u8, (n >> 8) as u8, n as u8]);
    }
    out
}

/// The end of a `-----BEGIN … PRIVATE KEY-----` header starting at `s`.
pub fn pem_header_end(b: &[u8], s: usize) -> Option<usize> {
    let rest = &b[s..b.len().min(s + 80)];
    let close = memchr::memmem::find(&rest[10..], b"-----")? + 10;
    let label = &rest[10..close];
    let private = memchr::memmem::find(label, b"PRIVATE KEY").is_some();
    let shaped = label
        .iter()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b' ');
    (private && shaped).then_some(s + close + 5)
}

/// A private key in PEM form within one line (its newlines escaped in a
/// JSON string, or joined by a logger): masks the body from the header to
/// `-----END` (looked for within [`MAX_PEM`] bytes); without one, to the end
/// of the string it sits in (an unescaped `"`) or of the line: fail closed.
pub(super) fn pem(b: &[u8], s: usize, _e: usize) -> Option<(usize, usize)> {
    let h = pem_header_end(b, s)?;
    let lim = b.len().min(h + MAX_PEM);
    let end = match memchr::memmem::find(&b[h..lim], b"-----END") {
        Some(i) => h + i,
        None => memchr::memchr_iter(b'"', &b[h..])
            .map(|i| h + i)
            .find(|&q| q == h || b[q - 1] != b'\\')
            .unwrap_or(b.len()),
    };
    (end > h).then_some((h, end))
}

/// `scheme://user:password@host`: masks the password; `https://token@host`
/// (and `git`, `ssh` … with a token-shaped userinfo) masks the token. The
/// host is after the last `@` before the path, so a raw `@` or `:` in the
/// password stays in the mask; a `:digits/` port is not a password.
pub(super) fn url_credentials(b: &[u8], s: usize, e: usize) -> Option<(usize, usize)> {
    // The scheme: letters, digits, `+.-`, starting with a letter.
    let mut k = s;
    while k > 0
        && s - k < 32
        && (b[k - 1].is_ascii_alphanumeric() || matches!(b[k - 1], b'+' | b'.' | b'-'))
    {
        k -= 1;
    }
    if k == s || !b[k].is_ascii_alphabetic() {
        return None;
    }
    let scheme = &b[k..s];
    // The authority candidate: up to whitespace, a quote, `?` or `#`.
    let lim = b.len().min(e + 512);
    let mut end = e;
    while end < lim {
        let c = b[end];
        if c.is_ascii_whitespace() || matches!(c, b'"' | b'\'' | b'<' | b'>' | b'`' | b'?' | b'#') {
            break;
        }
        if c == b'\\' && b.get(end + 1) != Some(&b'/') {
            break;
        }
        end += 1;
    }
    let at = e + memchr::memrchr(b'@', &b[e..end])?;
    let info = &b[e..at];
    if info.is_empty() {
        return None;
    }
    match memchr::memchr(b':', info) {
        Some(c) => {
            let pass = &info[c + 1..];
            if pass.is_empty() {
                return None;
            }
            // `host:8080/path@x`: a port, then a path with an `@` in it.
            let digits = pass.iter().take_while(|d| d.is_ascii_digit()).count();
            if digits > 0 && matches!(pass.get(digits), Some(b'/') | Some(b'\\')) {
                return None;
            }
            Some((e + c + 1, at))
        }
        None => {
            // Token-only userinfo; a `/` means the `@` is in the path.
            let token_scheme = scheme.eq_ignore_ascii_case(b"https")
                || scheme.eq_ignore_ascii_case(b"http")
                || scheme.eq_ignore_ascii_case(b"git")
                || scheme.eq_ignore_ascii_case(b"git+https")
                || scheme.eq_ignore_ascii_case(b"ssh");
            let shaped = info.len() >= 16 && has_digit_and_letter(info);
            let plain = !info.contains(&b'/') && !info.contains(&b'\\');
            (token_scheme && shaped && plain).then_some((e, at))
        }
    }
}

/// FIX tags 554 (Password) and 925 (NewPassword): the tag after a field
/// delimiter (SOH, `|`, `^`) or at the start; masks the value.
pub(super) fn fix_password(b: &[u8], s: usize, e: usize) -> Option<(usize, usize)> {
    if s > 0 && !matches!(b[s - 1], 0x01 | b'|' | b'^' | b' ') {
        return None;
    }
    let mut end = e;
    while end < b.len() && !matches!(b[end], 0x01 | b'|' | b'^' | b'\n') {
        end += 1;
    }
    (end > e).then_some((e, end))
}
