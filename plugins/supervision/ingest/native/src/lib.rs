//! Fast path of the video loader (plugins/supervision/ingest/video.py): a run of JSON Lines video
//! events in, PostgreSQL COPY text rows out, with the indexes of the lines it did not take.
//!
//! It takes a line only when it is sure of the row that the Python path would make of it: a flat
//! JSON object that decodes into video.py's `_Event` (same types, literals and ranges) and passes
//! `_row_of`'s rules, written in the plainest form (strings without escapes, RFC 3339 timestamps
//! with seconds and an offset, numbers in JSON's grammar). Every other line (a blank line, an
//! escape, a nested value, a duplicate key, a timestamp in another form, any invalid value) is
//! handed back, and the Python path decides it: a row, a quarantine record with its reason, or a
//! skipped blank line. So the two paths load the same rows, and the tests compare them.
//!
//! Row columns (video.py ROW_COLUMNS): event_id (32 hex digits), camera_id, ts (the file's text:
//! PostgreSQL reads the offset), type, state, count, trainee_id, score (the shortest decimal that
//! reads back as the same double, as Python's repr), line_no, file_id. No dependencies: the
//! machine's Rust compiler builds it offline.

use std::fmt::Write as _;

#[repr(C)]
pub struct FvResult {
    out_ptr: *mut u8,
    out_len: usize,
    out_cap: usize,
    rej_ptr: *mut u32,
    rej_len: usize,
    rej_cap: usize,
}

const INT4_MAX: i64 = 2_147_483_647;

#[derive(Clone, Copy, PartialEq)]
enum Val<'a> {
    Absent,
    Null,
    Str(&'a [u8]),
    Int(i64),
    Num(f64),
    Other,
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Parser<'a> {
    #[inline]
    fn ws(&mut self) {
        while self.i < self.s.len() {
            match self.s[self.i] {
                b' ' | b'\t' | b'\r' | b'\n' => self.i += 1,
                _ => break,
            }
        }
    }
    #[inline]
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    /// A string without escapes or control characters (else None: the line goes back).
    #[inline]
    fn string(&mut self) -> Option<&'a [u8]> {
        if self.peek()? != b'"' {
            return None;
        }
        let start = self.i + 1;
        let mut j = start;
        while j < self.s.len() {
            let c = self.s[j];
            if c == b'"' {
                self.i = j + 1;
                return Some(&self.s[start..j]);
            }
            if c == b'\\' || c < 0x20 {
                return None;
            }
            j += 1;
        }
        None
    }
    /// A number in JSON's grammar: Int when it is an integer literal that fits i64, else Num.
    fn number(&mut self) -> Option<Val<'a>> {
        let start = self.i;
        let s = self.s;
        let mut j = self.i;
        if s.get(j) == Some(&b'-') {
            j += 1;
        }
        match s.get(j) {
            Some(b'0') => j += 1,
            Some(b'1'..=b'9') => {
                while matches!(s.get(j), Some(b'0'..=b'9')) {
                    j += 1;
                }
            }
            _ => return None,
        }
        let mut integer = true;
        if s.get(j) == Some(&b'.') {
            integer = false;
            j += 1;
            if !matches!(s.get(j), Some(b'0'..=b'9')) {
                return None;
            }
            while matches!(s.get(j), Some(b'0'..=b'9')) {
                j += 1;
            }
        }
        if matches!(s.get(j), Some(b'e') | Some(b'E')) {
            integer = false;
            j += 1;
            if matches!(s.get(j), Some(b'+') | Some(b'-')) {
                j += 1;
            }
            if !matches!(s.get(j), Some(b'0'..=b'9')) {
                return None;
            }
            while matches!(s.get(j), Some(b'0'..=b'9')) {
                j += 1;
            }
        }
        self.i = j;
        let text = std::str::from_utf8(&s[start..j]).ok()?;
        if integer {
            if let Ok(v) = text.parse::<i64>() {
                return Some(Val::Int(v));
            }
        }
        text.parse::<f64>().ok().filter(|f| f.is_finite()).map(Val::Num)
    }
    fn literal(&mut self, word: &[u8]) -> bool {
        if self.s[self.i..].starts_with(word) {
            self.i += word.len();
            true
        } else {
            false
        }
    }
    /// A scalar value; a nested object or array is Other (the line goes back).
    fn value(&mut self) -> Option<Val<'a>> {
        match self.peek()? {
            b'"' => self.string().map(Val::Str),
            b'n' => self.literal(b"null").then_some(Val::Null),
            b't' => self.literal(b"true").then_some(Val::Other),
            b'f' => self.literal(b"false").then_some(Val::Other),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }
}

#[derive(Clone, Copy)]
struct Event<'a> {
    event_id: Val<'a>,
    camera_id: Val<'a>,
    ts: Val<'a>,
    typ: Val<'a>,
    state: Val<'a>,
    count: Val<'a>,
    trainee_id: Val<'a>,
    score: Val<'a>,
}

fn parse_object(line: &[u8]) -> Option<Event<'_>> {
    let mut p = Parser { s: line, i: 0 };
    let mut e = Event {
        event_id: Val::Absent,
        camera_id: Val::Absent,
        ts: Val::Absent,
        typ: Val::Absent,
        state: Val::Absent,
        count: Val::Absent,
        trainee_id: Val::Absent,
        score: Val::Absent,
    };
    p.ws();
    if p.peek()? != b'{' {
        return None;
    }
    p.i += 1;
    p.ws();
    if p.peek()? == b'}' {
        p.i += 1;
    } else {
        loop {
            p.ws();
            let key = p.string()?;
            p.ws();
            if p.peek()? != b':' {
                return None;
            }
            p.i += 1;
            p.ws();
            let v = p.value()?;
            let slot = match key {
                b"event_id" => Some(&mut e.event_id),
                b"camera_id" => Some(&mut e.camera_id),
                b"ts" => Some(&mut e.ts),
                b"type" => Some(&mut e.typ),
                b"state" => Some(&mut e.state),
                b"count" => Some(&mut e.count),
                b"trainee_id" => Some(&mut e.trainee_id),
                b"score" => Some(&mut e.score),
                _ => None, // unknown fields are ignored, as _Event ignores them
            };
            if let Some(slot) = slot {
                if *slot != Val::Absent {
                    return None; // a repeated field: the Python path decides
                }
                *slot = v;
            }
            p.ws();
            match p.peek()? {
                b',' => p.i += 1,
                b'}' => {
                    p.i += 1;
                    break;
                }
                _ => return None,
            }
        }
    }
    p.ws();
    if p.i != line.len() {
        return None;
    }
    Some(e)
}

#[inline]
fn two(s: &[u8], i: usize) -> Option<u32> {
    let (a, b) = (s[i], s[i + 1]);
    if a.is_ascii_digit() && b.is_ascii_digit() {
        Some(((a - b'0') * 10 + (b - b'0')) as u32)
    } else {
        None
    }
}

/// YYYY-MM-DDTHH:MM:SS[.f{1,6}](Z|+HH:MM|-HH:MM), a real date and time, years 1900..2999.
fn timestamp_ok(s: &[u8]) -> bool {
    if s.len() < 20 || s[4] != b'-' || s[7] != b'-' || s[10] != b'T' || s[13] != b':' || s[16] != b':' {
        return false;
    }
    let (Some(y1), Some(y2), Some(mo), Some(d), Some(h), Some(mi), Some(se)) =
        (two(s, 0), two(s, 2), two(s, 5), two(s, 8), two(s, 11), two(s, 14), two(s, 17))
    else {
        return false;
    };
    let year = y1 * 100 + y2;
    if !(1900..=2999).contains(&year) || !(1..=12).contains(&mo) || h > 23 || mi > 59 || se > 59 {
        return false;
    }
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][(mo - 1) as usize];
    if d < 1 || d > days {
        return false;
    }
    let mut i = 19;
    if s[i] == b'.' {
        i += 1;
        let start = i;
        while i < s.len() && s[i].is_ascii_digit() {
            i += 1;
        }
        if i == start || i - start > 6 {
            return false;
        }
    }
    match &s[i..] {
        b"Z" => true,
        [b'+' | b'-', _, _, b':', _, _] => match (two(s, i + 1), two(s, i + 4)) {
            (Some(oh), Some(om)) => oh <= 23 && om <= 59,
            _ => false,
        },
        _ => false,
    }
}

/// The event's COPY text row appended to `out`, or false (nothing appended) when the line goes back.
fn row(line: &[u8], line_no: i64, file_id: i64, out: &mut Vec<u8>, num: &mut String) -> bool {
    if std::str::from_utf8(line).is_err() {
        return false;
    }
    let Some(e) = parse_object(line) else { return false };
    // _Event's types
    let Val::Str(event_id) = e.event_id else { return false };
    let Val::Str(camera_id) = e.camera_id else { return false };
    let Val::Str(ts) = e.ts else { return false };
    let Val::Str(typ) = e.typ else { return false };
    if camera_id.is_empty() || !timestamp_ok(ts) {
        return false;
    }
    let state: Option<&[u8]> = match e.state {
        Val::Absent | Val::Null => None,
        Val::Str(s @ (b"online" | b"offline" | b"occluded" | b"tampered")) => Some(s),
        _ => return false,
    };
    let count: Option<i64> = match e.count {
        Val::Absent | Val::Null => None,
        Val::Int(c) if (0..=INT4_MAX).contains(&c) => Some(c),
        _ => return false,
    };
    let trainee_id: Option<&[u8]> = match e.trainee_id {
        Val::Absent | Val::Null => None,
        Val::Str(s) => Some(s),
        _ => return false,
    };
    let score: Option<f64> = match e.score {
        Val::Absent | Val::Null => None,
        Val::Int(i) if (0..=1).contains(&i) => Some(i as f64),
        Val::Num(f) if f.is_sign_positive() && (0.0..=1.0).contains(&f) => Some(f),
        _ => return false,
    };
    // _row_of's rules
    let mut hex = [0u8; 32];
    let mut n = 0;
    for &c in event_id {
        if c == b'-' {
            continue;
        }
        if n == 32 || !c.is_ascii_hexdigit() {
            return false;
        }
        hex[n] = c.to_ascii_lowercase();
        n += 1;
    }
    if n != 32 {
        return false;
    }
    let (state, count, trainee_id, score) = match typ {
        b"status" if state.is_some() => (state, None, None, None),
        b"headcount" if count.is_some() => (None, count, None, None),
        b"face" if score.is_some() => (None, None, trainee_id, score),
        _ => return false,
    };
    out.extend_from_slice(&hex);
    out.push(b'\t');
    out.extend_from_slice(camera_id);
    out.push(b'\t');
    out.extend_from_slice(ts);
    out.push(b'\t');
    out.extend_from_slice(typ);
    out.push(b'\t');
    match state {
        Some(s) => out.extend_from_slice(s),
        None => out.extend_from_slice(b"\\N"),
    }
    out.push(b'\t');
    match count {
        Some(c) => push_int(out, c),
        None => out.extend_from_slice(b"\\N"),
    }
    out.push(b'\t');
    match trainee_id {
        Some(t) => out.extend_from_slice(t),
        None => out.extend_from_slice(b"\\N"),
    }
    out.push(b'\t');
    num.clear();
    match score {
        // Display of f64: the shortest digits that read back as the same double, never an exponent
        Some(f) => {
            let _ = write!(num, "{f}");
            out.extend_from_slice(num.as_bytes());
        }
        None => out.extend_from_slice(b"\\N"),
    }
    out.push(b'\t');
    push_int(out, line_no);
    out.push(b'\t');
    push_int(out, file_id);
    out.push(b'\n');
    true
}

/// Decimal digits of `v` (no formatting machinery: this runs three times a row).
#[inline]
fn push_int(out: &mut Vec<u8>, v: i64) {
    if v < 0 {
        out.push(b'-');
    }
    let mut n = v.unsigned_abs();
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// Convert `len` bytes at `input` (lines joined by b"\n", the first numbered `first_line`) into
/// COPY text rows; the indexes (0-based, within the run) of the lines not taken go to `rej`.
///
/// # Safety
/// `input` points to `len` readable bytes; `res` to a writable FvResult, to be given back to
/// fv_free.
#[no_mangle]
pub unsafe extern "C" fn fv_convert(input: *const u8, len: usize, first_line: i64, file_id: i64, res: *mut FvResult) {
    let data = if len == 0 { &[][..] } else { std::slice::from_raw_parts(input, len) };
    let mut out: Vec<u8> = Vec::with_capacity(len + len / 4 + 64);
    let mut rej: Vec<u32> = Vec::new();
    let mut num = String::with_capacity(48);
    for (k, line) in data.split(|&c| c == b'\n').enumerate() {
        if !row(line, first_line + k as i64, file_id, &mut out, &mut num) {
            rej.push(k as u32);
        }
    }
    let mut out = std::mem::ManuallyDrop::new(out);
    let mut rej = std::mem::ManuallyDrop::new(rej);
    *res = FvResult {
        out_ptr: out.as_mut_ptr(),
        out_len: out.len(),
        out_cap: out.capacity(),
        rej_ptr: rej.as_mut_ptr(),
        rej_len: rej.len(),
        rej_cap: rej.capacity(),
    };
}

/// Free what fv_convert allocated.
///
/// # Safety
/// `res` was filled by fv_convert and is freed once.
#[no_mangle]
pub unsafe extern "C" fn fv_free(res: *mut FvResult) {
    let r = &mut *res;
    drop(Vec::from_raw_parts(r.out_ptr, r.out_len, r.out_cap));
    drop(Vec::from_raw_parts(r.rej_ptr, r.rej_len, r.rej_cap));
    r.out_len = 0;
    r.rej_len = 0;
}

/// Version of the row format, checked by the Python side before use.
#[no_mangle]
pub extern "C" fn fv_version() -> u32 {
    2
}
