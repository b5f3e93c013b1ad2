//! User and group names to numeric ids, through the C library (so NSS sources
//! such as LDAP work as they do for logrotate). Numeric strings pass through.

use std::ffi::CString;

/// This machine's host name (uname's nodename).
pub fn host_name() -> String {
    rustix::system::uname()
        .nodename()
        .to_string_lossy()
        .into_owned()
}

/// The uid of `user` (a name or a number), or `None` if it does not exist.
pub fn uid_of(user: &str) -> Option<u32> {
    if let Ok(n) = user.parse() {
        return Some(n);
    }
    let name = CString::new(user).ok()?;
    let mut buf = vec![0u8; 16 * 1024];
    // SAFETY: all-zero is a valid `passwd` (integers and null pointers).
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut out: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the duration of the call and `buf`'s length is passed.
    let rc = unsafe {
        libc::getpwnam_r(
            name.as_ptr(),
            &mut pwd,
            buf.as_mut_ptr().cast(),
            buf.len(),
            &mut out,
        )
    };
    (rc == 0 && !out.is_null()).then_some(pwd.pw_uid)
}

/// The gid of `group` (a name or a number), or `None` if it does not exist.
pub fn gid_of(group: &str) -> Option<u32> {
    if let Ok(n) = group.parse() {
        return Some(n);
    }
    let name = CString::new(group).ok()?;
    let mut buf = vec![0u8; 64 * 1024];
    // SAFETY: all-zero is a valid `group` (integers and null pointers).
    let mut grp: libc::group = unsafe { std::mem::zeroed() };
    let mut out: *mut libc::group = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the duration of the call and `buf`'s length is passed.
    let rc = unsafe {
        libc::getgrnam_r(
            name.as_ptr(),
            &mut grp,
            buf.as_mut_ptr().cast(),
            buf.len(),
            &mut out,
        )
    };
    (rc == 0 && !out.is_null()).then_some(grp.gr_gid)
}

#[cfg(test)]
mod tests {
    #[test]
    fn root_exists_and_nonsense_does_not() {
        assert_eq!(super::uid_of("root"), Some(0));
        assert_eq!(super::gid_of("root"), Some(0));
        assert_eq!(super::uid_of("no-such-user-logwarden"), None);
        assert_eq!(super::uid_of("1234"), Some(1234));
    }
}
