#!/usr/bin/env python3
"""Independent check of what kafka-gen put into Kafka, with the confluent-kafka client.

Reads every partition of every event-type topic from the beginning up to its high watermark
and checks, against kafka-gen's --summary-json output:
  * records per topic == the kafka sink's delivered count for that type;
  * every value is a JSON object of that event type, every event_id is unique overall;
  * the key is the value of the type's key field;
  * headers event_type, schema_version, content-type, producer are as specified;
  * the record timestamp is a create-time timestamp equal to the event_time.
Exit 0 when all hold, 1 with the first problems listed otherwise.

  python3 scripts/check_topics.py --bootstrap 127.0.0.1:9092 --summary summary.json \
      [--type sale:retail-sales-transactions:store_id ...] [--producer kafka-gen/0.1.0]
"""
import argparse
import json
import sys
import time
from datetime import datetime

from confluent_kafka import OFFSET_BEGINNING, TIMESTAMP_CREATE_TIME, Consumer, TopicPartition

DEFAULT_TYPES = [
    "sale:retail-sales-transactions:store_id",
    "inventory_update:retail-inventory-updates:store_id",
    "customer_event:retail-customer-events:customer_id",
    "price_change:retail-price-changes:sku",
    "restock_alert:retail-restock-alerts:store_id",
]


def event_time_ms(text):
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000 + 0.5)


def read_topic(consumer, topic, timeout_s, settle_s):
    """Yields every message of `topic` from the beginning.

    Reads at least up to each partition's high watermark, then on until nothing new arrives
    for `settle_s` seconds: Tansu 0.6.0 reports a high watermark at the start of the last
    batch rather than its end, so the watermark is only a lower bound there.
    """
    md = consumer.list_topics(topic, timeout=timeout_s)
    if topic not in md.topics or md.topics[topic].error is not None:
        raise SystemExit(f"topic {topic} does not exist")
    partitions = list(md.topics[topic].partitions)
    remaining = {}
    for p in partitions:
        low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=timeout_s)
        if high > low:
            remaining[p] = high
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
    quiet_since = time.monotonic()
    while True:
        batch = consumer.consume(num_messages=10000, timeout=0.2)
        now = time.monotonic()
        if not batch:
            if remaining and now - quiet_since > timeout_s:
                raise SystemExit(f"{topic}: stalled below the high watermark of partitions {remaining}")
            if not remaining and now - quiet_since > settle_s:
                break
            continue
        quiet_since = now
        for m in batch:
            if m.error():
                raise SystemExit(f"{topic}: consumer error {m.error()}")
            yield m
            if m.offset() + 1 >= remaining.get(m.partition(), 0):
                remaining.pop(m.partition(), None)
    consumer.unassign()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bootstrap", default="127.0.0.1:9092")
    ap.add_argument("--summary", required=True, help="kafka-gen --summary-json output")
    ap.add_argument("--type", action="append", dest="types", help="NAME:TOPIC:KEY_FIELD (repeatable)")
    ap.add_argument("--producer", default=None, help="expected producer header, e.g. kafka-gen/0.1.0")
    ap.add_argument("--timeout", type=float, default=30.0)
    ap.add_argument("--settle", type=float, default=2.0, help="seconds without new records that end a topic")
    args = ap.parse_args()

    summary = json.load(open(args.summary))
    kafka = [s for s in summary["sinks"] if s["name"] == "kafka"]
    if not kafka:
        raise SystemExit("the summary has no kafka sink")
    delivered = kafka[0]["delivered"]

    consumer = Consumer({
        "bootstrap.servers": args.bootstrap,
        "group.id": "kafka-gen-check",
        "enable.auto.commit": False,
        "enable.partition.eof": False,
    })
    problems = []
    seen_ids = set()
    total = 0
    for spec in args.types or DEFAULT_TYPES:
        name, topic, key_field = spec.split(":")
        count = 0
        for m in read_topic(consumer, topic, args.timeout, args.settle):
            count += 1
            where = f"{topic}[{m.partition()}]@{m.offset()}"
            try:
                value = json.loads(m.value())
            except Exception as e:  # noqa: BLE001 - any parse failure is the finding
                problems.append(f"{where}: value is not JSON ({e})")
                continue
            if value.get("event_type") != name:
                problems.append(f"{where}: event_type {value.get('event_type')!r}, expected {name!r}")
            eid = value.get("event_id")
            if eid in seen_ids:
                problems.append(f"{where}: duplicate event_id {eid}")
            seen_ids.add(eid)
            key = m.key().decode() if m.key() is not None else None
            if key != str(value.get(key_field)):
                problems.append(f"{where}: key {key!r} != {key_field} {value.get(key_field)!r}")
            headers = {k: v.decode() for k, v in (m.headers() or [])}
            want = {"event_type": name, "schema_version": str(value.get("schema_version")),
                    "content-type": "application/json"}
            for k, v in want.items():
                if headers.get(k) != v:
                    problems.append(f"{where}: header {k}={headers.get(k)!r}, expected {v!r}")
            producer = headers.get("producer", "")
            if not producer.startswith("kafka-gen/") or (args.producer and producer != args.producer):
                problems.append(f"{where}: header producer={producer!r}")
            ts_type, ts = m.timestamp()
            if ts_type != TIMESTAMP_CREATE_TIME or ts != event_time_ms(value["event_time"]):
                problems.append(f"{where}: timestamp {ts_type}/{ts} != event_time {value.get('event_time')}")
            if len(problems) > 20:
                break
        want_count = delivered.get(name, 0)
        status = "ok" if count == want_count else "MISMATCH"
        print(f"{topic:32} {count:>10} records; kafka-gen delivered {want_count:>10}  {status}")
        if count != want_count:
            problems.append(f"{topic}: {count} records, kafka-gen says it delivered {want_count}")
        total += count
    consumer.close()
    print(f"total {total} records, {len(seen_ids)} distinct event ids; generated {summary['generated_total']}")
    if summary["generated_total"] != total:
        problems.append(f"generated {summary['generated_total']} events but {total} arrived")
    if problems:
        print("FAILED:\n  " + "\n  ".join(problems[:20]), file=sys.stderr)
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
