//! Signed checkpoints: an Ed25519 key in `state_dir/signing.key` (0600),
//! made by `logwarden keygen`, signs every `checkpoint` record's tip
//! (`_seq` and `_hash` of the record before it). A verifier holding the
//! public key (`--public-key`) checks each with `verify_strict`; a chain
//! re-signed with another key, or a checkpoint forged without the key, fails.
//!
//! Forward security (`forward_secure = true`): the key lasts one UTC day.
//! The first checkpoint of a new day makes the next key, commits its public
//! half (`next_key`, covered by the signature) and is signed with the old
//! key, which is then overwritten. The verifier starts from the first public
//! key and follows the commitments, so a key stolen today cannot re-sign
//! what earlier keys signed.

use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

pub const KEY_FILE: &str = "signing.key";
pub const PUB_FILE: &str = "signing.pub";
const DOMAIN: &[u8] = b"logwarden-checkpoint-v1\0";

/// What a checkpoint's signature covers: the tip, and the next key when
/// one is committed.
pub fn message(seq: u64, hash: &str, next_key: Option<&str>) -> Vec<u8> {
    let mut m = DOMAIN.to_vec();
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(hash.as_bytes());
    if let Some(n) = next_key {
        m.extend_from_slice(b"\0next\0");
        m.extend_from_slice(n.as_bytes());
    }
    m
}

/// Make a key pair in `state_dir`; refuses to replace an existing key.
/// Returns the public key (hex).
pub fn keygen(state_dir: &Path) -> io::Result<String> {
    let secret = crate::sys::rand::random32()?;
    let key = SigningKey::from_bytes(&secret);
    let public = crate::sys::digest::hex(key.verifying_key().as_bytes());
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(state_dir.join(KEY_FILE))
        .map_err(|e| {
            if e.kind() == io::ErrorKind::AlreadyExists {
                io::Error::new(
                    e.kind(),
                    format!(
                        "{} exists; move it away first if you really mean to replace the key (verifiers must then get the new public key)",
                        state_dir.join(KEY_FILE).display()
                    ),
                )
            } else {
                e
            }
        })?;
    f.write_all(crate::sys::digest::hex(&secret).as_bytes())?;
    f.write_all(b"\n")?;
    f.sync_all()?;
    std::fs::write(state_dir.join(PUB_FILE), format!("{public}\n"))?;
    Ok(public)
}

/// Replace the key file with `key` (temp, fsync, rename over the old one:
/// the old secret is gone from the file system's namespace at once).
pub fn replace(state_dir: &Path, key: &SigningKey, day: chrono::NaiveDate) -> io::Result<()> {
    let text = format!("{}\nday {day}\n", crate::sys::digest::hex(&key.to_bytes()));
    crate::state::write_atomic(state_dir, ".signing.key.tmp", KEY_FILE, text.as_bytes())?;
    std::fs::write(state_dir.join(PUB_FILE), format!("{}\n", public_hex(key)))
}

/// A fresh key.
pub fn generate() -> io::Result<SigningKey> {
    Ok(SigningKey::from_bytes(&crate::sys::rand::random32()?))
}

/// The UTC day a forward-secure key was made for, if its file says.
pub fn key_day(state_dir: &Path) -> Option<chrono::NaiveDate> {
    let text = std::fs::read_to_string(state_dir.join(KEY_FILE)).ok()?;
    let d = text.lines().find_map(|l| l.strip_prefix("day "))?;
    chrono::NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").ok()
}

/// The signing key, if `state_dir` has one.
pub fn load(state_dir: &Path) -> io::Result<Option<SigningKey>> {
    let path = state_dir.join(KEY_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mode = std::fs::metadata(&path)?.permissions().mode();
    if mode & 0o077 != 0 {
        return Err(io::Error::other(format!(
            "{} is readable by others (mode {:o}); chmod 600 it",
            path.display(),
            mode & 0o777
        )));
    }
    let bytes = unhex32(text.lines().next().unwrap_or("").trim())
        .ok_or_else(|| io::Error::other(format!("{} is not a 32-byte hex key", path.display())))?;
    Ok(Some(SigningKey::from_bytes(&bytes)))
}

/// Sign a tip (and a committed next key).
pub fn sign(key: &SigningKey, seq: u64, hash: &str, next_key: Option<&str>) -> String {
    crate::sys::digest::hex(&key.sign(&message(seq, hash, next_key)).to_bytes())
}

/// The public key (hex) of a signing key.
pub fn public_hex(key: &SigningKey) -> String {
    crate::sys::digest::hex(key.verifying_key().as_bytes())
}

/// A public key from hex, or from a file holding it.
pub fn parse_public(s: &str) -> Result<VerifyingKey, String> {
    let text = if Path::new(s).is_file() {
        std::fs::read_to_string(s).map_err(|e| format!("cannot read {s}: {e}"))?
    } else {
        s.to_string()
    };
    let bytes =
        unhex32(text.trim()).ok_or("a public key is 64 hex digits (or a file holding them)")?;
    VerifyingKey::from_bytes(&bytes).map_err(|e| format!("not an Ed25519 public key: {e}"))
}

/// Check a checkpoint's signature under `key` (strict: no malleable forms).
pub fn check(
    key: &VerifyingKey,
    seq: u64,
    hash: &str,
    next_key: Option<&str>,
    sig_hex: &str,
) -> Result<(), String> {
    let sig = unhex64(sig_hex).ok_or("the signature is not 128 hex digits")?;
    key.verify_strict(&message(seq, hash, next_key), &Signature::from_bytes(&sig))
        .map_err(|_| "the signature does not verify under the given public key".to_string())
}

fn unhex<const N: usize>(s: &str) -> Option<[u8; N]> {
    if s.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

fn unhex32(s: &str) -> Option<[u8; 32]> {
    unhex::<32>(s)
}

fn unhex64(s: &str) -> Option<[u8; 64]> {
    unhex::<64>(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_and_check_and_another_key_fails() {
        let d = tempfile::tempdir().unwrap();
        let public = keygen(d.path()).unwrap();
        assert!(keygen(d.path()).is_err(), "never replaces a key");
        let key = load(d.path()).unwrap().unwrap();
        let sig = sign(&key, 7, "abc", None);
        let vk = parse_public(&public).unwrap();
        assert!(check(&vk, 7, "abc", None, &sig).is_ok());
        assert!(check(&vk, 8, "abc", None, &sig).is_err());
        let other = SigningKey::from_bytes(&[9u8; 32]);
        assert!(check(&vk, 7, "abc", None, &sign(&other, 7, "abc", None)).is_err());
        // A committed next key is covered: swapping it breaks the signature.
        let sig = sign(&key, 7, "abc", Some("n1"));
        assert!(check(&vk, 7, "abc", Some("n1"), &sig).is_ok());
        assert!(check(&vk, 7, "abc", Some("n2"), &sig).is_err());
        let mode = std::fs::metadata(d.path().join(KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
