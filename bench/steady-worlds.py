#!/usr/bin/env python3
"""Per-day figures of a long world run (issue 29): does a month look like its first day?

    kafka-gen --world worlds/bnpl.yaml --data-dir D --seed 1 --start 2025-01-01T00:00:00Z \
        --end 2025-01-31T00:00:00Z --events-per-day 86400 --sink file --output /tmp/b.jsonl
    python3 bench/steady-worlds.py bnpl /tmp/b.jsonl --data-dir D

Worlds and what each day shows:
- bnpl: transactions, purchases per customer a day, repayments, defaults, mean credit score,
  the share of scores at 300 and of risks at the 0.95 cap; at the end the realised default
  rate of the plans settled in the run (defaulted / repaid or defaulted).
- music: plays, the share of plays that start before the same user's previous play ended,
  users playing at once (play time / seconds in the day), the top song's share and songs never
  played, and the share of Japanese plays at 00-06 local time (needs --data-dir).
- web: the type mix, sessions created and ended; at the end the sessions never ended.
- retail: the type mix, the restock alerts' share, and stock levels seen on inventory updates.
"""

import argparse
import json
import sys
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone


def events(path):
    if path == "-":
        for line in sys.stdin:
            if line.strip():
                yield json.loads(line)
        return
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                yield json.loads(line)


def ms(e):
    t = e.get("event_time") or e.get("timestamp") or e.get("played_at")
    return int(datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp() * 1000)


def day(e):
    t = e.get("event_time") or e.get("timestamp") or e.get("played_at")
    return t[:10]


def load(data_dir, kind):
    if not data_dir:
        return None
    with open(f"{data_dir}/{kind}.json") as f:
        return json.load(f)


def bnpl(path, data_dir):
    customers = load(data_dir, "customers")
    n_cust = len(customers) if customers else None
    per = defaultdict(Counter)
    score = defaultdict(float)
    settled = Counter()
    for e in events(path):
        d = day(e)
        t = e["event_type"]
        per[d][t] += 1
        if t == "transaction":
            score[d] += e["credit_score"]
            per[d]["at300"] += e["credit_score"] <= 300
            per[d]["capped"] += e["default_risk"] >= 0.95
            per[d]["risk_sum_x1e6"] += round(e["default_risk"] * 1e6)
        elif t == "default":
            settled["defaulted"] += 1
        elif t == "repayment" and e.get("remaining_balance") == 0:
            settled["repaid"] += 1
    print("day         txn   /cust/day  repay  default  mean_score  at_300  risk_capped  mean_risk")
    for d in sorted(per):
        c = per[d]
        tx = c["transaction"] or 1
        pc = f"{c['transaction'] / n_cust:9.3f}" if n_cust else "        -"
        print(
            f"{d} {c['transaction']:7d} {pc} {c['repayment']:7d} {c['default']:7d} "
            f"{score[d] / tx:10.1f} {c['at300'] / tx:7.3f} {c['capped'] / tx:11.3f} "
            f"{c['risk_sum_x1e6'] / 1e6 / tx:9.4f}"
        )
    s = settled["defaulted"] + settled["repaid"]
    print(f"settled plans {s}: defaulted {settled['defaulted']} = "
          f"{settled['defaulted'] / max(s, 1):.4f}")


def tz_of(loc):
    # The same zones as worlds/music.yaml's `tz`, for the share of local night plays.
    return {"JP": 9}.get(loc["country_code"])


def music(path, data_dir):
    locs = {l["location_id"]: l for l in (load(data_dir, "locations") or [])}
    songs = load(data_dir, "songs")
    per = defaultdict(Counter)
    play_ms = Counter()
    last_end = {}
    song_count = Counter()
    for e in events(path):
        d = day(e)
        t = ms(e)
        c = per[d]
        c["plays"] += 1
        u = e["user_id"]
        if u in last_end and t < last_end[u]:
            c["overlap"] += 1
        last_end[u] = max(last_end.get(u, 0), t + e["play_duration_ms"])
        play_ms[d] += e["play_duration_ms"]
        song_count[e["song_id"]] += 1
        c["song:" + e["song_id"]] += 1
        loc = locs.get(e["location_id"])
        if loc and loc["country_code"] == "JP":
            c["jp"] += 1
            h = (datetime.fromtimestamp(t / 1000, timezone.utc) + timedelta(hours=9)).hour
            c["jp_night"] += h < 6
    print("day          plays  overlap  playing_at_once  top_song  jp_00-06")
    for d in sorted(per):
        c = per[d]
        top = max((v for k, v in c.items() if k.startswith("song:")), default=0)
        jp = f"{c['jp_night'] / c['jp']:.3f}" if c["jp"] else "-"
        print(f"{d} {c['plays']:7d} {c['overlap'] / c['plays']:8.3f} "
              f"{play_ms[d] / 86_400_000:16.1f} {top / c['plays']:9.4f} {jp:>9}")
    total = sum(song_count.values())
    top = song_count.most_common(1)[0][1] if song_count else 0
    never = (len(songs) - len(song_count)) if songs else "-"
    print(f"plays {total}: top song {top / max(total, 1):.4f}, songs never played {never}")


def web(path, _data_dir):
    per = defaultdict(Counter)
    open_ = set()
    types = set()
    for e in events(path):
        d = day(e)
        t = e["event_type"]
        types.add(t)
        per[d][t] += 1
        if t == "session_created":
            open_.add(e["session_id"])
        elif t == "session_ended":
            open_.discard(e["session_id"])
    types = sorted(types)
    print("day        " + " ".join(f"{t[:14]:>14}" for t in types) + "   events")
    for d in sorted(per):
        c = per[d]
        n = sum(c.values())
        print(f"{d} " + " ".join(f"{c[t] / n:14.3f}" for t in types) + f" {n:8d}")
    created = sum(c["session_created"] for c in per.values())
    print(f"sessions {created}: never ended {len(open_)}")


def retail(path, _data_dir):
    per = defaultdict(Counter)
    stock = defaultdict(list)
    types = set()
    for e in events(path):
        d = day(e)
        t = e["event_type"]
        types.add(t)
        per[d][t] += 1
        if t == "inventory_update":
            q = e.get("stock_after")
            if q is not None:
                stock[d].append(q)
    types = sorted(types)
    print("day        " + " ".join(f"{t[:14]:>14}" for t in types) + "   events  stock_p50  zero")
    for d in sorted(per):
        c = per[d]
        n = sum(c.values())
        s = sorted(stock[d])
        p50 = s[len(s) // 2] if s else "-"
        zero = f"{sum(1 for q in s if q == 0) / len(s):.3f}" if s else "-"
        print(f"{d} " + " ".join(f"{c[t] / n:14.3f}" for t in types) + f" {n:8d} {p50:>9} {zero:>5}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("world", choices=["bnpl", "music", "web", "retail"])
    ap.add_argument("file", help="JSONL stream")
    ap.add_argument("--data-dir", help="the world's master data (kafka-gen master --out DIR)")
    args = ap.parse_args()
    {"bnpl": bnpl, "music": music, "web": web, "retail": retail}[args.world](args.file, args.data_dir)


if __name__ == "__main__":
    sys.exit(main())
