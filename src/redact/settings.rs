//! The redactor's settings: what `[redact]` resolves to, and the default
//! keys. They live with the redactor (the config module resolves a file into
//! them), so the redactor depends on nothing but its own types.

/// Keys whose values are masked when `[redact] keys` is not given.
pub const DEFAULT_KEYS: &[&str] = &[
    "password",
    "passwd",
    "token",
    "secret",
    "api_key",
    "apikey",
    "access_token",
    "refresh_token",
    "authorization",
    "cookie",
    "private_key",
    "passphrase",
    "credential",
    "sessionid",
    // Four letters or fewer: matched only as a whole segment of a name
    // (`DB_PASS`, `dbPwd`; not `passenger`, `bypass`).
    "pass",
    "pwd",
    "dsn",
];

/// The mask written in place of a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mask {
    Text(String),
    Sha256,
}

/// `[redact]`, resolved (used by the mirror pipeline).
#[derive(Debug, Clone)]
pub struct Redact {
    pub keys: Vec<String>,
    /// Whether the built-in value detectors run (`detectors = "default"`).
    pub detectors: bool,
    /// Detector rule ids turned off.
    pub disable: Vec<String>,
    pub patterns: Vec<regex::bytes::Regex>,
    pub mask: Mask,
    pub max_line_bytes: u64,
}
