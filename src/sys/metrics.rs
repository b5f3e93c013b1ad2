//! What the daemon counts, in Prometheus terms: one process-wide set of
//! counters and gauges that the threads bump as they act, rendered in the
//! Prometheus text exposition format for a node_exporter textfile collector
//! (`[metrics] textfile`, written atomically) and for `GET /metrics` on
//! `[metrics] listen`. `logwarden status` reads the same numbers from the
//! state the daemon publishes (see `status`).
//!
//! Names follow Prometheus conventions: a `logwarden_` prefix, base units
//! (bytes, seconds) in the name, `_total` on counters.

use std::collections::BTreeMap;
use std::sync::{LazyLock, Mutex};
use std::time::Instant;

use chrono::{DateTime, NaiveDate, Utc};
use prometheus::{
    Encoder, Gauge, GaugeVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};
use serde::{Deserialize, Serialize};

/// The last failure of one kind of action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastError {
    pub ts: String,
    pub action: String,
    pub error: String,
}

/// Redactions per key since local midnight, per source.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Today {
    pub date: Option<NaiveDate>,
    pub by_source: BTreeMap<String, BTreeMap<String, u64>>,
}

/// Every metric the daemon exports.
pub struct Metrics {
    registry: Registry,
    pub lines_read: IntCounterVec,
    pub bytes_read: IntCounterVec,
    pub lines_written: IntCounterVec,
    pub bytes_written: IntCounterVec,
    pub redactions: IntCounterVec,
    pub lines_cut: IntCounterVec,
    pub rotations: IntCounterVec,
    pub compressions: IntCounterVec,
    pub compress_seconds: prometheus::CounterVec,
    pub archive_bytes: IntGaugeVec,
    pub retention_deletions: IntCounterVec,
    pub errors: IntCounterVec,
    pub mirror_lag_bytes: IntGaugeVec,
    pub mirror_lag_seconds: GaugeVec,
    pub watched_files: IntGauge,
    checkpoint_age: Gauge,
    last_checkpoint: Mutex<Option<Instant>>,
    last_heartbeat: Mutex<Option<Instant>>,
    today: Mutex<Today>,
    /// By source ("" for errors not tied to one).
    last_error: Mutex<BTreeMap<String, LastError>>,
}

static GLOBAL: LazyLock<Metrics> = LazyLock::new(Metrics::new);

/// The process's metrics.
pub fn global() -> &'static Metrics {
    &GLOBAL
}

fn counter(r: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let c = IntCounterVec::new(Opts::new(name, help), labels).expect("static metric definition");
    r.register(Box::new(c.clone()))
        .expect("metric names are unique");
    c
}

fn gauge(r: &Registry, name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
    let g = IntGaugeVec::new(Opts::new(name, help), labels).expect("static metric definition");
    r.register(Box::new(g.clone()))
        .expect("metric names are unique");
    g
}

impl Metrics {
    fn new() -> Metrics {
        let r = Registry::new();
        let src = &["source"];
        let compress_seconds = prometheus::CounterVec::new(
            Opts::new(
                "logwarden_compress_seconds_total",
                "Wall time spent compressing archives.",
            ),
            src,
        )
        .expect("static metric definition");
        r.register(Box::new(compress_seconds.clone()))
            .expect("metric names are unique");
        let mirror_lag_seconds = GaugeVec::new(
            Opts::new(
                "logwarden_mirror_lag_seconds",
                "How long the oldest byte not yet in the mirror has been waiting (0 when caught up).",
            ),
            &["source", "file"],
        )
        .expect("static metric definition");
        r.register(Box::new(mirror_lag_seconds.clone()))
            .expect("metric names are unique");
        let watched_files = IntGauge::new("logwarden_watched_files", "Live files being watched.")
            .expect("static metric definition");
        r.register(Box::new(watched_files.clone()))
            .expect("metric names are unique");
        let checkpoint_age = Gauge::new(
            "logwarden_checkpoint_age_seconds",
            "Seconds since the journal's last checkpoint record (-1 before the first).",
        )
        .expect("static metric definition");
        r.register(Box::new(checkpoint_age.clone()))
            .expect("metric names are unique");
        Metrics {
            lines_read: counter(
                &r,
                "logwarden_lines_read_total",
                "Lines read from source files.",
                src,
            ),
            bytes_read: counter(
                &r,
                "logwarden_bytes_read_total",
                "Bytes read from source files.",
                src,
            ),
            lines_written: counter(
                &r,
                "logwarden_lines_written_total",
                "Lines appended to mirrors.",
                src,
            ),
            bytes_written: counter(
                &r,
                "logwarden_bytes_written_total",
                "Bytes appended to mirrors.",
                src,
            ),
            redactions: counter(
                &r,
                "logwarden_redactions_total",
                "Values masked, per configured key (pattern:<n> for patterns).",
                &["source", "key"],
            ),
            lines_cut: counter(
                &r,
                "logwarden_lines_cut_total",
                "Lines cut at max_line_bytes.",
                src,
            ),
            rotations: counter(
                &r,
                "logwarden_rotations_total",
                "Files cut, by the strategy used.",
                &["source", "strategy"],
            ),
            compressions: counter(
                &r,
                "logwarden_compressions_total",
                "Archives compressed.",
                src,
            ),
            compress_seconds,
            archive_bytes: gauge(
                &r,
                "logwarden_archive_bytes",
                "Bytes held in archives (as of the last housekeeping pass).",
                src,
            ),
            retention_deletions: counter(
                &r,
                "logwarden_retention_deletions_total",
                "Archives deleted by retention.",
                src,
            ),
            errors: counter(
                &r,
                "logwarden_errors_total",
                "Failed actions, by kind (the journal action that failed).",
                &["kind"],
            ),
            mirror_lag_bytes: gauge(
                &r,
                "logwarden_mirror_lag_bytes",
                "Bytes of a source file not yet in its mirror.",
                &["source", "file"],
            ),
            mirror_lag_seconds,
            watched_files,
            checkpoint_age,
            last_checkpoint: Mutex::new(None),
            last_heartbeat: Mutex::new(None),
            today: Mutex::new(Today::default()),
            last_error: Mutex::new(BTreeMap::new()),
            registry: r,
        }
    }

    /// A failed action (every failed journal record comes here).
    pub fn error(&self, source: Option<&str>, action: &str, error: &str, ts: DateTime<Utc>) {
        self.errors.with_label_values(&[action]).inc();
        let e = LastError {
            ts: ts.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            action: action.to_string(),
            error: error.to_string(),
        };
        lock(&self.last_error).insert(source.unwrap_or("").to_string(), e);
    }

    /// Forget `source`'s last error if it came from `action` (a later
    /// success of the same kind supersedes it).
    pub fn clear_error(&self, source: &str, action: &str) {
        let mut g = lock(&self.last_error);
        if g.get(source).is_some_and(|e| e.action == action) {
            g.remove(source);
        }
    }

    /// The last error per source ("" for daemon-wide ones).
    pub fn last_errors(&self) -> BTreeMap<String, LastError> {
        lock(&self.last_error).clone()
    }

    /// A checkpoint record was written.
    pub fn checkpointed(&self) {
        *lock(&self.last_checkpoint) = Some(Instant::now());
    }

    /// Seconds since the last checkpoint record, if there was one.
    pub fn checkpoint_age(&self) -> Option<f64> {
        lock(&self.last_checkpoint).map(|t| t.elapsed().as_secs_f64())
    }

    /// The cutter thread went round its loop (it does at least every 30 s).
    pub fn heartbeat(&self) {
        *lock(&self.last_heartbeat) = Some(Instant::now());
    }

    /// Why the daemon is unhealthy, if it is: a cutter thread that stopped
    /// going round its loop, or checkpoints that stopped coming.
    pub fn unhealthy(&self) -> Option<String> {
        let stale = |t: Option<Instant>, max: u64| t.is_some_and(|t| t.elapsed().as_secs() > max);
        if stale(*lock(&self.last_heartbeat), 90) {
            return Some("the cutter thread has not gone round its loop for over 90 s".into());
        }
        if stale(*lock(&self.last_checkpoint), 180) {
            return Some("no checkpoint record for over 180 s".into());
        }
        None
    }

    /// Lines of `source` redacted into its mirror, counted per key; the
    /// day's tally restarts at local midnight of `today`.
    pub fn redacted(&self, source: &str, today: NaiveDate, by_key: &BTreeMap<String, u64>) {
        if by_key.is_empty() {
            return;
        }
        let mut t = lock(&self.today);
        if t.date != Some(today) {
            *t = Today {
                date: Some(today),
                by_source: BTreeMap::new(),
            };
        }
        let day = t.by_source.entry(source.to_string()).or_default();
        for (k, n) in by_key {
            self.redactions.with_label_values(&[source, k]).inc_by(*n);
            *day.entry(k.clone()).or_default() += n;
        }
    }

    /// Redactions since local midnight.
    pub fn today(&self) -> Today {
        lock(&self.today).clone()
    }

    /// The text exposition of every metric.
    pub fn render(&self) -> String {
        self.checkpoint_age
            .set(self.checkpoint_age().unwrap_or(-1.0));
        let mut out = Vec::new();
        // Encoding our own registry into a Vec cannot fail.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8_lossy(&out).into_owned()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Serve `GET /metrics` (the exposition) and `GET /healthz` (200 `ok`, or
/// 503 and why) on `listener` until the runtime stops.
pub async fn serve(listener: tokio::net::TcpListener) {
    use http_body_util::Full;
    use hyper::body::Bytes;
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            continue;
        };
        let io = hyper_util::rt::TokioIo::new(stream);
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(
                |req: hyper::Request<hyper::body::Incoming>| async move {
                    let m = global();
                    let (code, ctype, body) = match (req.method(), req.uri().path()) {
                        (&hyper::Method::GET, "/metrics") => {
                            (200, "text/plain; version=0.0.4; charset=utf-8", m.render())
                        }
                        (&hyper::Method::GET, "/healthz") => match m.unhealthy() {
                            None => (200, "text/plain", "ok\n".to_string()),
                            Some(why) => (503, "text/plain", format!("{why}\n")),
                        },
                        _ => (
                            404,
                            "text/plain",
                            "not found; GET /metrics or /healthz\n".to_string(),
                        ),
                    };
                    hyper::Response::builder()
                        .status(code)
                        .header("content-type", ctype)
                        .body(Full::new(Bytes::from(body)))
                },
            );
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(io, svc)
                .await;
        });
    }
}

/// Write the exposition to `path` atomically (temp file in the same
/// directory, fsync, rename), as the textfile collector requires: it must
/// never read half a file.
pub fn write_textfile(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("logwarden.prom");
    // The collector only reads *.prom: a dot-file temp is never picked up.
    let tmp = dir.join(format!(".{name}.tmp"));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_names_follow_prometheus_conventions() {
        let m = Metrics::new();
        m.lines_read.with_label_values(&["orders"]).inc_by(3);
        m.rotations
            .with_label_values(&["orders", "copytruncate"])
            .inc();
        let day = NaiveDate::from_ymd_opt(2026, 11, 21).unwrap();
        m.redacted(
            "orders",
            day,
            &BTreeMap::from([("password".to_string(), 2)]),
        );
        m.redacted(
            "orders",
            day,
            &BTreeMap::from([("password".to_string(), 1)]),
        );
        let text = m.render();
        assert!(
            text.contains("# TYPE logwarden_lines_read_total counter"),
            "{text}"
        );
        assert!(
            text.contains("logwarden_lines_read_total{source=\"orders\"} 3"),
            "{text}"
        );
        assert!(text
            .contains("logwarden_rotations_total{source=\"orders\",strategy=\"copytruncate\"} 1"));
        assert!(text.contains("logwarden_redactions_total{key=\"password\",source=\"orders\"} 3"));
        assert!(
            text.contains("logwarden_checkpoint_age_seconds -1"),
            "{text}"
        );
        assert_eq!(m.today().by_source["orders"]["password"], 3);
        // A new day starts a new tally (the counter keeps counting).
        m.redacted(
            "orders",
            day.succ_opt().unwrap(),
            &BTreeMap::from([("password".to_string(), 1)]),
        );
        assert_eq!(m.today().by_source["orders"]["password"], 1);
    }
}
