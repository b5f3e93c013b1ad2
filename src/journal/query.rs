//! `logwarden journal`: which records match a query (action, resource,
//! status, time range), as rows or as their exact bytes.

use super::*;

/// A record as `logwarden journal` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub ts: String,
    pub action: String,
    pub status: String,
    pub resource: String,
    pub detail: String,
}

/// A record's DETAIL: its error, else the changes it made (config
/// records), else its new value; and who, when not logwarden itself.
fn detail(v: &serde_json::Value) -> String {
    let s = |k: &str| v.get(k).and_then(|x| x.as_str());
    let changes: Vec<&str> = v
        .get("changes")
        .and_then(|c| c.as_array())
        .map(|a| a.iter().filter_map(|x| x.as_str()).collect())
        .unwrap_or_default();
    let what = match (s("error"), changes.is_empty(), s("new")) {
        (Some(e), true, _) => e.to_string(),
        (Some(e), false, _) => format!("{e}; would change: {}", changes.join("; ")),
        (None, false, _) => changes.join("; "),
        (None, true, Some(n)) => n.to_string(),
        _ => String::new(),
    };
    match s("actor") {
        Some(a) if a != "logwarden" && !a.is_empty() => format!("{what} [by {a}]"),
        _ => what,
    }
}

/// The filters of `logwarden journal`.
#[derive(Debug)]
pub struct Query {
    actor: Option<globset::GlobMatcher>,
    action: Option<globset::GlobMatcher>,
    resource: Option<globset::GlobMatcher>,
    status: Option<String>,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
}

/// `T` as an instant: RFC 3339, a date (its midnight, UTC), or an age
/// (`7d`, `12h`) before `now`.
pub fn parse_time(t: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Ok(d.with_timezone(&Utc));
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return Ok(d.and_time(chrono::NaiveTime::MIN).and_utc());
    }
    if let Ok(age) = humantime::parse_duration(t) {
        let age = chrono::Duration::from_std(age).map_err(|e| e.to_string())?;
        return Ok(now - age);
    }
    Err(format!(
        "{t:?} is not a time: use RFC 3339 (2026-11-20T08:00:00Z), a date (2026-11-20) or an age (7d)"
    ))
}

impl Query {
    pub fn new(
        action: Option<&str>,
        resource: Option<&str>,
        status: Option<&str>,
        since: Option<&str>,
        until: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Query, String> {
        let glob = |g: &str| {
            globset::GlobBuilder::new(g)
                .literal_separator(false)
                .build()
                .map(|g| g.compile_matcher())
                .map_err(|e| format!("bad glob {g:?}: {e}"))
        };
        Ok(Query {
            actor: None,
            action: action.map(glob).transpose()?,
            resource: resource.map(glob).transpose()?,
            status: status.map(str::to_string),
            since: since.map(|t| parse_time(t, now)).transpose()?,
            until: until.map(|t| parse_time(t, now)).transpose()?,
        })
    }

    /// Also filter by actor (a glob over the record's `actor`, e.g.
    /// `*SIGHUP*`, `saved*`).
    pub fn actor(mut self, actor: Option<&str>) -> Result<Query, String> {
        self.actor = actor
            .map(|g| {
                globset::GlobBuilder::new(g)
                    .literal_separator(false)
                    .build()
                    .map(|g| g.compile_matcher())
                    .map_err(|e| format!("bad glob {g:?}: {e}"))
            })
            .transpose()?;
        Ok(self)
    }

    /// The row for `line` if the record matches every filter.
    pub fn matches(&self, line: &[u8]) -> Option<Row> {
        let v: serde_json::Value = serde_json::from_slice(line).ok()?;
        let s = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
        let row = Row {
            ts: s("ts"),
            action: s("action"),
            status: s("status"),
            resource: v
                .get("resource")
                .and_then(|r| r.get("path"))
                .and_then(|p| p.as_str())
                .unwrap_or("")
                .to_string(),
            detail: detail(&v),
        };
        let actor = v.get("actor").and_then(|a| a.as_str()).unwrap_or("");
        if self.actor.as_ref().is_some_and(|g| !g.is_match(actor))
            || self
                .action
                .as_ref()
                .is_some_and(|g| !g.is_match(&row.action))
            || self
                .resource
                .as_ref()
                .is_some_and(|g| !g.is_match(&row.resource))
            || self.status.as_ref().is_some_and(|st| *st != row.status)
        {
            return None;
        }
        if self.since.is_some() || self.until.is_some() {
            let ts = DateTime::parse_from_rfc3339(&row.ts)
                .ok()?
                .with_timezone(&Utc);
            if self.since.is_some_and(|t| ts < t) || self.until.is_some_and(|t| ts >= t) {
                return None;
            }
        }
        Some(row)
    }
}
