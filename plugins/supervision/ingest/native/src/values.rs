//! Field values as the warehouse stores them: RFC 3339 timestamps as timestamptz microseconds,
//! UUIDs as their 16 bytes.

/// Days from 1970-01-01 to 2000-01-01, PostgreSQL's epoch.
const PG_EPOCH_DAYS: i64 = 10_957;

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
pub(crate) fn timestamp_us(s: &[u8]) -> Option<i64> {
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
pub(crate) fn uuid_bytes(text: &[u8]) -> Option<[u8; 16]> {
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
