//! The files the journal vouches for: every `compress` record binds an
//! archive to the SHA-256 of its bytes and of its decompressed content; a
//! `retention.delete` record says an archive is gone on purpose. `verify`
//! recomputes both hashes of every archive still expected (gzip read with a
//! multi-member decoder, streaming, bounded memory) and fails on one that is
//! missing without a deletion record, or whose bytes changed.

use std::collections::BTreeMap;
use std::io::Read;

use sha2::{Digest, Sha256};

/// What the files check covered.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Files {
    pub checked: u64,
    pub bytes: u64,
    pub deleted: u64,
}

struct Expect {
    seq: u64,
    content: String,
    file: String,
}

/// Check the archives the records in `bytes` (a verified chain) vouch for.
/// Err names the file and why.
pub fn verify_files(bytes: &[u8]) -> Result<Files, String> {
    let mut expect: BTreeMap<String, Expect> = BTreeMap::new();
    let mut out = Files::default();
    for line in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(line) else {
            continue;
        };
        if v["status"] != "ok" {
            continue;
        }
        let seq = v["_seq"].as_u64().unwrap_or(0);
        match v["action"].as_str() {
            Some("compress") => {
                let (Some(path), Some(content), Some(file)) = (
                    v["new"].as_str(),
                    v["content_sha256"].as_str(),
                    v["file_sha256"].as_str(),
                ) else {
                    continue;
                };
                expect.insert(
                    path.to_string(),
                    Expect {
                        seq,
                        content: content.to_string(),
                        file: file.to_string(),
                    },
                );
            }
            Some("retention.delete") => {
                if let Some(p) = v["resource"]["path"].as_str() {
                    if expect.remove(p).is_some() {
                        out.deleted += 1;
                    }
                }
            }
            _ => {}
        }
    }
    for (path, e) in &expect {
        let f = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                return Err(format!(
                    "{path}: missing, and no retention.delete record says it was deleted (compressed at _seq {})",
                    e.seq
                ))
            }
            Err(err) => return Err(format!("{path}: cannot read: {err}")),
        };
        let (file_sha, n) = hash(&f).map_err(|err| format!("{path}: cannot read: {err}"))?;
        if file_sha != e.file {
            return Err(format!(
                "{path}: its bytes changed after it was made (SHA-256 differs from the compress record _seq {})",
                e.seq
            ));
        }
        let mut again = &f;
        std::io::Seek::rewind(&mut again).map_err(|err| format!("{path}: {err}"))?;
        let dec = flate2::read::MultiGzDecoder::new(std::io::BufReader::with_capacity(1 << 20, &f));
        let content = hash(dec).map_err(|err| format!("{path}: does not decompress: {err}"))?;
        if content.0 != e.content {
            return Err(format!(
                "{path}: its decompressed content differs from the compress record _seq {}",
                e.seq
            ));
        }
        out.checked += 1;
        out.bytes += n;
    }
    Ok(out)
}

fn hash(mut r: impl Read) -> std::io::Result<(String, u64)> {
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0u64;
    loop {
        let k = r.read(&mut buf)?;
        if k == 0 {
            break;
        }
        h.update(&buf[..k]);
        n += k as u64;
    }
    Ok((crate::tail::hex(&h.finalize()), n))
}
