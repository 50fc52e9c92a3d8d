"""Labelled scenarios of the rules on the assessment platform: certificates, pass rates, scores,
exams during training, assessors.

Each function writes one instance (positives and near-misses) and returns False when no room was
free (the instance is then skipped and counted)."""
from __future__ import annotations

from supervision.simulator import catalogue as cat
from supervision.simulator.background import unique_theory
from supervision.simulator.scenarios.context import Ctx, instances, local_time
from supervision.simulator.util import DAY, at, hi, hu
from supervision.simulator.world import WS


def certificate_without_pass(c: Ctx, i: int) -> bool:
    d, w = c.d, c.w
    occ = w.occupations[int(hi(c.seed, "cwp-occ", 0, len(w.occupations), d, i))].code
    ps = [c.person() for _ in range(7)]
    exam_id, rids = c.exam(occ, 5, at(d, 9), at(d, 11), [
        (ps[0], "60", "60", "合格"), (ps[1], "52", "48", "不合格"), (ps[2], "88", "59.5", "合格"),
        (ps[3], "75", "81", "合格"), (ps[4], "60.0", "72", "合格"), (ps[5], "66", "90", "合格"),
        (ps[6], "77", "70", "合格")])
    org = c.org_of_exam[exam_id]
    ex4, r4 = c.exam(occ, 4, at(d, 13), at(d, 15), [(p, "80", "80", "合格") for p in [c.person()]])
    del ex4
    cases = ((ps[0], rids[0], 5, False, "both scores exactly 60, 合格"),
             (ps[4], rids[4], 5, False, "theory '60.0', 合格"),
             (ps[1], rids[1], 5, True, "result is 不合格"),
             (ps[2], rids[2], 5, True, "合格 with a score of 59.5"),
             (ps[3], rids[5], 5, True, "issued on another person's result"),
             (ps[5], "", 5, True, "no result id"),
             (ps[6], f"R{c.ymd}9999999000", 5, True, "result id unknown"),
             (ps[6], rids[6], 4, True, "certificate level 4 on a level-5 exam"))
    for person, rid, lv, fire, note in cases:
        no = c.cert(person, rid, occ, lv, org)
        c.label("CERTIFICATE_WITHOUT_PASS", no, fire, note)
    c.label("SCORE_FLAG_MISMATCH", rids[2], True, "合格 with a score of 59.5")
    c.label("SCORE_FLAG_MISMATCH", rids[0], False, "合格 with both scores exactly 60")
    del r4
    return True



# --- ABNORMAL_PASS_RATE: exclusive (occupation, level) pairs and an exact ledger -------------------

PAIRS = [(o, lv) for o in cat.EXAM_ONLY_OCCUPATIONS for lv in cat.LEVELS]
_LEDGER: dict[tuple, list[tuple[int, int, int]]] = {}


MAX_OWN_BASELINE = 2000  # results of an instance's own baseline exams, at most


def _balance(T: int, P: int, num: int, den: int, total_target: int | None) -> tuple[int, int] | None:
    """(m, q): m baseline results of which q passes that bring a pool of T results and P passes to a
    pass rate of exactly num/den (or to total_target results at half passing), with q <= 0.9 m (no
    baseline exam above the rule's own ceiling); None when no m up to MAX_OWN_BASELINE does."""
    m = max(1, (total_target or 100) - T)
    while m <= MAX_OWN_BASELINE:
        tot = T + m
        if tot % den == 0 or total_target:
            q = (tot * num) // den - P if not total_target else round(0.5 * tot) - P
            if 0 <= q <= 0.9 * m and (total_target is None or tot == total_target):
                return m, q
        m += 1
    return None


def _abnormal_plan(seed: int, rate: float, scale: float, day: int, role: int) -> tuple[str, list[tuple[int, int, int]], dict] | None:
    """(variant, exams [(start ls, n, passes)] with the target last, info) of the instance of
    ``role`` (0 positive, 1 negative) on ``day``; None when there is none. Pair = PAIRS[(2i+role) % 40]
    with i = day - WS, so a pair recurs every 20 days; the baseline b of each target is made exact
    by sizing the instance's own baseline exams against every earlier exam of the pair."""
    key = (seed, rate, scale, day, role)
    if key in _LEDGER:
        return _LEDGER[key]  # type: ignore[return-value]
    if day < WS or instances(seed, "ABNORMAL_PASS_RATE", day, rate, scale) == 0:
        _LEDGER[key] = None  # type: ignore[assignment]
        return None
    target_start = at(day, 14)
    prior: list[tuple[int, int, int]] = []
    back = day - 20
    while back >= WS and back > day - 400:
        plan = _abnormal_plan(seed, rate, scale, back, role)
        if plan:
            prior.extend(plan[1])
        back -= 20
    T = sum(n for s, n, _ in prior if target_start - 365 * DAY <= s < target_start)
    P = sum(q for s, _, q in prior if target_start - 365 * DAY <= s < target_start)
    v = hu(seed, "apr-variant", day, role)
    if role == 0:
        options = [("boundary", (3, 4), 20, 20), ("clear", (3, 5), 20, 19)]
        first = 0 if v < 0.5 else 1
    else:
        options = [("b_above", (19, 25), 20, 20), ("n19", (3, 5), 19, 19), ("p_below", (1, 2), 20, 18)]
        first = int(v * 3)
        if T == 0 and v < 0.2:
            options, first = [("pool99", (1, 2), 20, 20)], 0
    # the drawn variant, or the next one whose baseline the ledger can still reach: after months of
    # a pair's instances the pool is large, and a baseline far from its pass rate would need more
    # than MAX_OWN_BASELINE results of the instance's own
    for option in options[first:] + options[:first]:
        balanced = _balance(T, P, *option[1], 99 if option[0] == "pool99" else None)
        if balanced:
            (variant, _, n, passes), (m, q) = option, balanced
            break
    else:
        raise RuntimeError(f"ABNORMAL_PASS_RATE ledger could not be balanced (day {day}, role {role}, "
                           f"pool {T} results, {P} passes)")
    # own baseline: exams of at most 40 results on the two previous days, pass rates <= 0.9
    k = max(1, -(-m // 40))
    exams = []
    for j in range(k):
        nj = m // k + (1 if j < m % k else 0)
        qj = q // k + (1 if j < q % k else 0)
        exams.append((at(day - 1 - j % 2, 9) + 3600 * (j // 2), nj, qj))
    exams.append((target_start, n, passes))
    info = dict(pair=PAIRS[(2 * (day - WS) + role) % len(PAIRS)], b=(P + q) / (T + m), pool=T + m, p=passes / n, n=n)
    _LEDGER[key] = (variant, exams, info)  # type: ignore[assignment]
    return _LEDGER[key]  # type: ignore[return-value]


def _scores(n: int, passes: int, salt: int) -> list[tuple[str, str, str]]:
    """n distinct (theory, practical, flag) triples with ``passes`` passes."""
    out = []
    for j in range(n):
        if j < passes:
            out.append((str(60 + (j * 7 + salt) % 41), str(60 + (j * 3 + salt // 3) % 41), "合格"))
        else:
            out.append((str(30 + (j * 5 + salt) % 29), str(61 + j % 39), "不合格"))
    seen: set[tuple[float, float]] = set()
    res = []
    for th, pr, f in out:
        t = unique_theory(float(th), float(pr), seen)
        seen.add((t, float(pr)))
        res.append((f"{t:g}", pr, f))
    return res


def abnormal_pass_rate(c: Ctx, i: int) -> bool:
    if i > 0:
        return True  # one positive and one negative a day at most (the ledger's pairs)
    for role in (0, 1):
        plan = _abnormal_plan(c.seed, c.rate, c.w.scale, c.d, role)
        if plan is None:
            continue
        variant, exams, info = plan
        occ, lv = info["pair"]
        org = c.w.org_for(occ, c.d, c.d * 10 + role, "apr-org")
        last = None
        for j, (start, n, q) in enumerate(exams):
            people = [c.person() for _ in range(n)]
            rows = [(p, th, pr, f) for p, (th, pr, f) in zip(people, _scores(n, q, j * 11 + role), strict=True)]
            last, _ = c.exam(occ, lv, start, start + 7200, rows, org=org)
        fire = role == 0
        assert last is not None   # every plan has at least one exam
        c.label("ABNORMAL_PASS_RATE", last, fire,
                f"{variant}: n={info['n']} p={info['p']:.4g} baseline b={info['b']:.4g} over {info['pool']} results")
    return True



def identical_scores(c: Ctx, i: int) -> bool:
    d, w = c.d, c.w
    occ = w.occupations[int(hi(c.seed, "ids-occ", 0, len(w.occupations), d, i))].code
    for n, same, fmt, fire, note in ((10, 3, True, True, "3 of 10 share (85, 90), one written 85.0/90.0: exactly 30%"),
                                     (10, 4, False, True, "4 of 10 share a pair"),
                                     (10, 2, False, False, "2 of 10 share a pair (20%)"),
                                     (9, 3, False, False, "3 of 9 share a pair, but n < 10")):
        rows = []
        for j in range(n):
            p = c.person()
            if j < same:
                th, pr = ("85.0", "90.0") if fmt and j == 0 else ("85", "90")
            else:
                th, pr = str(61 + j * 3), str(70 + j)
            rows.append((p, th, pr, "合格"))
        exam_id, _ = c.exam(occ, 5, at(d, 9) + 3 * 3600 * (n - 9) + 600 * same, at(d, 11) + 3 * 3600 * (n - 9) + 600 * same,
                            rows)
        c.label("IDENTICAL_SCORES", exam_id, fire, note)
    return True


def exam_during_training(c: Ctx, i: int) -> bool:
    r = c.room()
    if r is None:
        return False
    d = c.d
    occ_train = c.occ_of_room(r, i)
    occ_exam = c.occ_of_room(r, i + 1)
    # (a) in class [09:00, 12:00) and in an exam [11:00, 12:30): fires
    p = c.person()
    c.trained(r, p, at(d, 9), 180, occ_train, 5, finished=False, end_day=d + 20)
    _, rids = c.exam(occ_exam, 4, at(d, 11), at(d, 12, 30), [(p, "80", "75", "合格"), (c.person(), "70", "66", "合格")])
    c.label("EXAM_DURING_TRAINING", rids[0], True, "exam overlaps the session the candidate checked in to")
    c.label("EXAM_DURING_TRAINING", rids[1], False, "other candidate of the same exam, not in training")
    # (b) the same, checked in under the person's second trainee_id
    q = c.person()
    c.trainee(q)
    t2 = c.trainee(q, at(d, 6, 50))
    c.trained(r, q, at(d, 13), 120, occ_train, 5, tid=t2, finished=False, end_day=d + 20)
    _, rids = c.exam(occ_exam, 4, at(d, 14), at(d, 15), [(q, "79", "74", "合格")])
    c.label("EXAM_DURING_TRAINING", rids[0], True, "same person (ID number) checked in under a second trainee_id")
    # (c) exam starting exactly when the session ends: windows touch, must not fire
    s = c.person()
    c.trained(r, s, at(d, 16), 120, occ_train, 5, finished=False, end_day=d + 20)
    _, rids = c.exam(occ_exam, 4, at(d, 18), at(d, 19), [(s, "81", "77", "合格")])
    c.label("EXAM_DURING_TRAINING", rids[0], False, "exam starts exactly at the session's ends_at")
    return True


def assessor_double_booked(c: Ctx, i: int) -> bool:
    d, w = c.d, c.w
    occ = w.occupations[int(hi(c.seed, "adb-occ", 0, len(w.occupations), d, i))].code
    x, y = c.assessor(), c.assessor()
    e1, _ = c.exam(occ, 5, at(d, 9), at(d, 11), [(c.person(), "70", "70", "合格")], [x, c.assessor()])
    e2, _ = c.exam(occ, 5, at(d, 10, 30), at(d, 12), [(c.person(), "71", "72", "合格")], [c.assessor(), x])
    c.label("ASSESSOR_DOUBLE_BOOKED", f"{x}|{min(e1, e2)}|{max(e1, e2)}", True, "windows overlap by 30 minutes")
    e3, _ = c.exam(occ, 5, at(d, 13), at(d, 15), [(c.person(), "73", "74", "合格")], [y, c.assessor()])
    e4, _ = c.exam(occ, 5, at(d, 15), at(d, 16), [(c.person(), "75", "76", "合格")], [y, c.assessor()])
    c.label("ASSESSOR_DOUBLE_BOOKED", f"{y}|{min(e3, e4)}|{max(e3, e4)}", False, "windows touch (end = start)")
    return True


def score_flag_mismatch(c: Ctx, i: int) -> bool:
    d, w = c.d, c.w
    occ = w.occupations[int(hi(c.seed, "sfm-occ", 0, len(w.occupations), d, i))].code
    cases = (("", "80", "合格", True, "theory score missing"),
             ("70", "100.5", "合格", True, "practical score 100.5 (outside 0..100)"),
             ("59.9", "90", "合格", True, "合格 with 59.9"),
             ("60", "75", "不合格", True, "不合格 with both scores >= 60"),
             ("60", "60", "合格", False, "合格 with both exactly 60"),
             ("59.9", "100", "不合格", False, "不合格 with 59.9"),
             ("0", "100", "不合格", False, "scores 0 and 100 are in range"))
    people = [c.person() for _ in cases]
    exam_id, rids = c.exam(occ, 5, at(d, 9), at(d, 11), [(p, th, pr, f) for p, (th, pr, f, _, _) in zip(people, cases, strict=True)])
    for rid, (_, _, _, fire, note) in zip(rids, cases, strict=True):
        c.label("SCORE_FLAG_MISMATCH", rid, fire, note)
    # delivered wrong (合格 with 55) and corrected the next day: the latest delivery wins
    p = c.person()
    exam2, r2 = c.exam(occ, 4, at(d, 13), at(d, 14), [(p, "55", "80", "合格")])
    c.csv("exam_results", dict(result_id=r2[0], exam_id=exam2, id_number=p.id_number, name=p.name, theory_score="65",
                               practical_score="80", passed="合格", recorded_at=local_time(at(d + 1, 10))), d + 1)
    c.label("SCORE_FLAG_MISMATCH", r2[0], False, "a corrected delivery the next day fixes the score", ready=d + 1)
    return True

