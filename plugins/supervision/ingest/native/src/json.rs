//! A JSON parser over one line of a run: just what the fast path takes (a flat object of
//! strings without escapes, numbers, literals), eight bytes at a time where it scans.

pub(crate) const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;
const LOW: u64 = 0x7f7f_7f7f_7f7f_7f7f;

/// The high bit of each byte of `x` that is zero, exactly (no borrow between bytes); `x ^
/// (ONES * c)` marks the bytes equal to `c`.
#[inline]
pub(crate) fn zero_bytes(x: u64) -> u64 {
    !(((x & LOW) + LOW) | x | LOW)
}

#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Val<'a> {
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
pub(crate) struct Event<'a> {
    pub(crate) event_id: Val<'a>,
    pub(crate) camera_id: Val<'a>,
    pub(crate) ts: Val<'a>,
    pub(crate) typ: Val<'a>,
    pub(crate) state: Val<'a>,
    pub(crate) count: Val<'a>,
    pub(crate) trainee_id: Val<'a>,
    pub(crate) score: Val<'a>,
}

/// The object of the line starting at `start`, and where the line ends (the index of its newline,
/// or the end of the run); None when the line is not a flat object ending the line.
pub(crate) fn parse_object(s: &[u8], start: usize) -> Option<(Event<'_>, usize)> {
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
pub(crate) fn find_newline(s: &[u8], from: usize) -> Option<usize> {
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
