//! Shared plumbing for the end-to-end tests: a temp environment with a
//! config, the real binary as a daemon (with a real NOTIFY_SOCKET to watch
//! its systemd notifications), real writer processes, and readers that
//! reassemble a file's history from its archives.

use std::io::{BufRead, BufReader, Read};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use logwarden::policy::archive;

pub const BIN: &str = env!("CARGO_BIN_EXE_logwarden");

/// A temp dir with `logs/`, a state dir and a config file.
pub struct Env {
    pub tmp: tempfile::TempDir,
    pub logs: PathBuf,
    pub state: PathBuf,
    pub config: PathBuf,
    pub envs: Vec<(String, String)>,
}

impl Env {
    pub fn new() -> Env {
        let tmp = tempfile::tempdir().unwrap();
        let logs = tmp.path().join("logs");
        std::fs::create_dir(&logs).unwrap();
        set_mode(&logs, 0o755);
        set_mode(tmp.path(), 0o755);
        let state = tmp.path().join("state");
        let config = tmp.path().join("logwarden.toml");
        Env {
            tmp,
            logs,
            state,
            config,
            envs: vec![("TZ".into(), "UTC".into())],
        }
    }

    /// Write a config: one `rotate` source "app" over `logs/*.log`, with
    /// extra `[defaults]` lines and extra source lines.
    pub fn config(&self, defaults: &str, source: &str) {
        // Line 6 is the first of `defaults` (tests rely on it for positions).
        let tz = if defaults.contains("timezone") {
            ""
        } else {
            "timezone = \"UTC\""
        };
        let text = format!(
            "state_dir = {:?}\n\n[defaults]\nmode = \"rotate\"\n{tz}\n{defaults}\n\n[[source]]\nname = \"app\"\ndir = {:?}\ninclude = [\"*.log\"]\n{source}\n",
            self.state, self.logs
        );
        std::fs::write(&self.config, text).unwrap();
    }

    pub fn env(mut self, k: &str, v: &str) -> Env {
        self.envs.retain(|(key, _)| key != k);
        self.envs.push((k.into(), v.into()));
        self
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        self.cmd_via(&[], args)
    }

    /// `cmd`, run through a wrapper (`unshare …`) that execs the binary.
    pub fn cmd_via(&self, wrapper: &[&str], args: &[&str]) -> Command {
        let mut c = match wrapper.split_first() {
            Some((w, rest)) => {
                let mut c = Command::new(w);
                c.args(rest).arg(BIN);
                c
            }
            None => Command::new(BIN),
        };
        c.args(args)
            .arg("-c")
            .arg(&self.config)
            .env("LOGWARDEN_LOG", "debug")
            .env_remove("NOTIFY_SOCKET");
        for (k, v) in &self.envs {
            c.env(k, v);
        }
        c
    }

    /// Run a one-shot command to completion (with a timeout).
    pub fn run(&self, args: &[&str]) -> Output {
        let mut child = self
            .cmd(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while child.try_wait().unwrap().is_none() {
            assert!(
                Instant::now() < deadline,
                "logwarden {args:?} did not finish in 60 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        child.wait_with_output().unwrap()
    }

    /// `logwarden rotate` with the clock at `now` (RFC 3339); it must succeed.
    pub fn rotate_at(&self, now: impl std::fmt::Display) -> Output {
        let out = self
            .cmd(&["rotate"])
            .env("LOGWARDEN_FAKE_NOW", now.to_string())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "rotate at {now}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// `logwarden verify` must pass (its output is the failure message).
    pub fn assert_verifies(&self) {
        let out = self.run(&["verify"]);
        assert!(
            out.status.success(),
            "verify failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Add top-level keys (they must come before any table) to the config.
    pub fn config_top(&self, lines: &str) {
        let text = std::fs::read_to_string(&self.config).unwrap();
        std::fs::write(&self.config, format!("{lines}\n{text}")).unwrap();
    }

    /// Add tables (`[metrics]` …) at the end of the config.
    pub fn config_tail(&self, tables: &str) {
        let text = std::fs::read_to_string(&self.config).unwrap();
        std::fs::write(&self.config, format!("{text}\n{tables}\n")).unwrap();
    }

    /// Start `logwarden run` and wait for READY=1.
    pub fn daemon(&self) -> Daemon {
        self.daemon_via(&[])
    }

    /// [`Env::daemon`] with the clock injected at `now` (RFC 3339).
    pub fn daemon_at(&self, now: &str) -> Daemon {
        self.daemon_with(&[], &[("LOGWARDEN_FAKE_NOW", now)])
    }

    /// Start `logwarden run` through a wrapper that execs it in the same
    /// process (so the pid is the daemon's), and wait for READY=1.
    pub fn daemon_via(&self, wrapper: &[&str]) -> Daemon {
        self.daemon_with(wrapper, &[])
    }

    /// [`Env::daemon_via`] with extra environment for this daemon only.
    fn daemon_with(&self, wrapper: &[&str], envs: &[(&str, &str)]) -> Daemon {
        let sock_path = self
            .tmp
            .path()
            .join(format!("notify-{}.sock", rand_suffix()));
        let sock = UnixDatagram::bind(&sock_path).unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let child = self
            .cmd_via(wrapper, &["run"])
            .envs(envs.iter().copied())
            .env("NOTIFY_SOCKET", &sock_path)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut child = child;
        let buf = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let reader = child.stderr.take().map(|mut err| {
            let buf = std::sync::Arc::clone(&buf);
            std::thread::spawn(move || {
                let mut chunk = [0u8; 8192];
                while let Ok(n) = err.read(&mut chunk) {
                    if n == 0 {
                        break;
                    }
                    buf.lock().unwrap().extend_from_slice(&chunk[..n]);
                }
            })
        });
        let mut d = Daemon {
            child: Some(child),
            sock,
            notes: Vec::new(),
            stderr: buf,
            reader,
        };
        d.wait_note("READY=1", Duration::from_secs(20));
        d
    }

    /// The mirror directory the mirror tests configure (`output_dir`).
    pub fn mirror_dir(&self) -> PathBuf {
        self.tmp.path().join("mirror")
    }

    /// Write a config with one mirror-mode source "app" over `logs/*.log`
    /// into `mirror/`.
    pub fn mirror_config(&self, defaults: &str, source: &str) {
        self.config(
            defaults,
            &format!(
                "mode = \"mirror\"\noutput_dir = {:?}\n{source}",
                self.mirror_dir()
            ),
        );
    }

    /// Everything the mirror of `base` ever held: its archives (decompressed)
    /// in cut order, then the live mirror.
    pub fn mirror_history(&self, base: &str) -> Vec<u8> {
        let dir = self.mirror_dir();
        let mut v: Vec<_> = std::fs::read_dir(&dir)
            .map(|rd| {
                rd.filter_map(|e| {
                    archive::parse_for(base, e.unwrap().file_name().to_str().unwrap())
                })
                .collect()
            })
            .unwrap_or_default();
        v.sort_by(|a: &archive::Archive, b| a.cut_order(b));
        let mut all = Vec::new();
        for a in v {
            all.extend(read_maybe_gz(&dir.join(a.file_name())));
        }
        all.extend(std::fs::read(dir.join(base)).unwrap_or_default());
        all
    }

    /// How many lines the mirror of `base` ever held.
    pub fn mirror_lines(&self, base: &str) -> usize {
        memchr::memchr_iter(b'\n', &self.mirror_history(base)).count()
    }

    /// Wait (up to 10 s) until the mirror of `app.log` holds exactly `want`.
    pub fn mirror_becomes(&self, want: &[u8]) -> bool {
        wait_for(Duration::from_secs(10), || {
            self.mirror_history("app.log") == want
        })
    }

    pub fn log(&self, name: &str) -> PathBuf {
        self.logs.join(name)
    }

    /// Every entry of `logs/`, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut v: Vec<_> = std::fs::read_dir(&self.logs)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        v.sort();
        v
    }

    /// The archives of `base` in cut order.
    pub fn archives(&self, base: &str) -> Vec<String> {
        let mut v: Vec<_> = std::fs::read_dir(&self.logs)
            .unwrap()
            .filter_map(|e| archive::parse_for(base, e.unwrap().file_name().to_str().unwrap()))
            .collect();
        v.sort_by(|a, b| a.cut_order(b));
        v.into_iter().map(|a| a.file_name()).collect()
    }

    /// Everything `base` ever held: its archives (decompressed) in cut order, then the live file.
    pub fn history(&self, base: &str) -> Vec<u8> {
        let mut all = Vec::new();
        for name in self.archives(base) {
            all.extend(read_maybe_gz(&self.logs.join(name)));
        }
        all.extend(std::fs::read(self.log(base)).unwrap_or_default());
        all
    }

    /// The audit journal's records.
    pub fn journal(&self) -> Vec<serde_json::Value> {
        let text = std::fs::read_to_string(self.state.join("journal.ndjson")).unwrap_or_default();
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    pub fn journal_actions(&self, action: &str) -> Vec<serde_json::Value> {
        self.journal()
            .into_iter()
            .filter(|r| r["action"] == action)
            .collect()
    }

    /// Hidden temp files left in logs/.
    pub fn leftovers(&self) -> Vec<String> {
        std::fs::read_dir(&self.logs)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(archive::TMP_SUFFIX))
            .collect()
    }
}

fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(std::process::id() as u64);
    h.finish()
}

/// Append `text` to the file at `path` (created if missing).
pub fn append(path: &Path, text: &str) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

pub fn set_mode(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

pub fn read_maybe_gz(p: &Path) -> Vec<u8> {
    let bytes = std::fs::read(p).unwrap();
    if p.extension().is_some_and(|e| e == "gz") {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&bytes[..])
            .read_to_end(&mut out)
            .unwrap();
        out
    } else {
        bytes
    }
}

/// Poll `cond` every 20 ms until it holds or `timeout` passes.
pub fn wait_for(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A running daemon; killed (SIGKILL) if still running when dropped.
pub struct Daemon {
    pub child: Option<Child>,
    sock: UnixDatagram,
    /// Every sd_notify datagram received so far.
    pub notes: Vec<String>,
    /// Everything the daemon wrote to stderr, read as it comes (a pipe left
    /// unread would block a chatty daemon once it fills).
    stderr: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Daemon {
    pub fn pid(&self) -> i32 {
        self.child.as_ref().unwrap().id() as i32
    }

    pub fn signal(&self, sig: i32) {
        // SAFETY: kill has no memory-safety preconditions.
        assert_eq!(unsafe { libc::kill(self.pid(), sig) }, 0);
    }

    /// Read notifications until one contains `what` (fails the test after `timeout`).
    pub fn wait_note(&mut self, what: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        let mut buf = [0u8; 4096];
        loop {
            if self.notes.iter().any(|n| n.contains(what)) {
                return;
            }
            if let Ok(n) = self.sock.recv(&mut buf) {
                self.notes
                    .push(String::from_utf8_lossy(&buf[..n]).into_owned());
                continue;
            }
            let exited = self.child.as_mut().unwrap().try_wait().unwrap();
            if let Some(status) = exited.filter(|s| !s.success()) {
                panic!(
                    "daemon exited ({status}) before {what}: {}",
                    self.take_stderr()
                );
            }
            assert!(
                Instant::now() < deadline,
                "no {what} from the daemon within {timeout:?}; got {:?}",
                self.notes
            );
        }
    }

    /// Forget the notifications seen so far.
    pub fn clear_notes(&mut self) {
        let mut buf = [0u8; 4096];
        self.sock.set_nonblocking(true).unwrap();
        while self.sock.recv(&mut buf).is_ok() {}
        self.sock.set_nonblocking(false).unwrap();
        self.sock
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        self.notes.clear();
    }

    /// SIGTERM and wait for the exit.
    pub fn stop(&mut self) -> ExitStatus {
        self.signal(libc::SIGTERM);
        let mut child = self.child.take().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(s) = child.try_wait().unwrap() {
                if let Some(r) = self.reader.take() {
                    let _ = r.join();
                }
                self.child = Some(child);
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "daemon did not stop within 30 s of SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL, as a crash.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// What the daemon wrote to stderr so far (all of it once it exited).
    pub fn take_stderr(&mut self) -> String {
        if self
            .child
            .as_mut()
            .is_some_and(|c| c.try_wait().ok().flatten().is_some())
        {
            if let Some(r) = self.reader.take() {
                let _ = r.join();
            }
        }
        let bytes = std::mem::take(&mut *self.stderr.lock().unwrap());
        String::from_utf8_lossy(&bytes).into_owned()
    }

    pub fn alive(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| c.try_wait().unwrap().is_none())
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            if c.try_wait().ok().flatten().is_none() {
                let _ = c.kill();
            }
            let _ = c.wait();
        }
    }
}

/// A writer process (tests/it/writer.py).
pub struct Writer {
    child: Child,
    pub count: usize,
}

impl Writer {
    /// Start writing `count` lines `delay` s apart; returns once the file is open.
    pub fn start(
        path: &Path,
        mode: &str,
        count: usize,
        delay: f64,
        pidfile: Option<&Path>,
    ) -> Writer {
        Writer::spawn(path, mode, count, delay, pidfile, false)
    }

    /// Like `start`, with a planted secret (`password=LEAK<seq>`) in every line.
    pub fn start_with_secrets(
        path: &Path,
        mode: &str,
        count: usize,
        delay: f64,
        pidfile: Option<&Path>,
    ) -> Writer {
        Writer::spawn(path, mode, count, delay, pidfile, true)
    }

    fn spawn(
        path: &Path,
        mode: &str,
        count: usize,
        delay: f64,
        pidfile: Option<&Path>,
        secrets: bool,
    ) -> Writer {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/writer.py");
        let mut c = Command::new("python3");
        c.arg(script)
            .arg(path)
            .arg(mode)
            .arg(count.to_string())
            .arg(delay.to_string());
        if let Some(p) = pidfile {
            c.arg(p);
        }
        if secrets {
            c.env("WRITER_SECRETS", "1");
        }
        let mut child = c
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 is needed by the tests (.ci/run installs it)");
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready");
        Writer { child, count }
    }

    pub fn wait(mut self) {
        let s = self.child.wait().unwrap();
        assert!(s.success(), "writer failed: {s}");
    }

    /// The bytes this writer writes in total.
    pub fn expected(&self) -> Vec<u8> {
        expected_lines(self.count)
    }
}

pub fn expected_lines(count: usize) -> Vec<u8> {
    let mut v = Vec::new();
    for i in 0..count {
        v.extend(format!("seq={i:08} {}\n", "x".repeat(40)).into_bytes());
    }
    v
}

impl Drop for Writer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How many times each sequence number below `count` occurs in `got`, and
/// the lines that carry none.
pub fn count_seqs(got: &[u8], count: usize) -> (Vec<u32>, Vec<String>) {
    let text = String::from_utf8_lossy(got);
    let mut seen = vec![0u32; count];
    let mut bad = Vec::new();
    for l in text.lines() {
        match l
            .strip_prefix("seq=")
            .and_then(|r| r.get(..8))
            .and_then(|n| n.parse::<usize>().ok())
        {
            Some(n) if n < count => seen[n] += 1,
            _ => bad.push(l.to_string()),
        }
    }
    (seen, bad)
}

/// Every sequence number below `count` exactly once, nothing else, no secret.
pub fn assert_exactly_once(got: &[u8], count: usize) {
    let text = String::from_utf8_lossy(got);
    assert!(
        !text.contains("LEAK"),
        "a planted secret reached the mirror: {}",
        text.lines()
            .find(|l| l.contains("LEAK"))
            .unwrap_or_default()
    );
    let (seen, bad) = count_seqs(got, count);
    let ok = seen.iter().all(|c| *c == 1) && bad.is_empty();
    assert!(
        ok,
        "mirror is not every line exactly once: {}; malformed: {:?}",
        diff_seqs(got, count),
        &bad[..bad.len().min(5)]
    );
}

/// Explain a mismatch between what was written and what was kept, by sequence numbers.
pub fn diff_seqs(got: &[u8], count: usize) -> String {
    let (seen, bad) = count_seqs(got, count);
    let bad = bad.len();
    let lost: Vec<_> = seen
        .iter()
        .enumerate()
        .filter(|(_, c)| **c == 0)
        .map(|(i, _)| i)
        .take(10)
        .collect();
    let dup: Vec<_> = seen
        .iter()
        .enumerate()
        .filter(|(_, c)| **c > 1)
        .map(|(i, _)| i)
        .take(10)
        .collect();
    format!("lost (first 10): {lost:?}, duplicated: {dup:?}, malformed lines: {bad}")
}
