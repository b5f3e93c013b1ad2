//! `logwarden run`: the daemon's lifecycle and its one event loop.
//!
//! Three threads:
//! * the event loop (tokio, current thread): signals, inotify events, config
//!   reloads, the rescan timer and the systemd watchdog; it decides nothing
//!   about files, it only wakes the workers;
//! * the cutter: runs [`Cutter::pass`] when woken and at the next scheduled
//!   cut (re-reading the wall clock at least every 30 s, so a suspend or a
//!   clock step never skips a cut);
//! * the housekeeper, at low CPU and I/O priority: compression and retention.
//!
//! Start-up takes the state lock (a second instance fails fast), runs a pass
//! at once (a cut missed while the daemon was down is done now) and only then
//! reports READY=1.

mod audit;
mod sd;
mod signals;
mod timing;
mod watch;

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::Context;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::config::Config;
use crate::journal::{self, Journal, Record, SharedJournal};
use crate::runtime::engine::{self, Cutter, Force, Round, WriterWait};
use crate::state::{self, StateLock};
use crate::sys::clock::{Clock, TrustedTime};
pub use signals::Signal;
use timing::{Timing, Told};
use watch::{FsEvent, Watch};

/// The file `logwarden rotate --source NAME` leaves for the daemon before
/// sending SIGUSR1 (a signal cannot carry the name).
pub const ROTATE_REQUEST: &str = "rotate-request";

/// How often a `checkpoint` record is written when nothing else writes one.
const CHECKPOINT_INTERVAL: Duration = Duration::from_secs(60);
/// How often the housekeeper runs when nothing wakes it.
const HOUSE_INTERVAL: Duration = Duration::from_secs(300);
/// How often it re-checks rotated files still held by a writer.
const HOUSE_RETRY: Duration = Duration::from_secs(2);
/// How many pump rounds the cutter runs before it looks at cuts, jobs and
/// signals again (a writer faster than the pipeline cannot starve them).
const PUMP_ROUNDS: usize = 64;

enum Job {
    Pass(Force),
    /// `logwarden rotate` asked (SIGUSR1): a forced pass, then a
    /// `rotate.request` record naming the request so the caller knows.
    Requested(Force, Option<String>),
    /// A source file grew: pump the mirror pipeline (no directory scan).
    Data,
    Reload(Arc<Config>),
    /// The state dir was removed and re-created: save everything again.
    StateLost,
    Stop,
}

/// Run the daemon until SIGTERM/SIGINT.
pub fn run(cfg: Config, clock: Clock) -> anyhow::Result<()> {
    raise_open_files_limit();
    state::ensure_dir(&cfg.state_dir)
        .with_context(|| format!("cannot create state_dir {}", cfg.state_dir.display()))?;
    let lock = StateLock::acquire(&cfg.state_dir)?;
    let mut j = Journal::open(&cfg.state_dir)
        .with_context(|| format!("cannot open the journal in {}", cfg.state_dir.display()))?;
    j.set_max_size(cfg.journal_max_size);
    j.set_host(&cfg.host);
    j.set_forward_secure(cfg.forward_secure);
    let journal: SharedJournal = Arc::new(Mutex::new(j));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(event_loop(Arc::new(cfg), clock, journal, lock))
}

/// Every watched file is an open descriptor (mirrors are capped, inputs are
/// not): use all the open-files limit allows, as the soft limit is often far
/// below the hard one.
fn raise_open_files_limit() {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let mut l = getrlimit(Resource::Nofile);
    if l.current < l.maximum {
        l.current = l.maximum;
        if let Err(e) = setrlimit(Resource::Nofile, l) {
            tracing::warn!("cannot raise the open-files limit: {e}");
        }
    }
}

/// The cutter thread also runs the mirror pipeline: tailing and cutting
/// happen on one thread, so a file is always drained before it is cut and
/// never read while it is being cut.
fn spawn_cutter(
    cfg: Arc<Config>,
    clock: Clock,
    journal: SharedJournal,
    house: std_mpsc::Sender<Job>,
    data_flag: Arc<AtomicBool>,
    names_flag: Arc<AtomicBool>,
) -> (std_mpsc::Sender<Job>, JoinHandle<()>) {
    let (tx, rx) = std_mpsc::channel::<Job>();
    let handle = std::thread::Builder::new()
        .name("cutter".into())
        .spawn(move || {
            let journal_c = Arc::clone(&journal);
            let mut cutter = Cutter::new(cfg, journal, false, clock.now());
            let mut force = Force::None;
            let mut requests: Vec<String> = Vec::new();
            let mut timing = Timing::new(std::time::Instant::now());
            let started = chrono::Utc::now();
            loop {
                let now = clock.now();
                cutter.recover_failed_sync(now);
                if names_flag.swap(false, std::sync::atomic::Ordering::SeqCst) {
                    timing.names();
                }
                let pass = timing.pass(std::time::Instant::now());
                // Drain what is there before any cut decision (bounded, so
                // a writer faster than us cannot starve signals and cuts).
                let done = cutter.round(
                    || clock.now(),
                    Round {
                        discover: timing.discover(std::time::Instant::now()),
                        pump: Some(PUMP_ROUNDS),
                        pass: pass.then_some(&force),
                        finish_now: false,
                    },
                );
                timing.pumped(done.lines);
                if let Some(report) = done.report {
                    if report.cuts > 0 {
                        journal::checkpoint_shared(&journal_c, clock.now(), "rotate");
                        let _ = house.send(Job::Pass(Force::None));
                    }
                    let until = report
                        .next_due
                        .map(|d| (d - clock.now()).to_std().unwrap_or_default());
                    timing.passed(std::time::Instant::now(), until, report.cuts > 0);
                    force = Force::None;
                    for id in requests.drain(..) {
                        let r = journal::Record::ok(clock.now(), "rotate.request")
                            .new_value(id)
                            .strategy("forced", &format!("{} cut(s)", report.cuts));
                        journal::append(&journal_c, r);
                    }
                }
                let mut pipeline_wake = None;
                if let Some(p) = cutter.pipeline.as_mut() {
                    if let Err(e) = p.maybe_sync(false) {
                        tracing::error!("cannot save the tail checkpoint: {e}");
                    }
                    pipeline_wake = p.next_wake();
                }
                if timing.publish(std::time::Instant::now()) {
                    publish(&mut cutter, started, true);
                }
                // Alive, for /healthz (no I/O).
                crate::sys::metrics::global().heartbeat();
                let wake = timing.wake(std::time::Instant::now(), pipeline_wake);
                let job = wait(
                    &rx,
                    wake.saturating_duration_since(std::time::Instant::now()),
                );
                data_flag.store(false, std::sync::atomic::Ordering::SeqCst);
                let told = match job {
                    Ok(Job::Pass(f)) => {
                        force = f;
                        Told::Pass
                    }
                    Ok(Job::Requested(f, id)) => {
                        force = f;
                        requests.extend(id);
                        Told::Pass
                    }
                    Ok(Job::Data) => Told::Data {
                        sized: cutter
                            .cfg
                            .sources
                            .iter()
                            .any(|s| s.policy.max_size.is_some()),
                    },
                    Ok(Job::Reload(c)) => {
                        cutter.set_config(c, clock.now());
                        Told::Pass
                    }
                    Ok(Job::StateLost) => {
                        cutter.state_lost();
                        Told::Pass
                    }
                    Ok(Job::Stop) | Err(std_mpsc::RecvTimeoutError::Disconnected) => break,
                    Err(std_mpsc::RecvTimeoutError::Timeout) => Told::Nothing,
                };
                timing.told(std::time::Instant::now(), told);
            }
            if let Some(p) = cutter.pipeline.as_mut() {
                p.shutdown(clock.now());
            }
            publish(&mut cutter, started, false);
        })
        .expect("spawning a thread at start-up");
    (tx, handle)
}

/// The next job, waiting at most `sleep` (none: only what is queued).
fn wait(rx: &std_mpsc::Receiver<Job>, sleep: Duration) -> Result<Job, std_mpsc::RecvTimeoutError> {
    if !sleep.is_zero() {
        return rx.recv_timeout(sleep);
    }
    rx.try_recv().map_err(|e| match e {
        std_mpsc::TryRecvError::Empty => std_mpsc::RecvTimeoutError::Timeout,
        std_mpsc::TryRecvError::Disconnected => std_mpsc::RecvTimeoutError::Disconnected,
    })
}

/// Publish what only the daemon knows for `logwarden status`, refresh the
/// lag gauges, and rewrite the metrics textfile if one is configured.
fn publish(cutter: &mut Cutter, started: chrono::DateTime<chrono::Utc>, running: bool) {
    let m = crate::sys::metrics::global();
    let lag = cutter
        .pipeline
        .as_mut()
        .map(|p| p.lag())
        .unwrap_or_default();
    m.mirror_lag_bytes.reset();
    m.mirror_lag_seconds.reset();
    for l in lag.iter().filter(|l| l.file == l.base) {
        m.mirror_lag_bytes
            .with_label_values(&[&l.source, &l.file])
            .set(l.lag_bytes as i64);
        m.mirror_lag_seconds
            .with_label_values(&[&l.source, &l.file])
            .set(if l.lag_bytes > 0 { l.lag_seconds } else { 0.0 });
    }
    m.watched_files.set(cutter.watched() as i64);
    let cfg = &cutter.cfg;
    let p = crate::report::status::Published {
        version: 1,
        pid: std::process::id(),
        started,
        published: chrono::Utc::now(),
        running,
        watched_files: cutter.watched() as u64,
        checkpoint_age_seconds: m.checkpoint_age(),
        lag,
        today: m.today(),
        last_errors: m.last_errors(),
    };
    if let Err(e) = crate::report::status::publish(&cfg.state_dir, &p) {
        tracing::warn!(
            "cannot publish {}: {e}",
            cfg.state_dir.join(crate::report::status::FILE).display()
        );
    }
    if let Some(path) = &cfg.metrics.textfile {
        if let Err(e) = crate::sys::metrics::write_textfile(path, &m.render()) {
            tracing::warn!("cannot write the metrics textfile {}: {e}", path.display());
        }
    }
}

fn spawn_housekeeper(
    cfg: Arc<Config>,
    clock: Clock,
    journal: SharedJournal,
    rx: std_mpsc::Receiver<Job>,
    stop: Arc<AtomicBool>,
) -> JoinHandle<()> {
    std::thread::Builder::new()
        .name("housekeeper".into())
        .spawn(move || {
            crate::rotation::compress::lower_priority();
            let mut cfg = cfg;
            let mut trusted = TrustedTime::new(clock.now(), crate::sys::clock::boottime());
            loop {
                let now = clock.now();
                let seen = trusted.observe(now, crate::sys::clock::boottime());
                if let Some(step) = seen.new_step {
                    let msg = format!(
                        "the wall clock jumped {} ahead of elapsed time; retention ages archives by {} until the jump has held for a day",
                        humantime::format_duration(step.to_std().unwrap_or_default()),
                        seen.now.format("%Y-%m-%dT%H:%M:%SZ")
                    );
                    journal::append(&journal, Record::failed(now, "clock.step", msg));
                }
                let report = engine::housekeep(&cfg, &journal, now, seen.now, WriterWait::Grace, false, &stop);
                if report.deleted > 0 {
                    journal::checkpoint_shared(&journal, clock.now(), "retention");
                }
                let sleep = if report.waiting > 0 {
                    HOUSE_RETRY
                } else {
                    HOUSE_INTERVAL
                };
                match rx.recv_timeout(sleep) {
                    Ok(Job::Pass(_) | Job::Requested(..) | Job::Data | Job::StateLost)
                    | Err(std_mpsc::RecvTimeoutError::Timeout) => {}
                    Ok(Job::Reload(c)) => cfg = c,
                    Ok(Job::Stop) | Err(std_mpsc::RecvTimeoutError::Disconnected) => break,
                }
            }
        })
        .expect("spawning a thread at start-up")
}

/// Directories to watch: every source directory and every config directory.
fn watch_list(cfg: &Config) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = cfg.sources.iter().map(|s| s.dir.clone()).collect();
    v.extend(cfg.watch_dirs.iter().cloned());
    v.sort();
    v.dedup();
    v
}

fn is_config_path(cfg: &Config, p: &Path) -> bool {
    cfg.files.iter().any(|f| {
        f == p
            || (f.is_relative()
                && f.file_name() == p.file_name()
                && p.parent()
                    .is_some_and(|d| cfg.watch_dirs.iter().any(|w| w == d)))
    }) || (p.extension().is_some_and(|e| e == "toml")
        && p.parent()
            .is_some_and(|d| cfg.watch_dirs.iter().any(|w| w == d)))
}

fn is_source_path(cfg: &Config, p: &Path) -> bool {
    cfg.sources
        .iter()
        .any(|s| p.parent() == Some(s.dir.as_path()) || p == s.dir)
}

async fn event_loop(
    mut cfg: Arc<Config>,
    clock: Clock,
    journal: SharedJournal,
    mut lock: StateLock,
) -> anyhow::Result<()> {
    let mut signals = Signals::install().context("cannot install signal handlers")?;
    journal::append(&journal, audit::startup(&cfg, clock.now()));
    warn_two_rotators(&cfg, &journal, clock.now());

    let stop = Arc::new(AtomicBool::new(false));
    let (house_tx, house_rx) = std_mpsc::channel::<Job>();
    let house = spawn_housekeeper(
        Arc::clone(&cfg),
        clock,
        Arc::clone(&journal),
        house_rx,
        Arc::clone(&stop),
    );
    let data_flag = Arc::new(AtomicBool::new(false));
    let names_flag = Arc::new(AtomicBool::new(false));
    let (cut_tx, cutter) = spawn_cutter(
        Arc::clone(&cfg),
        clock,
        Arc::clone(&journal),
        house_tx.clone(),
        Arc::clone(&data_flag),
        Arc::clone(&names_flag),
    );

    let (fs_tx, mut fs_rx) = mpsc::channel::<FsEvent>(4096);
    let mut watch = start_watch(fs_tx, &cfg, &journal, &clock);
    let mut unwatched = Unwatched::default();
    unwatched.reconcile(&mut watch, &cfg, &journal, clock.now());
    let mut rescan = tokio::time::interval(cfg.rescan_interval);
    rescan.tick().await;
    let wd_every = sd::watchdog_interval();
    let mut wd = tokio::time::interval(wd_every.unwrap_or(Duration::from_secs(3600)));
    // Checkpoints even when idle, so a shipped stream of them shows the
    // journal alive (and a gap when it is not).
    let mut ck_every = tokio::time::interval(CHECKPOINT_INTERVAL);
    ck_every.tick().await;
    let far = Instant::now() + Duration::from_secs(86400 * 365);
    let mut reload_at: Option<Instant> = None;
    let mut scan_at: Option<Instant> = None;
    // Set when the loop must end in an error (after the graceful stop).
    let mut fatal: Option<anyhow::Error> = None;
    serve_metrics(&cfg, &journal, &clock).await;
    sd::ready();
    tracing::info!(
        "logwarden {} running with {} source(s)",
        env!("CARGO_PKG_VERSION"),
        cfg.sources.len()
    );

    loop {
        tokio::select! {
            sig = signals.recv() => match sig {
                Signal::Stop => break,
                Signal::Reload => {
                    reload(&mut cfg, &clock, &journal, (&cut_tx, &house_tx), audit::Trigger::Signal);
                    unwatched.reconcile(&mut watch, &cfg, &journal, clock.now());
                }
                Signal::Rotate => {
                    let (force, id) = take_rotate_request(&cfg.state_dir);
                    tracing::info!("SIGUSR1: rotating now ({force:?})");
                    let _ = cut_tx.send(Job::Requested(force, id));
                }
            },
            Some(ev) = fs_rx.recv() => match or_rescan(&watch, ev) {
                FsEvent::Rescan => {
                    tracing::debug!("inotify events lost (queue overflow, or the loop fell behind): rescanning");
                    unwatched.reconcile(&mut watch, &cfg, &journal, clock.now());
                    scan_at = Some(Instant::now());
                }
                ev => on_files(&cfg, &ev, &cut_tx, &data_flag, &names_flag, &mut reload_at, &mut scan_at),
            },
            _ = tokio::time::sleep_until(reload_at.unwrap_or(far)), if reload_at.is_some() => {
                reload_at = None;
                tracing::info!("config file changed: reloading");
                reload(&mut cfg, &clock, &journal, (&cut_tx, &house_tx), audit::Trigger::Saved);
                unwatched.reconcile(&mut watch, &cfg, &journal, clock.now());
            }
            _ = tokio::time::sleep_until(scan_at.unwrap_or(far)), if scan_at.is_some() => {
                scan_at = None;
                let _ = cut_tx.send(Job::Pass(Force::None));
                let _ = house_tx.send(Job::Pass(Force::None));
            }
            _ = rescan.tick() => {
                unwatched.reconcile(&mut watch, &cfg, &journal, clock.now());
                if let Err(e) = hold_state_dir(&mut lock, &cfg, &clock, &journal, &cut_tx) {
                    fatal = Some(e);
                    break;
                }
                let _ = cut_tx.send(Job::Pass(Force::None));
            }
            _ = wd.tick(), if wd_every.is_some() => sd::watchdog(),
            _ = ck_every.tick() => {
                if let Err(e) = hold_state_dir(&mut lock, &cfg, &clock, &journal, &cut_tx) {
                    fatal = Some(e);
                    break;
                }
                journal::checkpoint_shared(&journal, clock.now(), "interval");
            }
        }
    }

    sd::stopping();
    tracing::info!("stopping");
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = cut_tx.send(Job::Stop);
    let _ = house_tx.send(Job::Stop);
    let _ = cutter.join();
    let _ = house.join();
    journal::append(&journal, Record::ok(clock.now(), "shutdown"));
    journal::checkpoint_shared(&journal, clock.now(), "shutdown");
    fatal.map_or(Ok(()), Err)
}

/// One warning record per file or pattern logrotate's config also manages
/// (at start and after a reload).
fn warn_two_rotators(cfg: &Config, journal: &SharedJournal, now: chrono::DateTime<chrono::Utc>) {
    let Some(path) = cfg.logrotate_config.as_deref().filter(|p| p.exists()) else {
        return;
    };
    let Ok(conf) = crate::logrotate::parse::read(path) else {
        return;
    };
    for f in crate::logrotate::overlap::find(&conf, cfg) {
        tracing::warn!("two rotators: {f}");
        journal::append(
            journal,
            Record::failed(now, "logrotate.overlap", &f).resource(path, None, None),
        );
    }
}

/// inotify on the config and source directories, or `None` (journaled)
/// where it is unavailable: rescans alone then find changes.
fn start_watch(
    fs_tx: mpsc::Sender<FsEvent>,
    cfg: &Config,
    journal: &SharedJournal,
    clock: &Clock,
) -> Option<Watch> {
    match Watch::new(fs_tx) {
        Ok(w) => Some(w),
        Err(e) => {
            let msg = format!(
                "inotify unavailable ({}); relying on rescans every {}",
                watch::explain(&e),
                humantime::format_duration(cfg.rescan_interval)
            );
            tracing::warn!("{msg}");
            journal::append(journal, Record::failed(clock.now(), "watch", msg));
            None
        }
    }
}

/// `/metrics` and `/healthz` on `metrics.listen`, if set (a failure to
/// bind is journaled; the textfile and `status` still work).
async fn serve_metrics(cfg: &Config, journal: &SharedJournal, clock: &Clock) {
    let Some(addr) = cfg.metrics.listen else {
        return;
    };
    match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => {
            tracing::info!("serving /metrics and /healthz on http://{addr}");
            tokio::spawn(crate::sys::metrics::serve(l));
        }
        Err(e) => journal::append(
            journal,
            Record::failed(clock.now(), "metrics.listen", format!("cannot listen on {addr}: {e}; metrics stay available through metrics.textfile and logwarden status")),
        ),
    }
}

/// What a batch of file events asks for: a config edit, a reload soon (the
/// editor may write in steps); a write to a source, a pump (one wake-up in
/// flight at a time); a new or removed name in a source, a discovery at
/// once and a cut pass soon.
fn on_files(
    cfg: &Config,
    ev: &FsEvent,
    cut_tx: &std_mpsc::Sender<Job>,
    data_flag: &AtomicBool,
    names_flag: &AtomicBool,
    reload_at: &mut Option<Instant>,
    scan_at: &mut Option<Instant>,
) {
    let (paths, names) = match ev {
        FsEvent::Written(p) => (p, false),
        FsEvent::Changed(p) => (p, true),
        FsEvent::Rescan => return,
    };
    if paths.iter().any(|p| is_config_path(cfg, p)) {
        *reload_at = Some(Instant::now() + Duration::from_millis(300));
    }
    if !paths.iter().any(|p| is_source_path(cfg, p)) {
        return;
    }
    if names {
        names_flag.store(true, std::sync::atomic::Ordering::SeqCst);
        if scan_at.is_none() {
            *scan_at = Some(Instant::now() + Duration::from_millis(500));
        }
    }
    if !data_flag.swap(true, std::sync::atomic::Ordering::SeqCst) {
        let _ = cut_tx.send(Job::Data);
    }
}

use signals::Signals;

/// The event, or a rescan if the watcher dropped events since the last one.
fn or_rescan(watch: &Option<Watch>, ev: FsEvent) -> FsEvent {
    match watch {
        Some(w) => w.or_rescan(ev),
        None => ev,
    }
}

/// Directories that could not be watched, each journaled once (until it
/// can be watched again): they are still scanned every `rescan_interval`.
#[derive(Default)]
struct Unwatched(std::collections::BTreeSet<PathBuf>);

impl Unwatched {
    fn reconcile(
        &mut self,
        watch: &mut Option<Watch>,
        cfg: &Config,
        journal: &SharedJournal,
        now: chrono::DateTime<chrono::Utc>,
    ) {
        let Some(w) = watch.as_mut() else {
            return;
        };
        let failed = w.reconcile(&watch_list(cfg));
        let now_failing: std::collections::BTreeSet<PathBuf> =
            failed.iter().map(|(p, _)| p.clone()).collect();
        for (p, why) in failed {
            if self.0.contains(&p) {
                continue;
            }
            let msg = format!(
                "cannot watch {}: {why}; it is scanned every {} instead",
                p.display(),
                humantime::format_duration(cfg.rescan_interval)
            );
            tracing::warn!("{msg}");
            journal::append(
                journal,
                Record::failed(now, "watch", msg).resource(&p, None, None),
            );
        }
        self.0 = now_failing;
    }
}

/// Check that the state dir and its lock are still ours; re-take them
/// ([`state_dir_lost`]) if not. Fails only if another instance took them.
fn hold_state_dir(
    lock: &mut StateLock,
    cfg: &Config,
    clock: &Clock,
    journal: &SharedJournal,
    cut_tx: &std_mpsc::Sender<Job>,
) -> anyhow::Result<()> {
    if !lock.intact() {
        *lock = state_dir_lost(cfg, clock, journal, cut_tx)?;
    }
    Ok(())
}

/// The state dir (or its lock file) vanished while running, say an
/// operator's `rm -rf`: re-create it, take the lock again (so no second
/// instance can start on it), go on journaling in a new file that continues
/// the chain, and have the cutter save its state and tail checkpoint anew.
/// Nothing in flight is lost: the mirrors live in `output_dir` and the
/// positions in memory. The journal records that went with the old file are
/// gone, and `verify` says so. Fails only if another instance took the
/// re-created state dir first: then this one must stop.
fn state_dir_lost(
    cfg: &Config,
    clock: &Clock,
    journal: &SharedJournal,
    cut_tx: &std_mpsc::Sender<Job>,
) -> anyhow::Result<StateLock> {
    let dir = &cfg.state_dir;
    state::ensure_dir(dir).with_context(|| {
        format!(
            "the state dir {} was removed while running and cannot be re-created",
            dir.display()
        )
    })?;
    let lock = StateLock::acquire(dir)
        .context("the state dir was removed while running, and the re-created one is taken")?;
    {
        let mut j = journal.lock().unwrap_or_else(|e| e.into_inner());
        if let Err(e) = j.reopen_lost() {
            tracing::error!("cannot reopen the journal in {}: {e}", dir.display());
        }
    }
    let msg = format!(
        "the state dir {} (or its lock file) was removed while running; re-created it and took the lock again; the journal records before this one went with it",
        dir.display()
    );
    tracing::error!("{msg}");
    journal::append(
        journal,
        Record::failed(clock.now(), "state.lost", msg).resource(dir, None, None),
    );
    let _ = cut_tx.send(Job::StateLost);
    journal::checkpoint_shared(journal, clock.now(), "state.lost");
    Ok(lock)
}

fn reload(
    cfg: &mut Arc<Config>,
    clock: &Clock,
    journal: &SharedJournal,
    (cut_tx, house_tx): (&std_mpsc::Sender<Job>, &std_mpsc::Sender<Job>),
    trigger: audit::Trigger,
) {
    sd::reloading();
    let now = clock.now();
    match Config::load(&cfg.path) {
        Err(problems) => {
            tracing::error!(
                "config reload refused; the running config stays in force:\n{problems}"
            );
            journal::append(journal, audit::reload_refused(cfg, &problems, trigger, now));
            journal::checkpoint_shared(journal, now, "reload");
        }
        Ok(new) if new.state_dir != cfg.state_dir => {
            let msg = format!(
                "state_dir cannot change while running ({} -> {}); the running config stays in force; restart logwarden to move it",
                cfg.state_dir.display(),
                new.state_dir.display()
            );
            tracing::error!("config reload refused: {msg}");
            journal::append(journal, audit::reload_refused(cfg, msg, trigger, now));
        }
        Ok(new) => {
            let rec = audit::reload_ok(cfg, &new, trigger, now);
            let new = Arc::new(new);
            let _ = cut_tx.send(Job::Reload(Arc::clone(&new)));
            let _ = house_tx.send(Job::Reload(Arc::clone(&new)));
            let _ = cut_tx.send(Job::Pass(Force::None));
            *cfg = new;
            journal::append(journal, rec);
            warn_two_rotators(cfg, journal, now);
            journal::checkpoint_shared(journal, now, "reload");
        }
    }
    sd::ready();
}

/// Read and remove the request `logwarden rotate` left (`source` or `*`,
/// then the request's id on a second line); no file means "all".
fn take_rotate_request(state_dir: &Path) -> (Force, Option<String>) {
    let p = state_dir.join(ROTATE_REQUEST);
    let text = std::fs::read_to_string(&p).unwrap_or_default();
    let _ = std::fs::remove_file(&p);
    let mut lines = text.lines().map(str::trim);
    let force = match lines.next().unwrap_or("") {
        "" | "*" => Force::All,
        name => Force::Source(name.to_string()),
    };
    let id = lines.next().filter(|s| !s.is_empty()).map(str::to_string);
    (force, id)
}
