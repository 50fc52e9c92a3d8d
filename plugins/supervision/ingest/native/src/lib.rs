//! Fast path of the video loader (plugins/supervision/ingest/video/): a run of JSON Lines video
//! events in, PostgreSQL binary COPY rows out, with the indexes of the lines it did not take.
//!
//! It takes a line only when it is sure of the row that the Python path would make of it: a flat
//! JSON object that decodes into video/parse.py's `_Event` (same types, literals and ranges) and passes
//! `_row_of`'s rules, written in the plainest form (strings without escapes, RFC 3339 timestamps
//! with seconds and an offset, numbers in JSON's grammar). Every other line (a blank line, an
//! escape, a nested value, a duplicate key, a timestamp in another form, any invalid value) is
//! handed back, and the Python path decides it: a row, a quarantine record with its reason, or a
//! skipped blank line. So the two paths load the same rows, and the tests compare them.
//!
//! Rows are binary COPY tuples (no header or trailer: video/parse.py writes those) of
//! video/copy.py's ROW_COLUMNS: event_id (uuid, 16 bytes), camera_id (text), ts (timestamptz: microseconds since
//! 2000-01-01 UTC), type, state, count (int4), trainee_id, score (numeric: the shortest decimal
//! that reads back as the same double, as Python's repr), line_no (int4), file_id (int8). The
//! server then parses nothing: measured, binary COPY of these rows costs the server ~40% less
//! than text. No dependencies: the machine's Rust compiler builds it offline.
//!
//! Modules: `json` (the parser of one line), `values` (timestamps, UUIDs), `row` (a line's COPY
//! tuple); here the C functions the Python side calls through ctypes (video/native.py).

mod json;
mod row;
mod values;

use json::{find_newline, zero_bytes, ONES};
use row::row;

#[repr(C)]
pub struct FvResult {
    out_ptr: *mut u8,
    out_len: usize,
    out_cap: usize,
    rej_ptr: *mut u32,
    rej_len: usize,
    rej_cap: usize,
    ids_ptr: *mut u8,
    ids_len: usize,
    ids_cap: usize,
}

impl FvResult {
    /// Hand the buffers over to the caller (fv_free gives them back).
    fn from_vecs(out: Vec<u8>, rej: Vec<u32>, ids: Vec<u8>) -> FvResult {
        let mut out = std::mem::ManuallyDrop::new(out);
        let mut rej = std::mem::ManuallyDrop::new(rej);
        let mut ids = std::mem::ManuallyDrop::new(ids);
        FvResult {
            out_ptr: out.as_mut_ptr(),
            out_len: out.len(),
            out_cap: out.capacity(),
            rej_ptr: rej.as_mut_ptr(),
            rej_len: rej.len(),
            rej_cap: rej.capacity(),
            ids_ptr: ids.as_mut_ptr(),
            ids_len: ids.len(),
            ids_cap: ids.capacity(),
        }
    }
}

/// Convert `len` bytes at `input` (lines joined by b"\n", the first numbered `first_line`) into
/// binary COPY tuples, and their event ids (16 bytes each) into `ids`; each line not taken goes to
/// `rej` as three numbers: its index (0-based, within the run), and the offsets of its first byte
/// and of the byte after it.
///
/// # Safety
/// `input` points to `len` readable bytes; `res` to a writable FvResult, to be given back to
/// fv_free.
#[no_mangle]
pub unsafe extern "C" fn fv_convert(input: *const u8, len: usize, first_line: i64, file_id: i64, res: *mut FvResult) {
    let data = if len == 0 { &[][..] } else { std::slice::from_raw_parts(input, len) };
    assert!(len < u32::MAX as usize, "a run of lines is at most 4 GiB (offsets are u32)");
    // one check of the whole run; a run with invalid UTF-8 somewhere is checked line by line
    let utf8_known = std::str::from_utf8(data).is_ok();
    let mut out: Vec<u8> = Vec::with_capacity(len + 64);
    let mut rej: Vec<u32> = Vec::new();
    let mut ids: Vec<u8> = Vec::with_capacity(len / 6);
    let mut num = String::with_capacity(48);
    let mut start = 0usize;
    let mut k = 0u32;
    loop {
        let end = match row(data, start, utf8_known, first_line + k as i64, file_id, &mut out, &mut ids, &mut num) {
            Some(end) => end,
            None => {
                let end = find_newline(data, start).unwrap_or(data.len());
                rej.extend_from_slice(&[k, start as u32, end as u32]);
                end
            }
        };
        if end >= data.len() {
            break;
        }
        start = end + 1;
        k += 1;
    }
    *res = FvResult::from_vecs(out, rej, ids);
}

/// The 16-byte ids that occur more than once among the `len / 16` ids at `input`, each once, in
/// byte order, into `res` (its other lists stay empty): a day's repeated event ids, found by
/// one sort (measured: the server's hash aggregate over the same ids costs several times more).
///
/// # Safety
/// `input` points to `len` readable bytes; `res` to a writable FvResult, to be given back to
/// fv_free.
#[no_mangle]
pub unsafe extern "C" fn fv_repeated(input: *const u8, len: usize, res: *mut FvResult) {
    let data = if len == 0 { &[][..] } else { std::slice::from_raw_parts(input, len) };
    let mut ids: Vec<u128> = data.chunks_exact(16).map(|c| u128::from_be_bytes(c.try_into().unwrap())).collect();
    ids.sort_unstable();
    let mut out: Vec<u8> = Vec::new();
    let mut i = 0;
    while i < ids.len() {
        let mut j = i + 1;
        while j < ids.len() && ids[j] == ids[i] {
            j += 1;
        }
        if j - i > 1 {
            out.extend_from_slice(&ids[i].to_be_bytes());
        }
        i = j;
    }
    drop(ids);
    *res = FvResult::from_vecs(out, Vec::new(), Vec::new());
}

/// The number of newlines in `len` bytes at `input` (eight bytes at a time): the line count a run
/// of lines needs (Python's bytes.count takes a byte at a time).
///
/// # Safety
/// `input` points to `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn fv_count_newlines(input: *const u8, len: usize) -> usize {
    let data = if len == 0 { &[][..] } else { std::slice::from_raw_parts(input, len) };
    let mut n = 0usize;
    let mut words = data.chunks_exact(8);
    for w in &mut words {
        n += zero_bytes(u64::from_le_bytes(w.try_into().unwrap()) ^ (ONES * b'\n' as u64)).count_ones() as usize;
    }
    n + words.remainder().iter().filter(|&&c| c == b'\n').count()
}

/// Free what fv_convert or fv_repeated allocated.
///
/// # Safety
/// `res` was filled by fv_convert and is freed once.
#[no_mangle]
pub unsafe extern "C" fn fv_free(res: *mut FvResult) {
    let r = &mut *res;
    drop(Vec::from_raw_parts(r.out_ptr, r.out_len, r.out_cap));
    drop(Vec::from_raw_parts(r.rej_ptr, r.rej_len, r.rej_cap));
    drop(Vec::from_raw_parts(r.ids_ptr, r.ids_len, r.ids_cap));
    r.out_len = 0;
    r.rej_len = 0;
    r.ids_len = 0;
}

/// Version of the row format, checked by the Python side before use.
#[no_mangle]
pub extern "C" fn fv_version() -> u32 {
    6
}
