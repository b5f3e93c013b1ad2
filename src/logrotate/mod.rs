//! logrotate's configuration, read as logrotate reads it ([`parse`]), turned
//! into logwarden drop-ins ([`convert`], with [`script`] for `postrotate`),
//! and checked against logwarden's own sources so that no file has two
//! rotators ([`overlap`]). Pure apart from reading the config files.

pub mod convert;
pub mod overlap;
pub mod parse;
pub mod script;

use std::path::PathBuf;

/// Where logrotate's main config usually is.
pub const DEFAULT_CONF: &str = crate::config::DEFAULT_LOGROTATE;

/// A logrotate configuration: its blocks in reading order, and what could
/// not be read (with file and line).
#[derive(Debug, Default)]
pub struct Conf {
    pub blocks: Vec<Block>,
    pub problems: Vec<Note>,
}

/// One `patterns { … }` block.
#[derive(Debug, Clone)]
pub struct Block {
    pub file: PathBuf,
    pub line: usize,
    pub patterns: Vec<String>,
    /// The globals in force where the block opened, with its own directives.
    pub opts: Opts,
    /// False when a directive in it was unknown or malformed.
    pub faithful: bool,
}

/// A message tied to a place in logrotate's config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub file: PathBuf,
    pub line: usize,
    pub text: String,
}

impl std::fmt::Display for Note {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.file.display(), self.line, self.text)
    }
}

/// How often logrotate rotates a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Freq {
    /// No frequency given: logrotate rotates when the file is over 1 MiB.
    #[default]
    Unset,
    Hourly,
    Daily,
    /// `weekly [w]`: 0 = Sunday … 6 = Saturday, 7 = every seven days.
    Weekly(u8),
    Monthly,
    Yearly,
    /// `size N`: whenever the file is over N bytes, whatever the time.
    Size(u64),
}

/// `create [mode] [owner [group]]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Create {
    pub mode: Option<u32>,
    pub owner: Option<String>,
    pub group: Option<String>,
}

/// The settings of a block, with logrotate's defaults: `rotate 0`,
/// `ifempty`, no compression, no `create`, and a 1 MiB size rule when no
/// frequency is given.
#[derive(Debug, Clone)]
pub struct Opts {
    pub freq: Freq,
    pub maxsize: Option<u64>,
    pub minsize: Option<u64>,
    /// `maxage` in days.
    pub maxage: Option<u64>,
    pub rotate: i64,
    pub compress: bool,
    pub delaycompress: bool,
    pub copytruncate: bool,
    pub create: Option<Create>,
    pub su: Option<(String, String)>,
    pub missingok: bool,
    pub ifempty: bool,
    pub sharedscripts: bool,
    pub compresscmd: Option<String>,
    /// (directive, line, body) of each script.
    pub scripts: Vec<(String, usize, String)>,
    /// Directives logwarden cannot express, each with why.
    pub unsupported: Vec<Note>,
}

impl Default for Opts {
    fn default() -> Opts {
        Opts {
            freq: Freq::Unset,
            maxsize: None,
            minsize: None,
            maxage: None,
            rotate: 0,
            compress: false,
            delaycompress: false,
            copytruncate: false,
            create: None,
            su: None,
            missingok: false,
            ifempty: true,
            sharedscripts: false,
            compresscmd: None,
            scripts: Vec::new(),
            unsupported: Vec::new(),
        }
    }
}

/// Splits a logrotate path pattern into its directory and file-name glob;
/// `None` when the directory part itself has glob characters or there is no
/// file name.
pub fn split_pattern(p: &str) -> Option<(PathBuf, String)> {
    let path = std::path::Path::new(p);
    let name = path.file_name()?.to_str()?.to_string();
    let dir = path.parent()?;
    let glob = |s: &str| s.contains(['*', '?', '[', '{']);
    if glob(dir.to_str()?) || !dir.is_absolute() {
        return None;
    }
    Some((dir.to_path_buf(), name))
}
