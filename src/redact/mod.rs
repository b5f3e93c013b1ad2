//! TEMPORARY placeholder until the redaction engine lands (same API).
use std::collections::BTreeMap;
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Counts {
    pub lines: u64,
    pub redacted_lines: u64,
    pub cut_lines: u64,
    pub by_key: BTreeMap<String, u64>,
}
impl Counts {
    pub fn add(&mut self, o: &Counts) {
        self.lines += o.lines;
        self.redacted_lines += o.redacted_lines;
        self.cut_lines += o.cut_lines;
        for (k, v) in &o.by_key {
            *self.by_key.entry(k.clone()).or_default() += v;
        }
    }
}
pub struct Redactor {
    keys: Vec<String>,
}
impl Redactor {
    pub fn new(cfg: &crate::config::Redact, _salt: [u8; 32]) -> Redactor {
        Redactor {
            keys: cfg.keys.clone(),
        }
    }
    pub fn redact(&self, line: &[u8], out: &mut Vec<u8>, counts: &mut Counts) {
        counts.lines += 1;
        let s = String::from_utf8_lossy(line);
        for k in &self.keys {
            if let Some(i) = s.find(&format!("{k}=")) {
                out.extend_from_slice(&line[..i + k.len() + 1]);
                out.extend_from_slice(b"[REDACTED]");
                return;
            }
        }
        out.extend_from_slice(line);
    }
}
pub fn cut_marker(max: u64) -> Vec<u8> {
    format!(" [logwarden: line cut at {max} bytes]").into_bytes()
}
pub fn load_or_create_salt(_state_dir: &std::path::Path) -> std::io::Result<[u8; 32]> {
    Ok([7; 32])
}
pub fn filter(
    input: impl std::io::BufRead,
    mut output: impl std::io::Write,
    r: &Redactor,
    _max: u64,
) -> std::io::Result<Counts> {
    let mut c = Counts::default();
    let mut out = Vec::new();
    for l in input.split(b'\n') {
        let l = l?;
        out.clear();
        r.redact(&l, &mut out, &mut c);
        out.push(b'\n');
        output.write_all(&out)?;
    }
    Ok(c)
}
