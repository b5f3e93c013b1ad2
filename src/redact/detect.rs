//! Value detectors: secrets recognised by what they look like, whatever key
//! they sit under, or none.
//!
//! Every rule is anchored on a distinctive literal (a provider's token
//! prefix, `://` for URL credentials, `-----BEGIN` for PEM keys, a context
//! word such as `twilio` for formats without one). One pass of the literal
//! finder (ASCII case-insensitive) over the line finds every anchor; a rule whose
//! format is case-sensitive then compares the anchor's exact bytes, and a
//! bounded, linear check (charset, length, boundaries, structure) decides
//! and returns the span to mask. No regex and no backtracking: each check
//! reads at most a few hundred bytes around its anchor (a PEM body: up to
//! [`MAX_PEM`]), so a line costs linear time however it is built.
//!
//! The formats follow the providers' published token formats (and what the
//! public secret-scanner rule sets, gitleaks and trufflehog, key on);
//! precision comes from the prefix, a minimum length, a charset, a boundary
//! on both sides, and for context rules a digit-and-letter mix. This module
//! is pure: no I/O, no state (the multi-line PEM state is the caller's
//! [`super::Carry`]).

use super::literals::Literals;
pub use custom::pem_header_end;
use custom::{
    fix_password, is_uuid, jwt, jwt_base64, pem, sendgrid, telegram, telegram_url, url_credentials,
};

mod custom;

/// Longest PEM body searched for its `-----END` in one line.
pub const MAX_PEM: usize = 64 << 10;

/// How far after a context word a value is looked for.
const WINDOW: usize = 64;

/// A byte class for token bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Set {
    /// `A-Za-z0-9`
    Alnum,
    /// `A-Za-z0-9_`
    Word,
    /// `A-Za-z0-9_-` (base64url)
    B64Url,
    /// `A-Za-z0-9+/=` (base64)
    B64,
    /// `A-Za-z0-9_-=` (base64url with padding)
    B64UrlPad,
    /// `A-Za-z0-9+/` (base64 without padding)
    B64NoPad,
    /// `0-9a-fA-F`
    Hex,
    /// `0-9a-fA-F-` (UUID-like)
    HexDash,
    /// `A-Z0-9`
    Upper,
    /// `A-Za-z0-9_.-`
    Dotted,
}

fn in_set(set: Set, c: u8) -> bool {
    match set {
        Set::Alnum => c.is_ascii_alphanumeric(),
        Set::Word => c.is_ascii_alphanumeric() || c == b'_',
        Set::B64Url => c.is_ascii_alphanumeric() || c == b'_' || c == b'-',
        Set::B64 => c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'='),
        Set::B64UrlPad => c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'='),
        Set::B64NoPad => c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/'),
        Set::Hex => c.is_ascii_hexdigit(),
        Set::HexDash => c.is_ascii_hexdigit() || c == b'-',
        Set::Upper => c.is_ascii_uppercase() || c.is_ascii_digit(),
        Set::Dotted => c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'),
    }
}

/// A rule's own check: the line and the anchor's `[s, e)`; the span to mask.
type CheckFn = fn(&[u8], usize, usize) -> Option<(usize, usize)>;

/// How a rule decides, given the anchor found at `[s, e)`.
#[derive(Debug, Clone, Copy)]
enum Check {
    /// The anchor is the token's prefix: a run of `set` follows it, and the
    /// whole token (anchor included) is `min..=max` bytes, not preceded by
    /// an alphanumeric byte nor followed by one. Masks the whole token.
    Token {
        set: Set,
        min: usize,
        max: usize,
        /// The body must hold a digit and a letter.
        mixed: bool,
    },
    /// `name=` (the anchor) as a parameter: preceded by one of `after` (any
    /// byte when empty); masks the value up to the parameter's end.
    Param { after: &'static [u8] },
    /// A context word: masks the first whole run of `set` of `min..=max`
    /// bytes holding a digit and a letter within [`WINDOW`] bytes after it.
    Near { set: Set, min: usize, max: usize },
    /// A URL prefix: masks the rest of the path (a webhook's secret part).
    Path,
    /// A check of its own.
    Custom(CheckFn),
}

/// One detector.
#[derive(Debug)]
pub struct Rule {
    /// The id counted, shown by `--explain` and turned off by `disable`.
    pub id: &'static str,
    anchors: &'static [&'static str],
    /// Whether the anchors are matched with their exact case.
    cs: bool,
    check: Check,
}

/// A prefix token (see [`Check::Token`]); the body may be letters only.
const fn token(
    id: &'static str,
    anchors: &'static [&'static str],
    set: Set,
    min: usize,
    max: usize,
) -> Rule {
    let mixed = false;
    let check = Check::Token {
        set,
        min,
        max,
        mixed,
    };
    Rule {
        id,
        anchors,
        cs: true,
        check,
    }
}

/// A prefix token whose body must hold a digit and a letter (a prefix short
/// or common enough that a word could follow it).
const fn mixed(
    id: &'static str,
    anchors: &'static [&'static str],
    set: Set,
    min: usize,
    max: usize,
) -> Rule {
    let mut r = token(id, anchors, set, min, max);
    r.check = Check::Token {
        set,
        min,
        max,
        mixed: true,
    };
    r
}

const fn param(id: &'static str, anchors: &'static [&'static str], after: &'static [u8]) -> Rule {
    Rule {
        id,
        anchors,
        cs: false,
        check: Check::Param { after },
    }
}

const fn near(
    id: &'static str,
    anchors: &'static [&'static str],
    set: Set,
    min: usize,
    max: usize,
) -> Rule {
    Rule {
        id,
        anchors,
        cs: false,
        check: Check::Near { set, min, max },
    }
}

const fn path(id: &'static str, anchors: &'static [&'static str]) -> Rule {
    Rule {
        id,
        anchors,
        cs: false,
        check: Check::Path,
    }
}

const fn custom(id: &'static str, anchors: &'static [&'static str], cs: bool, f: CheckFn) -> Rule {
    Rule {
        id,
        anchors,
        cs,
        check: Check::Custom(f),
    }
}

const QUERY: &[u8] = b"?&;";

/// The id of the PEM rule (also counted for the lines of a multi-line block).
pub const PEM_ID: &str = "private-key";

/// The built-in pack (`[redact] detectors = "default"`).
pub static RULES: &[Rule] = &[
    // Cloud.
    token(
        "aws-access-key-id",
        &[
            "AKIA", "ASIA", "ABIA", "ACCA", "AGPA", "AIDA", "AROA", "AIPA", "ANPA", "ANVA", "APKA",
            "A3T",
        ],
        Set::Upper,
        20,
        20,
    ),
    near(
        "aws-secret-access-key",
        &[
            "aws_secret",
            "aws-secret",
            "awssecret",
            "aws secret",
            "secretaccesskey",
            "secret_access_key",
        ],
        Set::B64NoPad,
        40,
        40,
    ),
    near(
        "aws-session-token",
        &[
            "aws_session_token",
            "sessiontoken",
            "session_token",
            "security-token",
            "security_token",
        ],
        Set::B64,
        100,
        4096,
    ),
    token(
        "aws-session-token",
        &["FwoGZXIvYXdz", "IQoJb3JpZ2luX2Vj"],
        Set::B64,
        100,
        4096,
    ),
    param(
        "aws-presigned-url",
        &[
            "x-amz-credential=",
            "x-amz-signature=",
            "x-amz-security-token=",
        ],
        b"",
    ),
    token("gcp-api-key", &["AIza"], Set::B64Url, 39, 39),
    token(
        "google-oauth-client-secret",
        &["GOCSPX-"],
        Set::B64Url,
        35,
        40,
    ),
    token(
        "google-oauth-access-token",
        &["ya29."],
        Set::B64Url,
        30,
        2048,
    ),
    param(
        "azure-connection-string",
        &["accountkey=", "sharedaccesskey=", "sharedaccesssignature="],
        b"",
    ),
    param("azure-sas-signature", &["sig="], QUERY),
    // Code hosts, registries and CI.
    token(
        "github-token",
        &["ghp_", "gho_", "ghu_", "ghs_", "ghr_"],
        Set::Alnum,
        40,
        255,
    ),
    token(
        "github-fine-grained-token",
        &["github_pat_"],
        Set::Word,
        40,
        255,
    ),
    token(
        "gitlab-token",
        &[
            "glpat-",
            "gldt-",
            "glrt-",
            "glptt-",
            "glft-",
            "glimt-",
            "glagent-",
            "glcbt-",
            "gloas-",
            "glsoat-",
            "glffct-",
            "glwt-",
            "GR1348941",
        ],
        Set::Dotted,
        25,
        300,
    ),
    token("npm-token", &["npm_"], Set::Alnum, 40, 40),
    token(
        "pypi-token",
        &["pypi-AgEIcHlwaS5vcmc", "pypi-AgENdGVzdC5weXBp"],
        Set::B64Url,
        70,
        500,
    ),
    token(
        "docker-hub-token",
        &["dckr_pat_", "dckr_oat_"],
        Set::B64Url,
        30,
        200,
    ),
    token("huggingface-token", &["hf_"], Set::Alnum, 37, 37),
    token("huggingface-token", &["api_org_"], Set::Alnum, 42, 42),
    token("heroku-api-key", &["HRKU-"], Set::B64Url, 30, 200),
    near("heroku-api-key", &["heroku"], Set::HexDash, 36, 36),
    token(
        "vault-token",
        &["hvs.", "hvb.", "hvr."],
        Set::B64Url,
        28,
        500,
    ),
    token("atlassian-api-token", &["ATATT3"], Set::B64UrlPad, 100, 500),
    token(
        "digitalocean-token",
        &["dop_v1_", "doo_v1_", "dor_v1_"],
        Set::Hex,
        71,
        71,
    ),
    token("postman-api-key", &["PMAK-"], Set::HexDash, 64, 64),
    token("grafana-token", &["glc_", "glsa_"], Set::B64, 36, 300),
    token("databricks-token", &["dapi"], Set::Hex, 36, 36),
    token("linear-api-key", &["lin_api_"], Set::Alnum, 48, 48),
    token(
        "shopify-token",
        &["shpat_", "shpss_", "shpca_", "shppa_"],
        Set::Hex,
        38,
        38,
    ),
    token("age-secret-key", &["AGE-SECRET-KEY-1"], Set::Upper, 74, 74),
    // Messaging, payments, SaaS and observability.
    mixed(
        "slack-token",
        &[
            "xoxb-",
            "xoxp-",
            "xoxa-",
            "xoxr-",
            "xoxs-",
            "xoxe-",
            "xoxe.xoxp-",
            "xapp-",
        ],
        Set::B64Url,
        15,
        300,
    ),
    path(
        "slack-webhook",
        &[
            "hooks.slack.com/services/",
            "hooks.slack.com/workflows/",
            "hooks.slack.com/triggers/",
            "hooks.slack.com\\/services\\/",
        ],
    ),
    custom("telegram-bot-token", &[":AA"], true, telegram),
    custom(
        "telegram-bot-token",
        &["api.telegram.org/bot"],
        false,
        telegram_url,
    ),
    path(
        "discord-webhook",
        &[
            "discord.com/api/webhooks/",
            "discordapp.com/api/webhooks/",
            "discord.com\\/api\\/webhooks\\/",
        ],
    ),
    near("discord-bot-token", &["discord"], Set::Dotted, 50, 100),
    near("twilio-auth-token", &["twilio"], Set::Hex, 32, 32),
    custom("sendgrid-api-key", &["SG."], true, sendgrid),
    token("mailgun-api-key", &["key-"], Set::Hex, 36, 36),
    near("mailgun-api-key", &["mailgun"], Set::HexDash, 32, 50),
    token(
        "stripe-secret-key",
        &["sk_live_", "sk_test_", "rk_live_", "rk_test_", "whsec_"],
        Set::Alnum,
        24,
        255,
    ),
    mixed("openai-anthropic-key", &["sk-"], Set::B64Url, 32, 300),
    token(
        "square-token",
        &["sq0csp-", "sq0atp-", "EAAAE"],
        Set::B64Url,
        30,
        100,
    ),
    near(
        "datadog-api-key",
        &[
            "datadog",
            "dd_api_key",
            "dd-api-key",
            "dd_app_key",
            "dd-application-key",
            "dd_application_key",
        ],
        Set::Hex,
        32,
        40,
    ),
    token("newrelic-key", &["NRAK-"], Set::Upper, 32, 32),
    token("newrelic-key", &["NRII-", "NRAA-"], Set::B64Url, 25, 100),
    token("newrelic-key", &["NRJS-"], Set::Hex, 24, 24),
    token("sentry-token", &["sntrys_"], Set::B64, 50, 500),
    token("sentry-token", &["sntryu_"], Set::Hex, 71, 71),
    near("pagerduty-key", &["pagerduty"], Set::B64NoPad, 20, 32),
    token(
        "plaid-access-token",
        &[
            "access-production-",
            "access-sandbox-",
            "access-development-",
        ],
        Set::HexDash,
        51,
        56,
    ),
    // Tokens of any issuer.
    custom("jwt", &["eyJ"], true, jwt),
    custom("jwt", &["ZXlK"], true, jwt_base64),
    custom(PEM_ID, &["-----BEGIN"], true, pem),
    custom(
        "url-credentials",
        &["://", ":\\/\\/"],
        true,
        url_credentials,
    ),
    // Trading.
    custom("fix-password", &["554=", "925="], true, fix_password),
    param("url-signature", &["signature="], QUERY),
];

/// Whether `c` may sit right before a token (nothing that would make the
/// token's prefix the tail of a longer word).
fn left_ok(b: &[u8], s: usize) -> bool {
    s == 0 || !b[s - 1].is_ascii_alphanumeric()
}

/// The end of the run of `set` starting at `i`, reading at most `max` bytes.
fn run(b: &[u8], i: usize, set: Set, max: usize) -> usize {
    let lim = b.len().min(i.saturating_add(max));
    let mut j = i;
    while j < lim && in_set(set, b[j]) {
        j += 1;
    }
    j
}

fn has_digit_and_letter(t: &[u8]) -> bool {
    t.iter().any(u8::is_ascii_digit) && t.iter().any(u8::is_ascii_alphabetic)
}

/// Where a parameter value, path or unquoted value ends.
fn value_end(b: &[u8], i: usize, extra: &[u8]) -> usize {
    let mut j = i;
    while j < b.len() {
        let c = b[j];
        if c.is_ascii_whitespace()
            || matches!(c, b'"' | b'\'' | b'<' | b'>' | b'`')
            || extra.contains(&c)
        {
            break;
        }
        // A JSON escape other than `\/` ends it too (`\"`, `\n`, `\u…`).
        if c == b'\\' && b.get(j + 1) != Some(&b'/') {
            break;
        }
        j += 1;
    }
    j
}

impl Check {
    fn apply(&self, b: &[u8], s: usize, e: usize) -> Option<(usize, usize)> {
        match *self {
            Check::Token {
                set,
                min,
                max,
                mixed,
            } => {
                if !left_ok(b, s) {
                    return None;
                }
                let end = run(b, e, set, max + 1 - (e - s).min(max));
                let len = end - s;
                let right_ok = end == b.len() || !b[end].is_ascii_alphanumeric();
                let body = &b[e..end];
                (len >= min && len <= max && right_ok && (!mixed || has_digit_and_letter(body)))
                    .then_some((s, end))
            }
            Check::Param { after } => {
                if !after.is_empty() && (s == 0 || !after.contains(&b[s - 1])) {
                    return None;
                }
                let end = value_end(b, e, b"&;#,)");
                (end > e).then_some((e, end))
            }
            Check::Near { set, min, max } => {
                let lim = b.len().min(e + WINDOW);
                let mut i = e;
                while i < lim {
                    if !in_set(set, b[i]) {
                        i += 1;
                        continue;
                    }
                    let end = run(b, i, set, max + 1);
                    let mut start = i;
                    // A `key=` before the value is not part of it.
                    while start < end && b[start] == b'=' {
                        start += 1;
                    }
                    let t = &b[start..end];
                    let whole = end == b.len() || !b[end].is_ascii_alphanumeric();
                    let shaped = set != Set::HexDash || t.len() != 36 || is_uuid(t);
                    if t.len() >= min
                        && t.len() <= max
                        && whole
                        && has_digit_and_letter(t)
                        && shaped
                    {
                        return Some((start, end));
                    }
                    i = end.max(i + 1);
                }
                None
            }
            Check::Path => {
                let end = value_end(b, e, b"?#");
                (end > e).then_some((e, end))
            }
            Check::Custom(f) => f(b, s, e),
        }
    }
}

/// The compiled pack: the enabled rules and one literal finder over their
/// anchors.
#[derive(Debug)]
pub struct Detectors {
    anchors: Literals,
    /// Per literal: (rule index into `RULES`, anchor bytes).
    pats: Vec<(usize, &'static [u8])>,
}

/// A span to mask and the rule that found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    pub start: usize,
    pub end: usize,
    pub rule: usize,
}

/// Every rule id, once, in pack order.
pub fn ids() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = Vec::new();
    for r in RULES {
        if !v.contains(&r.id) {
            v.push(r.id);
        }
    }
    v
}

impl Detectors {
    /// The pack without the rules in `disable` (`enabled = false`: none).
    pub fn new(enabled: bool, disable: &[String]) -> Detectors {
        let mut pats = Vec::new();
        if enabled {
            for (i, r) in RULES.iter().enumerate() {
                if disable.iter().any(|d| d == r.id) {
                    continue;
                }
                for a in r.anchors {
                    pats.push((i, a.as_bytes()));
                }
            }
        }
        let anchors = Literals::new(&pats.iter().map(|(_, a)| a).collect::<Vec<_>>());
        Detectors { anchors, pats }
    }

    /// Every enabled anchor, with its index for [`Detectors::check`] (the
    /// redactor folds them into its one first pass over a line).
    pub fn anchors(&self) -> impl Iterator<Item = &[u8]> {
        self.pats.iter().map(|(_, a)| *a)
    }

    /// The hit, if any, of the rule whose anchor `i` ([`Detectors::anchors`]
    /// order) was found at `[s, e)` in `b`.
    pub fn check(&self, i: usize, b: &[u8], s: usize, e: usize) -> Option<Hit> {
        let (rule, anchor) = self.pats[i];
        let r = &RULES[rule];
        if r.cs && &b[s..e] != anchor {
            return None;
        }
        let (start, end) = r.check.apply(b, s, e)?;
        (end > start).then_some(Hit { start, end, rule })
    }

    /// Whether `b` holds any anchor (the fast path's question).
    pub fn any_anchor(&self, b: &[u8]) -> bool {
        let mut found = Vec::new();
        self.anchors.find_all(b, &mut found);
        !found.is_empty()
    }

    /// Every span a rule masks in `b`, in order of start, overlapping ones
    /// kept (the caller merges them).
    pub fn scan(&self, b: &[u8], hits: &mut Vec<Hit>) {
        let mut found = Vec::new();
        self.anchors.find_all(b, &mut found);
        // An anchor starting inside the span of the hit that reaches
        // furthest adds nothing (and a line of repeated anchors stays linear).
        let mut covered = (0, 0);
        for m in found {
            if (covered.0 + 1..covered.1).contains(&m.start) {
                continue;
            }
            if let Some(h) = self.check(m.id, b, m.start, m.end) {
                if h.end > covered.1 {
                    covered = (h.start, h.end);
                }
                hits.push(h);
            }
        }
        hits.sort_unstable_by_key(|h| (h.start, h.end));
    }
}

#[cfg(test)]
mod tests;
