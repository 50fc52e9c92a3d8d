//! Fast path of the video loader (plugins/supervision/ingest/video.py): a run of JSON Lines video
//! events in, PostgreSQL binary COPY rows out, with the indexes of the lines it did not take.
//!
//! It takes a line only when it is sure of the row that the Python path would make of it: a flat
//! JSON object that decodes into video.py's `_Event` (same types, literals and ranges) and passes
//! `_row_of`'s rules, written in the plainest form (strings without escapes, RFC 3339 timestamps
//! with seconds and an offset, numbers in JSON's grammar). Every other line (a blank line, an
//! escape, a nested value, a duplicate key, a timestamp in another form, any invalid value) is
//! handed back, and the Python path decides it: a row, a quarantine record with its reason, or a
//! skipped blank line. So the two paths load the same rows, and the tests compare them.
//!
//! Rows are binary COPY tuples (no header or trailer: video.py writes those) of video.py's
//! ROW_COLUMNS: event_id (uuid, 16 bytes), camera_id (text), ts (timestamptz: microseconds since
//! 2000-01-01 UTC), type, state, count (int4), trainee_id, score (numeric: the shortest decimal
//! that reads back as the same double, as Python's repr), line_no (int4), file_id (int8). The
//! server then parses nothing: measured, binary COPY of these rows costs the server ~40% less
//! than text. No dependencies: the machine's Rust compiler builds it offline.

use std::fmt::Write as _;

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

const INT4_MAX: i64 = 2_147_483_647;
const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;
const LOW: u64 = 0x7f7f_7f7f_7f7f_7f7f;

/// The high bit of each byte of `x` that is zero, exactly (no borrow between bytes); `x ^
/// (ONES * c)` marks the bytes equal to `c`.
#[inline]
fn zero_bytes(x: u64) -> u64 {
    !(((x & LOW) + LOW) | x | LOW)
}
/// Days from 1970-01-01 to 2000-01-01, PostgreSQL's epoch.
const PG_EPOCH_DAYS: i64 = 10_957;

#[derive(Clone, Copy, PartialEq)]
enum Val<'a> {
    Absent,
    Null,
    Str(&'a [u8]),
    Int(i64),
    Num(f64),
    Other,
}

/// A JSON parser over one line of the run: starts at a line's first byte and never passes a
/// newline (whitespace inside a line is space, tab or carriage return).
struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Parser<'a> {
    #[inline]
    fn ws(&mut self) {
        while self.i < self.s.len() {
            match self.s[self.i] {
                b' ' | b'\t' | b'\r' => self.i += 1,
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
        // eight bytes at a time up to the first quote, backslash or control character
        while j + 8 <= self.s.len() {
            let w = u64::from_le_bytes(self.s[j..j + 8].try_into().unwrap());
            // quotes, backslashes, and bytes below 0x20 (that test also marks some bytes above a
            // hit: only the lowest hit is used, and it is exact)
            let hit = zero_bytes(w ^ (ONES * b'"' as u64))
                | zero_bytes(w ^ (ONES * b'\\' as u64))
                | (w.wrapping_sub(ONES * 0x20) & !w & HIGH);
            if hit != 0 {
                j += (hit.trailing_zeros() / 8) as usize;
                break;
            }
            j += 8;
        }
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

/// The object of the line starting at `start`, and where the line ends (the index of its newline,
/// or the end of the run); None when the line is not a flat object ending the line.
fn parse_object(s: &[u8], start: usize) -> Option<(Event<'_>, usize)> {
    let mut p = Parser { s, i: start };
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
    match p.peek() {
        None | Some(b'\n') => Some((e, p.i)),
        _ => None,
    }
}

/// Index of the first newline at or after `from` (eight bytes at a time), else None.
fn find_newline(s: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i + 8 <= s.len() {
        let hit = zero_bytes(u64::from_le_bytes(s[i..i + 8].try_into().unwrap()) ^ (ONES * b'\n' as u64));
        if hit != 0 {
            return Some(i + (hit.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    s[i..].iter().position(|&c| c == b'\n').map(|k| i + k)
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

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// YYYY-MM-DDTHH:MM:SS[.f{1,6}](Z|+HH:MM|-HH:MM), a real date and time, years 1900..2999, as
/// microseconds since 2000-01-01 UTC (timestamptz's binary form); else None.
fn timestamp_us(s: &[u8]) -> Option<i64> {
    if s.len() < 20 || s[4] != b'-' || s[7] != b'-' || s[10] != b'T' || s[13] != b':' || s[16] != b':' {
        return None;
    }
    let (y1, y2, mo, d) = (two(s, 0)?, two(s, 2)?, two(s, 5)?, two(s, 8)?);
    let (h, mi, se) = (two(s, 11)?, two(s, 14)?, two(s, 17)?);
    let year = y1 * 100 + y2;
    if !(1900..=2999).contains(&year) || !(1..=12).contains(&mo) || h > 23 || mi > 59 || se > 59 {
        return None;
    }
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][(mo - 1) as usize];
    if d < 1 || d > days {
        return None;
    }
    let mut i = 19;
    let mut micros: i64 = 0;
    if s[i] == b'.' {
        i += 1;
        let start = i;
        while i < s.len() && s[i].is_ascii_digit() {
            micros = micros * 10 + (s[i] - b'0') as i64;
            i += 1;
        }
        let n = i - start;
        if n == 0 || n > 6 {
            return None;
        }
        micros *= 10_i64.pow((6 - n) as u32);
    }
    let offset_s: i64 = match &s[i..] {
        b"Z" => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let (oh, om) = (two(s, i + 1)?, two(s, i + 4)?);
            if oh > 23 || om > 59 {
                return None;
            }
            let o = (oh * 3600 + om * 60) as i64;
            if *sign == b'-' {
                -o
            } else {
                o
            }
        }
        _ => return None,
    };
    let days = days_from_civil(year as i64, mo, d) - PG_EPOCH_DAYS;
    let secs = days * 86_400 + (h * 3600 + mi * 60 + se) as i64 - offset_s;
    Some(secs * 1_000_000 + micros)
}

/// Hex digit values; 0xff for a byte that is not a hex digit.
const HEX: [u8; 256] = {
    let mut t = [0xffu8; 256];
    let mut c = 0;
    while c < 10 {
        t[b'0' as usize + c] = c as u8;
        c += 1;
    }
    let mut c = 0;
    while c < 6 {
        t[b'a' as usize + c] = 10 + c as u8;
        t[b'A' as usize + c] = 10 + c as u8;
        c += 1;
    }
    t
};

/// The 16 bytes of a UUID written as 32 hex digits, with dashes anywhere (as the Python fast
/// path's `replace("-", "")` + `bytes.fromhex`), else None.
fn uuid_bytes(text: &[u8]) -> Option<[u8; 16]> {
    let mut out = [0u8; 16];
    if text.len() == 36 && text[8] == b'-' && text[13] == b'-' && text[18] == b'-' && text[23] == b'-' {
        // the canonical form: no branch per digit
        const POS: [usize; 16] = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];
        let mut bad = 0u8;
        for (k, &p) in POS.iter().enumerate() {
            let (hi, lo) = (HEX[text[p] as usize], HEX[text[p + 1] as usize]);
            bad |= hi | lo;
            out[k] = (hi << 4) | (lo & 0x0f);
        }
        return if bad & 0xf0 == 0 { Some(out) } else { None };
    }
    let mut n = 0;
    for &c in text {
        if c == b'-' {
            continue;
        }
        let v = HEX[c as usize];
        if n == 32 || v == 0xff {
            return None;
        }
        out[n / 2] |= if n % 2 == 0 { v << 4 } else { v };
        n += 1;
    }
    (n == 32).then_some(out)
}

#[inline]
fn push_field(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
    out.extend_from_slice(bytes);
}

#[inline]
fn push_null(out: &mut Vec<u8>) {
    out.extend_from_slice(&(-1i32).to_be_bytes());
}

/// numeric's binary form of a non-negative decimal written as digits with at most one point
/// (f64's Display): base-10000 digits aligned on the point, display scale = digits after it.
fn push_numeric(out: &mut Vec<u8>, text: &str) {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    let (int, frac) = (int.as_bytes(), frac.as_bytes());
    let int_groups = int.len().div_ceil(4);
    let frac_groups = frac.len().div_ceil(4);
    let mut digits: Vec<i16> = Vec::with_capacity(int_groups + frac_groups);
    let pad = int_groups * 4 - int.len(); // leading zeros that align the integer part
    for g in 0..int_groups {
        let mut v = 0i16;
        for k in 0..4 {
            let idx = (g * 4 + k) as isize - pad as isize;
            v = v * 10 + if idx >= 0 { (int[idx as usize] - b'0') as i16 } else { 0 };
        }
        digits.push(v);
    }
    for g in 0..frac_groups {
        let mut v = 0i16;
        for k in 0..4 {
            let idx = g * 4 + k;
            v = v * 10 + if idx < frac.len() { (frac[idx] - b'0') as i16 } else { 0 };
        }
        digits.push(v);
    }
    let mut weight = int_groups as i16 - 1;
    let lead = digits.iter().take_while(|&&d| d == 0).count();
    weight -= lead as i16;
    let trail = digits[lead..].iter().rev().take_while(|&&d| d == 0).count();
    let kept = &digits[lead..digits.len() - trail];
    let (ndigits, weight) = if kept.is_empty() { (0i16, 0i16) } else { (kept.len() as i16, weight) };
    out.extend_from_slice(&(8 + 2 * kept.len() as i32).to_be_bytes());
    out.extend_from_slice(&ndigits.to_be_bytes());
    out.extend_from_slice(&weight.to_be_bytes());
    out.extend_from_slice(&0u16.to_be_bytes()); // sign: positive
    out.extend_from_slice(&(frac.len() as i16).to_be_bytes()); // dscale
    for d in kept {
        out.extend_from_slice(&d.to_be_bytes());
    }
}

/// The row of the line starting at `start`, appended to `out` as a binary COPY tuple (and its
/// event id's 16 bytes to `ids`), and where the line ends; None (nothing appended) when the line
/// goes back to the Python path.
fn row(
    data: &[u8],
    start: usize,
    utf8_known: bool,
    line_no: i64,
    file_id: i64,
    out: &mut Vec<u8>,
    ids: &mut Vec<u8>,
    num: &mut String,
) -> Option<usize> {
    let (e, end) = parse_object(data, start)?;
    if !utf8_known && std::str::from_utf8(&data[start..end]).is_err() {
        return None;
    }
    // _Event's types
    let Val::Str(event_id) = e.event_id else { return None };
    let Val::Str(camera_id) = e.camera_id else { return None };
    let Val::Str(ts) = e.ts else { return None };
    let Val::Str(typ) = e.typ else { return None };
    if camera_id.is_empty() || line_no > INT4_MAX {
        return None;
    }
    let ts = timestamp_us(ts)?;
    let state: Option<&[u8]> = match e.state {
        Val::Absent | Val::Null => None,
        Val::Str(s @ (b"online" | b"offline" | b"occluded" | b"tampered")) => Some(s),
        _ => return None,
    };
    let count: Option<i64> = match e.count {
        Val::Absent | Val::Null => None,
        Val::Int(c) if (0..=INT4_MAX).contains(&c) => Some(c),
        _ => return None,
    };
    let trainee_id: Option<&[u8]> = match e.trainee_id {
        Val::Absent | Val::Null => None,
        Val::Str(s) => Some(s),
        _ => return None,
    };
    let score: Option<f64> = match e.score {
        Val::Absent | Val::Null => None,
        Val::Int(i) if (0..=1).contains(&i) => Some(i as f64),
        Val::Num(f) if f.is_sign_positive() && (0.0..=1.0).contains(&f) => Some(f),
        _ => return None,
    };
    // _row_of's rules
    let event_id = uuid_bytes(event_id)?;
    let (state, count, trainee_id, score) = match typ {
        b"status" if state.is_some() => (state, None, None, None),
        b"headcount" if count.is_some() => (None, count, None, None),
        b"face" if score.is_some() => (None, None, trainee_id, score),
        _ => return None,
    };
    ids.extend_from_slice(&event_id);
    out.extend_from_slice(&10i16.to_be_bytes());
    push_field(out, &event_id);
    push_field(out, camera_id);
    out.extend_from_slice(&8i32.to_be_bytes());
    out.extend_from_slice(&ts.to_be_bytes());
    push_field(out, typ);
    match state {
        Some(s) => push_field(out, s),
        None => push_null(out),
    }
    match count {
        Some(c) => {
            out.extend_from_slice(&4i32.to_be_bytes());
            out.extend_from_slice(&(c as i32).to_be_bytes());
        }
        None => push_null(out),
    }
    match trainee_id {
        Some(t) => push_field(out, t),
        None => push_null(out),
    }
    match score {
        // Display of f64: the shortest digits that read back as the same double, never an exponent
        Some(f) => {
            num.clear();
            let _ = write!(num, "{f}");
            push_numeric(out, num);
        }
        None => push_null(out),
    }
    out.extend_from_slice(&4i32.to_be_bytes());
    out.extend_from_slice(&(line_no as i32).to_be_bytes());
    out.extend_from_slice(&8i32.to_be_bytes());
    out.extend_from_slice(&file_id.to_be_bytes());
    Some(end)
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
