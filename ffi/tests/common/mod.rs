//! What the C ABI tests share.

use std::ffi::{CStr, c_char};
use std::ptr::null_mut;

use replicast_ffi::replicast_status;

/// The JSON an export writes through the length-query protocol, called as C calls it: first
/// with no buffer (`BUFFER_TOO_SMALL`, and the length with its NUL), then with a buffer of that
/// length (`OK`, the text NUL-terminated, the same length reported). `write` is the export with
/// its other arguments bound: `(buffer, capacity, needed) -> status`.
pub(crate) fn written_json(
    mut write: impl FnMut(*mut c_char, usize, &mut usize) -> replicast_status,
) -> String {
    let mut needed = 0usize;
    assert_eq!(
        write(null_mut(), 0, &mut needed),
        replicast_status::BufferTooSmall
    );
    let mut buf = vec![0u8; needed];
    let mut written = 0usize;
    assert_eq!(
        write(buf.as_mut_ptr().cast(), buf.len(), &mut written),
        replicast_status::Ok
    );
    assert_eq!(
        written, needed,
        "the length asked for is the length written"
    );
    CStr::from_bytes_with_nul(&buf)
        .expect("one NUL, at the end")
        .to_str()
        .expect("UTF-8")
        .to_owned()
}
