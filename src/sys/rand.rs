//! Random bytes from the kernel, for the redaction salt and signing keys.

use std::io::{self, Read};

/// 32 random bytes (getrandom(2), else `/dev/urandom`).
pub fn random32() -> io::Result<[u8; 32]> {
    let mut salt = [0u8; 32];
    let mut filled = 0;
    while filled < salt.len() {
        let rest = &mut salt[filled..];
        // SAFETY: the pointer and length describe `rest`, a live, writable
        // buffer.
        let n = unsafe { libc::getrandom(rest.as_mut_ptr().cast(), rest.len(), 0) };
        if n > 0 {
            filled += n as usize;
            continue;
        }
        let err = io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(libc::ENOSYS) => {
                std::fs::File::open("/dev/urandom")?.read_exact(&mut salt)?;
                return Ok(salt);
            }
            _ => return Err(err),
        }
    }
    Ok(salt)
}
