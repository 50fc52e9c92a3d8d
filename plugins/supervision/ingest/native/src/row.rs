//! A line's row as a PostgreSQL binary COPY tuple (video/copy.py writes the same for the Python
//! path).

use std::fmt::Write as _;

use crate::json::{parse_object, Val};
use crate::values::{timestamp_us, uuid_bytes};

const INT4_MAX: i64 = 2_147_483_647;

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
    let int_groups = (int.len() + 3) / 4;
    let frac_groups = (frac.len() + 3) / 4;
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
pub(crate) fn row(
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
    let event_id = match e.event_id {
        Val::Str(s) => s,
        _ => return None,
    };
    let camera_id = match e.camera_id {
        Val::Str(s) => s,
        _ => return None,
    };
    let ts = match e.ts {
        Val::Str(s) => s,
        _ => return None,
    };
    let typ = match e.typ {
        Val::Str(s) => s,
        _ => return None,
    };
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
