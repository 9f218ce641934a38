#!/usr/bin/env python3
"""Per-day tallies of a tutoring stream (JSON lines on stdin), for issue 29's audit:
each type's share, churn_risk and balance_status shares, health_score mean and range,
available_tutors and active_students ranges. Usage:

    kafka-gen run --world tutoring --start 2025-01-06T00:00:00Z --end 2025-01-09T00:00:00Z \
        --sink stdout --seed 1 --stats-interval 0 | python3 scripts/tutoring_days.py
"""
import collections
import json
import sys

TYPES = ["session_started", "session_completed", "ib_call_logged",
         "tutor_availability_updated", "customer_health_update", "supply_demand_update"]


def main():
    days = collections.defaultdict(lambda: {
        "types": collections.Counter(), "churn": collections.Counter(),
        "balance": collections.Counter(), "health": [], "tutors": [], "students": []})
    for line in sys.stdin:
        e = json.loads(line)
        p = e["payload"]
        d = days[p["timestamp"][:10]]
        t = e["event_type"]
        d["types"][t] += 1
        if t == "customer_health_update":
            d["churn"][p["churn_risk"]] += 1
            d["health"].append(p["health_score"])
        elif t == "supply_demand_update":
            d["balance"][p["balance_status"]] += 1
            d["tutors"].append(p["available_tutors"])
            d["students"].append(p["active_students"])
    for day in sorted(days):
        d = days[day]
        n = sum(d["types"].values())
        shares = " ".join(f"{t.split('_')[0][:4]}={100 * d['types'][t] / n:.1f}" for t in TYPES)
        def pct(c, keys):
            m = sum(c.values()) or 1
            return "/".join(f"{100 * c[k] / m:.0f}" for k in keys)
        def rng(xs):
            if not xs:
                return "-"
            return f"{min(xs)}..{max(xs)} mean {sum(xs) / len(xs):.1f}"
        print(f"{day} n={n} {shares} | churn l/m/h {pct(d['churn'], ['low', 'medium', 'high'])}"
              f" | balance b/hd/o {pct(d['balance'], ['balanced', 'high_demand', 'oversupplied'])}"
              f" | health {rng(d['health'])} | tutors {rng(d['tutors'])}"
              f" | students {rng(d['students'])}")


if __name__ == "__main__":
    main()
