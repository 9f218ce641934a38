#!/usr/bin/env python3
"""Dates, opening hours and shelves of a retail stream, as an analyst would check them.

Usage: bench/retail-availability.py STREAM.jsonl|- MASTER_DIR [--weight 0.05] [--sample-mins 60]

Reads a JSONL retail stream (in generation order) and the master data it was made from, and
prints:
  - sales (and all events) naming a customer before the customer's signup, and naming a store
    before the store's opening;
  - in-store sales outside the store's opening hours;
  - on-shelf availability (share of (store, sku) pairs with stock > 0) sampled every
    --sample-mins of event time over the run, and at the end;
  - the restock alert share of primary events against its weight.

A store's day starts at local midnight in the store's time zone, and so does a customer's
signup date (in the home store's zone). A store without `timezone` or `opening_hours` gets the
defaults kafka-gen gives it (src/scenario/retail/hours.rs): the zone from its longitude and
"Mo-Sa 08:00-22:00; Su 10:00-18:00". Needs Python 3.9+ and the system's tz database.
"""

import argparse
import csv
import json
import os
import sys
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

DEFAULT_HOURS = "Mo-Sa 08:00-22:00; Su 10:00-18:00"
DAYS = ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"]


def load(dir_, kind):
    j, c = os.path.join(dir_, kind + ".json"), os.path.join(dir_, kind + ".csv")
    if os.path.exists(j):
        with open(j) as f:
            return json.load(f)
    with open(c, newline="") as f:
        return list(csv.DictReader(f))


def default_zone(lat, lon):
    """The zone kafka-gen gives a store without one: US zones by longitude inside the
    continental US, otherwise the nautical zone of the longitude."""
    if 24.0 <= lat <= 50.0 and -125.0 <= lon <= -66.0:
        if lon >= -87.5:
            return "America/New_York"
        if lon >= -101.0:
            return "America/Chicago"
        if lon >= -114.5:
            return "America/Denver"
        return "America/Los_Angeles"
    hours = round(lon / 15.0)
    return "UTC" if hours == 0 else f"Etc/GMT{-hours:+d}"


def parse_hours(text):
    """'Mo-Sa 08:00-22:00; Su 10:00-18:00' -> 7 entries of (open_min, close_min) or None."""
    week = [None] * 7
    for rule in text.split(";"):
        rule = rule.strip()
        if not rule:
            continue
        days, span = rule.split()
        chosen = []
        for part in days.split(","):
            if "-" in part:
                a, b = part.split("-")
                chosen += list(range(DAYS.index(a), DAYS.index(b) + 1))
            else:
                chosen.append(DAYS.index(part))
        if span == "off":
            hours = None
        else:
            o, c = span.split("-")
            hours = (int(o[:2]) * 60 + int(o[3:]), int(c[:2]) * 60 + int(c[3:]))
        for d in chosen:
            week[d] = hours
    return week


def parse_time(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


def day_start(d, tz):
    return datetime(d.year, d.month, d.day, tzinfo=tz).astimezone(timezone.utc)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("stream")
    ap.add_argument("master")
    ap.add_argument("--weight", type=float, default=0.05, help="restock_alert weight")
    ap.add_argument("--sample-mins", type=float, default=60.0)
    a = ap.parse_args()

    stores, products, customers = (load(a.master, k) for k in ("stores", "products", "customers"))
    tz, week, opened = {}, {}, {}
    for s in stores:
        zone = s.get("timezone") or default_zone(float(s["latitude"]), float(s["longitude"]))
        tz[s["store_id"]] = ZoneInfo(zone)
        week[s["store_id"]] = parse_hours(s.get("opening_hours") or DEFAULT_HOURS)
        opened[s["store_id"]] = day_start(date.fromisoformat(s["opened_on"]), tz[s["store_id"]])
    signup = {
        c["customer_id"]: day_start(date.fromisoformat(c["signup_date"]), tz[c["home_store_id"]])
        for c in customers
    }
    stock = {}
    for s in stores:
        for p in products:
            stock[(s["store_id"], p["sku"])] = int(p["initial_stock"])
    pairs = len(stock)
    zeros = sum(1 for v in stock.values() if v == 0)
    start_avail = 1 - zeros / pairs

    counts = dict(sales=0, in_store=0, sale_before_signup=0, sale_before_open=0,
                  event_before_signup=0, event_before_open=0, in_store_closed=0)
    primaries, alerts = 0, 0
    samples, next_sample, step = [], None, timedelta(minutes=a.sample_mins)
    first = last = None
    f = sys.stdin if a.stream == "-" else open(a.stream)
    for line in f:
        if not line.strip():
            continue
        e = json.loads(line)
        t = parse_time(e["event_time"])
        first = first or t
        last = t
        if next_sample is None:
            next_sample = t
        while t >= next_sample:
            samples.append(1 - zeros / pairs)
            next_sample += step
        kind = e["event_type"]
        if e.get("caused_by") is None:
            primaries += 1
            alerts += kind == "restock_alert"
        store = e.get("store_id") or e.get("home_store_id")
        cust = e.get("customer_id")
        before_signup = cust in signup and t < signup[cust]
        before_open = store in opened and t < opened[store]
        counts["event_before_signup"] += before_signup
        counts["event_before_open"] += before_open
        if kind == "sale":
            counts["sales"] += 1
            counts["sale_before_signup"] += before_signup
            counts["sale_before_open"] += before_open
            if e.get("channel") == "in_store":
                counts["in_store"] += 1
                local = t.astimezone(tz[store])
                hours = week[store][local.weekday()]
                minute = local.hour * 60 + local.minute
                if hours is None or not (hours[0] <= minute < hours[1]):
                    counts["in_store_closed"] += 1
        elif kind == "inventory_update":
            key = (e["store_id"], e["sku"])
            before, after = stock[key], int(e["stock_after"])
            zeros += (after == 0) - (before == 0)
            stock[key] = after
    samples.append(1 - zeros / pairs)

    c = counts
    days = (last - first).total_seconds() / 86400 if first else 0
    print(f"stream: {first} .. {last} ({days:.1f} days), {primaries} primary events")
    print(f"sales before customer signup: {c['sale_before_signup']} of {c['sales']}"
          f" (any event: {c['event_before_signup']})")
    print(f"sales before store opening: {c['sale_before_open']} of {c['sales']}"
          f" (any event: {c['event_before_open']})")
    print(f"in-store sales outside opening hours: {c['in_store_closed']} of {c['in_store']}"
          f" in-store sales ({c['sales']} sales)")
    mean = sum(samples) / len(samples)
    print(f"on-shelf availability: start {start_avail:.4f}, mean over the run {mean:.4f}"
          f" (min {min(samples):.4f}, {len(samples)} samples every {a.sample_mins:g} min),"
          f" end {samples[-1]:.4f}; band 0.92-0.97")
    share = alerts / primaries if primaries else 0.0
    print(f"restock alerts: {alerts} of {primaries} primaries = {share:.4f},"
          f" weight {a.weight:g}, ratio {share / a.weight:.3f}")


if __name__ == "__main__":
    main()
