"""Small building blocks of the simulator: counter-based randomness, local time, ID numbers, names.

Randomness comes in two kinds, both pure functions of the seed:

- ``hu``/``hi``: a hash of (seed, purpose, keys...) mapped to [0, 1) or to an integer range. Used
  for everything that must be recomputable out of order (a trainee's attendance at a session is
  needed on the session's day *and* weeks later when the claim is decided), vectorised with numpy.
- ``day_rng``: a numpy Generator seeded by (seed, day, stream), for bulk per-day noise (video
  heartbeat jitter, event ids) that nothing else needs to recompute.

Time is kept as "local seconds": seconds since 1970-01-01 00:00 on the Asia/Shanghai wall clock
(UTC+8 all year, no DST), so a local date is ``ls // 86400`` and formatting never needs tz logic.
"""
from __future__ import annotations

import zlib
from datetime import date, timedelta

import numpy as np

EPOCH = date(1970, 1, 1)
DAY = 86400
OFFSET = "+08:00"

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)


def dnum(d: date) -> int:
    """Day number (days since 1970-01-01) of a date."""
    return (d - EPOCH).days


def ddate(n: int) -> date:
    return EPOCH + timedelta(days=int(n))


def splitmix(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser: a cheap, well-mixed bijection on uint64 (wraps on purpose)."""
    with np.errstate(over="ignore"):
        z = x + _GOLDEN
        z = (z ^ (z >> _S30)) * _M1
        z = (z ^ (z >> _S27)) * _M2
        return z ^ (z >> _S31)


def _tag(seed: int, purpose: str) -> np.uint64:
    return np.uint64(((seed & 0xFFFFFFFF) << 32) | zlib.crc32(purpose.encode()))


def hkey(seed: int, purpose: str, *keys) -> np.ndarray:
    """uint64 hash of (seed, purpose, keys...); keys broadcast like numpy arrays."""
    h = splitmix(np.asarray(_tag(seed, purpose), dtype=np.uint64))
    for k in keys:
        h = splitmix(h ^ np.asarray(k).astype(np.uint64))
    return h


def hu(seed: int, purpose: str, *keys) -> np.ndarray:
    """Uniform float in [0, 1) per element, from the hash."""
    return (hkey(seed, purpose, *keys) >> _S11).astype(np.float64) * (1.0 / 9007199254740992.0)


def hi(seed: int, purpose: str, lo: int, hi_: int, *keys) -> np.ndarray:
    """Integer in [lo, hi_) per element, from the hash."""
    return lo + (hu(seed, purpose, *keys) * (hi_ - lo)).astype(np.int64)


def hu1(seed: int, purpose: str, *keys) -> float:
    return float(hu(seed, purpose, *keys))


def hi1(seed: int, purpose: str, lo: int, hi_: int, *keys) -> int:
    return int(hi(seed, purpose, lo, hi_, *keys))


def day_rng(seed: int, day: int, stream: str) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed & 0xFFFFFFFF, day,
                                                                        zlib.crc32(stream.encode())])))


# --- formatting local seconds ------------------------------------------------------------------

HMS = [f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)]
_DATES: dict[int, str] = {}


def dstr(d: int) -> str:
    s = _DATES.get(d)
    if s is None:
        s = _DATES[d] = ddate(d).isoformat()
    return s


def ts_iso(ls: int) -> str:
    """ISO 8601 with offset, as the video platform writes: 2024-03-01T09:00:00+08:00."""
    d, s = divmod(int(ls), DAY)
    return f"{dstr(d)}T{HMS[s]}{OFFSET}"


def ts_db(ls: int) -> str:
    """timestamptz literal for COPY / SQL: 2024-03-01 09:00:00+08:00."""
    d, s = divmod(int(ls), DAY)
    return f"{dstr(d)} {HMS[s]}{OFFSET}"


def ts_local(ls: int, seconds: bool = True) -> str:
    """Local time without offset, as the assessment platform writes: 2024-03-01 09:00[:00]."""
    d, s = divmod(int(ls), DAY)
    return f"{dstr(d)} {HMS[s] if seconds else HMS[s][:5]}"


def at(d: int, hh: int, mm: int = 0, ss: int = 0) -> int:
    """Local seconds of day ``d`` at hh:mm:ss."""
    return d * DAY + hh * 3600 + mm * 60 + ss


# --- resident ID numbers (GB 11643-1999) -------------------------------------------------------

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"


def id_check_char(body17: str) -> str:
    return ID_CHECK[sum(int(c) * w for c, w in zip(body17, ID_WEIGHTS, strict=True)) % 11]


def make_id_number(region: str, birth: date | str, seq: int) -> str:
    """A valid 18-character number: region (6) + birth date (8) + sequence (3, odd = male) + check."""
    b = birth if isinstance(birth, str) else birth.strftime("%Y%m%d")
    body = f"{region}{b}{seq:03d}"
    return body + id_check_char(body)


def wrong_check(number: str) -> str:
    """The same number with a check character that is wrong (deterministic)."""
    right = number[17]
    i = ID_CHECK.index(right)
    return number[:17] + ID_CHECK[(i + 3) % 11]


def id_number_valid(number: str, today: date) -> bool:
    """RULES.md INVALID_ID_NUMBER, negated: format, real birth date in [1900-01-01, today], check."""
    if len(number) != 18 or not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        return False
    if not number[:17].isascii():
        return False
    try:
        b = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    if not date(1900, 1, 1) <= b <= today:
        return False
    return id_check_char(number[:17]) == number[17]


# --- people ------------------------------------------------------------------------------------
# A person is an integer p. Background trainees, exam-only candidates and scenario people draw p
# from disjoint ranges; the ID number is a bijection of p (below), so two different people can
# never share an ID number by accident (which would silently create "same person" rule hits).

REGIONS = ("310101", "310104", "310105", "310106", "310107", "310109", "310110", "310112",
           "310113", "310114", "310115", "310116", "310117", "310118", "310120", "310151")
BIRTH_FIRST = date(1964, 1, 1)   # people of the background are 18..60 in 2024-2025
BIRTH_DAYS = (date(2005, 12, 31) - BIRTH_FIRST).days + 1
NCELLS = len(REGIONS) * BIRTH_DAYS * 2
_SCATTER = 1_000_003             # prime, coprime to NCELLS: scatters consecutive p over cells
MAX_SLOT = 450                   # sequence numbers 000..899 are the bijection's; 900..999 are free

P_SOCIAL = 20_000_000            # exam candidates who did not train on the platform
P_SCENARIO = 40_000_000          # people of labelled scenarios
P_LIMIT = NCELLS * MAX_SLOT


def person_id(p: int) -> tuple[str, date, str]:
    """(ID number, birth date, gender 'M'/'F') of person p; distinct p give distinct numbers."""
    if not 0 <= p < P_LIMIT:
        raise ValueError(f"person index {p} out of range")
    cell = (p % NCELLS) * _SCATTER % NCELLS
    slot = p // NCELLS
    region = REGIONS[cell % 16]
    rest = cell // 16
    male = rest % 2
    birth = BIRTH_FIRST + timedelta(days=rest // 2)
    seq = slot * 2 + male
    return make_id_number(region, birth, seq), birth, "M" if male else "F"


SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董袁潘蒋蔡余杜叶程苏魏吕丁任沈"
            "姚卢姜崔钟谭陆汪范金石廖贾夏韦傅方白邹孟熊秦邱江尹薛阎段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔")
GIVEN = ("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华玉萍红娥玲芬建国文辉力斌宇浩凯健俊帆帅旭宁龙"
         "林欣雪婷慧晨嘉佳怡悦鑫鹏飞云峰波琳颖琴瑶瑞涵睿泽轩梓思雨晴昊然博文子豪志伟海燕春梅丹凤洁")


def person_name(seed: int, p: int) -> str:
    h = int(hkey(seed, "name", p))
    name = SURNAMES[h % len(SURNAMES)] + GIVEN[(h >> 8) % len(GIVEN)]
    if (h >> 16) % 10 < 7:
        name += GIVEN[(h >> 24) % len(GIVEN)]
    return name


def person_phone(seed: int, p: int) -> str | None:
    h = int(hkey(seed, "phone", p))
    if h % 20 == 0:
        return None  # phone is optional in the platform
    return f"1{'3589'[(h >> 5) % 4]}{(h >> 8) % 10}{(h >> 12) % 100_000_000:08d}"


def age_on(birth: date, d: date) -> int:
    return d.year - birth.year - ((d.month, d.day) < (birth.month, birth.day))
