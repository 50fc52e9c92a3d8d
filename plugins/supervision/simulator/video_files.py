"""The video platform's JSON Lines files of a range: each shard's daily file, late files,
re-deliveries and truncated resends, with event ids that hash the event's content, and bad lines."""
from __future__ import annotations

import zlib
from collections import Counter, defaultdict

import numpy as np

from supervision.simulator import scenarios as sc
from supervision.simulator.delivery import MAX_VIDEO_LATE, Delivery
from supervision.simulator.formats import gzip_bytes, write_atomic
from supervision.simulator.util import DAY, HMS, day_rng, ddate, dstr, hkey, hu
from supervision.simulator.world import WS

STATE_NAMES = ("online", "offline", "occluded", "tampered")


class VideoFiles(Delivery):
    """The gzipped JSON Lines files delivered in the range, written under ``landing/video``."""

    def _video(self) -> None:
        """Files delivered on first..last: for each date D in [first-3, last], each shard's file is
        delivered on D (or up to 3 days late); some are re-delivered (repeating event ids), some
        re-deliveries arrive truncated."""
        w, seed = self.w, self.seed
        for D in range(max(WS, self.first - MAX_VIDEO_LATE), self.last + 1):
            plan = []   # (file name, delivery day, shard, subset-kind)
            for s in range(w.n_shards):
                lag = int(hu(seed, "late", D, s) < 0.05) * (1 + int(hu(seed, "late-d", D, s) * MAX_VIDEO_LATE))
                plan.append((f"vms-{s:02d}.jsonl.gz", D + lag, s, "all"))
                if hu(seed, "redeliver", D, s) < 0.04:
                    rd = D + 1 + int(hu(seed, "redeliver-d", D, s) * MAX_VIDEO_LATE)
                    plan.append((f"vms-{s:02d}-r{ddate(rd).strftime('%Y%m%d')}.jsonl.gz", rd, s, "redeliver"))
            if hu(seed, "truncated", D) < self.p("gzip"):
                s = int(hu(seed, "truncated-s", D) * w.n_shards)
                plan.append((f"vms-{s:02d}-resend.jsonl.gz", D + 1, s, "truncated"))
            out = self.scen.get(D)
            extra_files: dict[tuple[str, int], list[tuple]] = defaultdict(list)
            if out:
                rng = day_rng(seed, D, "streams")
                for _site, st in out.streams:
                    if st.file:
                        extra_files[st.file].extend(st.events(rng))
            for (name, dd), events in sorted(extra_files.items()):
                if self.first <= dd <= self.last:
                    self._write_video(D, dd, name, self._scenario_arrays(events))
            needed = [p for p in plan if self.first <= p[1] <= self.last]
            if not needed:
                continue
            shard_events = {}
            for s in sorted({p[2] for p in needed}):
                shard_events[s] = self._shard_events(D, s, out)
            for name, dd, s, kind in needed:
                ev = shard_events[s]
                if kind == "all":
                    self._write_video(D, dd, name, ev, faults=True, presorted=True)
                else:
                    n = len(ev["t"])
                    rng = day_rng(seed, D, f"subset-{s}-{kind}")
                    keep = np.sort(rng.choice(n, size=max(1, int(n * rng.uniform(0.2, 0.6))), replace=False)) if n else \
                        np.zeros(0, np.int64)
                    sub = {k: v[keep] for k, v in ev.items()}
                    self._write_video(D, dd, name, sub, truncate=(kind == "truncated"), presorted=True)

    def _shard_events(self, D: int, s: int, out: sc.Out | None) -> dict[str, np.ndarray]:
        """All events of shard ``s`` on date D, sorted, with their event ids (the same every time)."""
        bg = self.bg
        ev = bg.video_events(D, s, self.ci_act)
        names = np.array(self.cam_names, dtype=object)
        tr = ev["tr"]
        tr_names = np.full(len(tr), None, dtype=object)
        face = tr >= 0
        tr_names[face] = [bg.trainee_id_of(int(x)) for x in tr[face]]
        arr = dict(cam=names[ev["cam"]], t=ev["t"], type=ev["type"].astype(np.int64), val=ev["val"],
                   tr=tr_names, score=ev["score"])
        if out:
            rng = day_rng(self.seed, D, f"streams-{s}")
            evs = []
            for site, st in out.streams:
                if site >= 0 and st.file is None and self.w.sites[site].shard == s:
                    evs.extend(st.events(rng))
            if evs:
                sa = self._scenario_arrays(evs)
                arr = {k: np.concatenate([arr[k], sa[k]]) for k in arr}
        return _sorted_with_ids(arr, self.seed, D, f"ids-{s}")

    def _scenario_arrays(self, events: list[tuple]) -> dict[str, np.ndarray]:
        if not events:
            return dict(cam=np.zeros(0, object), t=np.zeros(0, np.int64), type=np.zeros(0, np.int64),
                        val=np.zeros(0, np.int64), tr=np.zeros(0, object), score=np.zeros(0))
        cam, t, typ, val, tr, score = zip(*events, strict=True)
        return dict(cam=np.array(cam, dtype=object), t=np.array(t, dtype=np.int64), type=np.array(typ, dtype=np.int64),
                    val=np.array(val, dtype=np.int64), tr=np.array(tr, dtype=object), score=np.array(score, dtype=float))

    def _write_video(self, D: int, delivered: int, name: str, ev: dict[str, np.ndarray], faults: bool = False,
                     truncate: bool = False, presorted: bool = False) -> None:
        """Write a file of date D's events, delivered on ``delivered`` (faults are recorded then)."""
        if not presorted:
            ev = _sorted_with_ids(ev, self.seed, D, f"ids-{name}")
        rel = f"video/date={dstr(D)}/{name}"
        lines = _video_lines(ev)
        if faults:
            lines = self._video_faults(D, delivered, rel, lines, ev)
        data = ("\n".join(lines) + "\n").encode("utf-8") if lines else b""
        blob = gzip_bytes(data)
        if truncate:
            cut = int(len(blob) * day_rng(self.seed, D, "cut-" + name).uniform(0.5, 0.9))
            blob = blob[:cut]
            self.fault(delivered, "video", rel, "truncated_gzip", 1)
        write_atomic(self.landing / rel, blob)
        self.n_video_files += 1
        self.n_video_events += len(lines)

    def _video_faults(self, D: int, delivered: int, rel: str, lines: list[str], ev: dict[str, np.ndarray]) -> list[str]:
        """Bad lines that carry no information a rule could use: garbage, fresh event ids with a field
        missing, unknown types and cameras, and local times without offset on cameras of sites that
        never host a session."""
        rng = day_rng(self.seed, D, "vfault-" + rel)
        n = len(lines)
        if not n:
            return lines
        idle_cams = self._idle_cameras(D)
        bad: list[str] = []
        counts: Counter = Counter()
        hdr = [i for i in range(n) if ev["type"][i] != 0][:1000] or [0]
        for fault in ("not_json", "missing_field", "unknown_type", "unknown_camera", "ts_without_offset"):
            if rng.random() >= self.p(fault):
                continue
            for _ in range(int(rng.integers(1, 4))):
                uid = _uuid(rng.bytes(16))
                j = hdr[int(rng.integers(0, len(hdr)))]
                cam, ts = ev["cam"][j], _iso(int(ev["t"][j]))
                if fault == "not_json":
                    line = rng.choice(['{"event_id": "' + uid + '", "camera_id": "' + cam, "HTTP/1.1 502 Bad Gateway",
                                       "\\x00\\x00 stream reset"])
                elif fault == "missing_field":
                    line = (f'{{"event_id":"{uid}","camera_id":"{cam}","type":"headcount","count":3}}' if rng.random() < 0.5
                            else f'{{"event_id":"{uid}","camera_id":"{cam}","ts":"{ts}","type":"headcount"}}')
                elif fault == "unknown_type":
                    line = f'{{"event_id":"{uid}","camera_id":"{cam}","ts":"{ts}","type":"motion","level":2}}'
                elif fault == "unknown_camera":
                    line = f'{{"event_id":"{uid}","camera_id":"CAM99999{int(rng.integers(0, 1000)):03d}1","ts":"{ts}","type":"headcount","count":4}}'
                else:
                    if not idle_cams:
                        continue
                    c = idle_cams[int(rng.integers(0, len(idle_cams)))]
                    local = f"{dstr(D)}T{HMS[12 * 3600 + int(rng.integers(0, 3600))]}"
                    line = f'{{"event_id":"{uid}","camera_id":"{c}","ts":"{local}","type":"headcount","count":0}}'
                bad.append(str(line))
                counts[fault] += 1
        for line in bad:
            lines.insert(int(rng.integers(0, len(lines) + 1)), line)
        for f, k in sorted(counts.items()):
            self.fault(delivered, "video", rel, f, k)
        return lines

    def _idle_cameras(self, D: int) -> list[str]:
        """Cameras of background sites that host no session on D-1..D+1: an event there means nothing
        to any rule, whichever way a loader reads a time without offset (local or UTC)."""
        S = self.w.classes.sessions(self.ci_act)
        busy = set(S["site"][(S["day"] >= D - 1) & (S["day"] <= D + 1)].tolist())
        return [c for s in self.w.sites if s.role != "room" and s.idx not in busy for c in s.cameras]


def _iso(ls: int) -> str:
    d, s = divmod(int(ls), DAY)
    return f"{dstr(d)}T{HMS[s]}+08:00"


def _uuid(b: bytes) -> str:
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:32]}"


def _crc(values: np.ndarray) -> np.ndarray:
    table: dict[object, int] = {}
    return np.array([table.setdefault(v, zlib.crc32(str(v).encode()) if v is not None else 0) for v in values.tolist()],
                    dtype=np.int64)


def _sorted_with_ids(ev: dict[str, np.ndarray], seed: int, D: int, stream: str) -> dict[str, np.ndarray]:
    """Events sorted by (ts, camera, type, value, score), each with a UUID (v4 layout) that is a hash
    of the event's own content: a re-delivery repeats exactly the ids of the events it repeats,
    whatever else was generated beside them."""
    n = len(ev["t"])
    if n == 0:
        return dict(ev, id=np.zeros(0, object))
    cam_code = _crc(ev["cam"])
    tr_code = _crc(ev["tr"])
    score = np.round(ev["score"] * 1000).astype(np.int64)
    order = np.lexsort((tr_code, score, ev["val"], ev["type"], cam_code, ev["t"]))
    out = {k: v[order] for k, v in ev.items()}
    keys = [cam_code[order], out["t"], out["type"], out["val"], score[order], tr_code[order]]
    h1 = hkey(seed, "event-id-1", *keys)
    h2 = hkey(seed, "event-id-2", *keys)
    out["id"] = np.array([_uuid_hex(f"{a:016x}{b:016x}") for a, b in zip(h1.tolist(), h2.tolist(), strict=True)],
                         dtype=object)
    return out


def _uuid_hex(h: str) -> str:
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:32]}"


def _video_lines(ev: dict[str, np.ndarray]) -> list[str]:
    lines = []
    iso_cache: dict[int, str] = {}
    for eid, cam, t, typ, val, tr, score in zip(ev["id"].tolist(), ev["cam"].tolist(), ev["t"].tolist(),
                                                 ev["type"].tolist(), ev["val"].tolist(), ev["tr"].tolist(),
                                                 ev["score"].tolist(), strict=True):
        d, s = divmod(t, DAY)
        pre = iso_cache.get(d)
        if pre is None:
            pre = iso_cache[d] = dstr(d) + "T"
        ts = f"{pre}{HMS[s]}+08:00"
        if typ == 0:
            lines.append(f'{{"event_id":"{eid}","camera_id":"{cam}","ts":"{ts}","type":"status","state":"{STATE_NAMES[val]}"}}')
        elif typ == 1:
            lines.append(f'{{"event_id":"{eid}","camera_id":"{cam}","ts":"{ts}","type":"headcount","count":{val}}}')
        else:
            who = f'"{tr}"' if tr is not None else "null"
            lines.append(f'{{"event_id":"{eid}","camera_id":"{cam}","ts":"{ts}","type":"face","trainee_id":{who},"score":{score:.3f}}}')
    return lines

