#!/usr/bin/env python3
"""Realism figures of a retail event stream (issue 12), read from JSONL.

    kafka-gen --sink stdout --seed 7 --start 2025-01-01T00:00:00Z --count 300000 \
        | python3 bench/retail-realism.py [--data-dir data]

Prints:
- the span of the stream in simulated days;
- mean price / list price over the run: the mean over products of current price / list
  price, averaged over every price change (time-weighted by event count), its lowest value,
  its value at the end, and the lowest single product's ratio seen;
- the share of price changes that move against their reason (promotion, clearance and
  competitor_match must lower the price, cost_increase must raise it, promotion_end must
  restore the price the promotion replaced);
- the share of promotion_end events with no promotion active for the sku;
- the share of online and mobile-app sales paid in cash, counted per transaction (so a basket
  sold as several line events counts once).

Reads both the old sale shape (one event with `items`) and the line-item grain (one event
per line with `product_id`).
"""

import argparse
import json
import sys
from datetime import datetime

LOWER = {"promotion", "clearance", "competitor_match"}
RAISE = {"cost_increase"}


def cents(x):
    return round(float(x) * 100)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("file", nargs="?", help="JSONL stream (default: stdin)")
    ap.add_argument("--data-dir", default="data", help="retail master data (products.json)")
    args = ap.parse_args()

    with open(f"{args.data_dir}/products.json") as f:
        products = json.load(f)
    list_price = {p["sku"]: cents(p["base_price"]) for p in products}
    price = dict(list_price)
    ratio_sum = sum(price[s] / list_price[s] for s in price)
    n = len(price)

    first = last = None
    means = []
    lowest_single = 1.0
    changes = against = 0
    against_by = {}
    promo = {}  # sku -> the price the open promotion replaced
    ends = ends_inactive = 0
    remote_tx = {}  # transaction_id -> payment method, for online/mobile_app sales

    src = open(args.file) if args.file else sys.stdin
    for line in src:
        line = line.strip()
        if not line:
            continue
        e = json.loads(line)
        t = e.get("event_time")
        if t:
            first = first or t
            last = t
        ty = e.get("event_type")
        if ty == "price_change":
            sku, reason = e["sku"], e["reason"]
            old, new = cents(e["old_price"]), cents(e["new_price"])
            changes += 1
            wrong = False
            if reason in LOWER:
                wrong = new >= old
            elif reason in RAISE:
                wrong = new <= old
            elif reason == "promotion_end":
                ends += 1
                if sku not in promo:
                    ends_inactive += 1
                    wrong = True
                else:
                    wrong = new != promo[sku]
            if wrong:
                against += 1
                against_by[reason] = against_by.get(reason, 0) + 1
            if reason == "promotion":
                promo.setdefault(sku, old)
            elif reason == "promotion_end":
                promo.pop(sku, None)
            if sku in price:
                ratio_sum += new / list_price[sku] - price[sku] / list_price[sku]
                price[sku] = new
                lowest_single = min(lowest_single, new / list_price[sku])
            means.append(ratio_sum / n)
        elif ty == "sale" and e.get("channel") in ("online", "mobile_app"):
            remote_tx[e["transaction_id"]] = e.get("payment_method")

    def days(a, b):
        parse = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))
        return (parse(b) - parse(a)).total_seconds() / 86400

    print(f"span: {first} .. {last} ({days(first, last):.1f} simulated days)")
    if means:
        print(
            f"mean price / list: over the run {sum(means) / len(means):.3f}, "
            f"lowest {min(means):.3f}, at the end {means[-1]:.3f}, "
            f"lowest single product {lowest_single:.3f}"
        )
    share = against / changes if changes else 0.0
    detail = ", ".join(f"{k} {v}" for k, v in sorted(against_by.items()))
    print(f"price changes against their reason: {against}/{changes} = {share:.4f} ({detail})")
    share = ends_inactive / ends if ends else 0.0
    print(f"promotion_end with no active promotion: {ends_inactive}/{ends} = {share:.4f}")
    cash = sum(1 for m in remote_tx.values() if m == "cash")
    share = cash / len(remote_tx) if remote_tx else 0.0
    print(f"online+mobile_app sales paid in cash: {cash}/{len(remote_tx)} = {share:.4f}")


if __name__ == "__main__":
    main()
