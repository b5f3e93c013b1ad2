//! The first stage of the config: the TOML as written, parsed and shape-checked
//! but not interpreted. Every scalar keeps its byte span so that the second
//! stage (`resolve`) can point at the exact line and column of a bad value.
//! Unknown keys are rejected here (`deny_unknown_fields`), with their position.
//!
//! This stage never touches the file system beyond what the caller read.

use serde::Deserialize;
use toml::Spanned;

pub type S<T> = Option<Spanned<T>>;

/// Declares a struct that carries the rotation-policy keys (the keys of
/// `[defaults]`, which every `[[source]]` may override) plus its own keys.
/// serde's `flatten` cannot be combined with `deny_unknown_fields`, so the
/// shared keys are spelled once here instead.
macro_rules! with_policy {
    ($(#[$meta:meta])* pub struct $name:ident { $($field:ident : $ty:ty,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Default, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            pub schedule: S<String>,
            pub at: S<String>,
            pub weekday: S<RawWeekday>,
            pub timezone: S<String>,
            pub max_size: S<String>,
            pub min_size: S<String>,
            pub strategy: S<String>,
            pub compress: S<String>,
            pub delay_compress: S<bool>,
            pub max_age: S<String>,
            pub max_archives: S<i64>,
            pub max_total_size: S<String>,
            pub create: S<bool>,
            pub create_mode: S<String>,
            pub create_owner: S<String>,
            pub create_group: S<String>,
            pub writer_grace: S<String>,
            pub ship_grace: S<String>,
            pub mode: S<String>,
            pub su: Option<Spanned<RawSu>>,
            $(pub $field: $ty,)*
        }

        impl $name {
            /// The policy keys of this table, to be layered over the defaults.
            pub fn policy(&self) -> RawPolicy {
                RawPolicy {
                    schedule: self.schedule.clone(),
                    at: self.at.clone(),
                    weekday: self.weekday.clone(),
                    timezone: self.timezone.clone(),
                    max_size: self.max_size.clone(),
                    min_size: self.min_size.clone(),
                    strategy: self.strategy.clone(),
                    compress: self.compress.clone(),
                    delay_compress: self.delay_compress.clone(),
                    max_age: self.max_age.clone(),
                    max_archives: self.max_archives.clone(),
                    max_total_size: self.max_total_size.clone(),
                    create: self.create.clone(),
                    create_mode: self.create_mode.clone(),
                    create_owner: self.create_owner.clone(),
                    create_group: self.create_group.clone(),
                    writer_grace: self.writer_grace.clone(),
                    ship_grace: self.ship_grace.clone(),
                    mode: self.mode.clone(),
                    su: self.su.clone(),
                }
            }
        }
    };
}

with_policy! {
    /// `[defaults]`: the policy every source inherits.
    pub struct RawPolicy {}
}

with_policy! {
    /// One `[[source]]`: a directory, the files in it, and overrides.
    pub struct RawSource {
        name: S<String>,
        dir: S<String>,
        include: Option<Spanned<Vec<Spanned<String>>>>,
        exclude: Option<Vec<Spanned<String>>>,
        output_dir: S<String>,
        raw_max_age: S<String>,
        partial_timeout: S<String>,
        output_owner: Option<Spanned<RawSu>>,
        reopen: Option<Spanned<RawReopen>>,
    }
}

impl RawPolicy {
    /// `self` with every key that `over` sets replaced by `over`'s value.
    pub fn overlay(&self, over: RawPolicy) -> RawPolicy {
        macro_rules! pick {
            ($($f:ident),*) => { RawPolicy { $($f: over.$f.or_else(|| self.$f.clone()),)* } };
        }
        pick!(
            schedule,
            at,
            weekday,
            timezone,
            max_size,
            min_size,
            strategy,
            compress,
            delay_compress,
            max_age,
            max_archives,
            max_total_size,
            create,
            create_mode,
            create_owner,
            create_group,
            writer_grace,
            ship_grace,
            mode,
            su
        )
    }
}

/// `weekday = "sun"` or `weekday = 0` (logrotate's count, 0 = Sunday).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RawWeekday {
    Number(i64),
    Name(String),
}

/// The main config file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMain {
    pub state_dir: S<String>,
    pub include: Option<Vec<Spanned<String>>>,
    pub log_level: S<String>,
    pub rescan_interval: S<String>,
    pub logrotate_config: S<String>,
    pub host: S<String>,
    pub journal_max_size: S<String>,
    pub journal_max_age: S<String>,
    pub forward_secure: Option<Spanned<bool>>,
    pub defaults: Option<RawPolicy>,
    pub redact: Option<RawRedact>,
    pub metrics: Option<RawMetrics>,
    #[serde(default)]
    pub source: Vec<RawSource>,
}

/// A drop-in file pulled in by `include`: it may only add sources.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDropIn {
    #[serde(default)]
    pub source: Vec<RawSource>,
}

/// `[metrics]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMetrics {
    pub textfile: S<String>,
    pub listen: S<String>,
}

/// `[redact]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRedact {
    pub keys: Option<Vec<Spanned<String>>>,
    pub detectors: S<String>,
    pub disable: Option<Vec<Spanned<String>>>,
    pub patterns: Option<Vec<Spanned<String>>>,
    pub mask: S<String>,
    pub max_line_bytes: S<String>,
}

/// `reopen = { signal = "HUP", pidfile = "/run/app.pid" }` or
/// `reopen = { command = ["systemctl", "kill", "-s", "HUP", "app"] }`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReopen {
    pub signal: Option<String>,
    pub pidfile: Option<String>,
    pub command: Option<Vec<String>>,
}

/// `su = { user = "app", group = "app" }`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSu {
    pub user: String,
    pub group: String,
}
