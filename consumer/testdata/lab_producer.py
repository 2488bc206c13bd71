"""The lab's reference producer, reduced to what it puts on the wire (LAB_GUIDE.md
Tasks 1.4 and 1.6): confluent-kafka with linger.ms 100, batch.size 16384 and snappy,
the record built and encoded as the lab's FastAPI handler does.

Usage: python3 lab_producer.py BOOTSTRAP TOPIC PAYMENT_ID CUSTOMER_ID CORRELATION_ID
Prints the record's created_at; exits 1 when Kafka did not acknowledge the record.
"""
import json
import sys
from datetime import datetime

from confluent_kafka import Producer

bootstrap, topic, payment_id, customer_id, correlation_id = sys.argv[1:6]

producer = Producer({
    "bootstrap.servers": bootstrap,
    "linger.ms": 100,
    "batch.size": 16384,
    "compression.type": "snappy",
})

payment_record = {
    "payment_id": payment_id,
    "amount": 99.99,
    "merchant_id": "MERCH-001",
    "customer_id": customer_id,
    "currency": "USD",
    "description": None,
    "status": "PENDING",
    "correlation_id": correlation_id,
    "created_at": datetime.now().isoformat(),
    "source": "lab-producer",
}

failures = []


def delivered(error, message):
    if error is not None:
        failures.append(str(error))


producer.produce(
    topic=topic,
    key=payment_id.encode("utf-8"),
    value=json.dumps(payment_record).encode("utf-8"),
    headers={
        "correlation_id": correlation_id.encode("utf-8"),
        "source": b"lab-producer",
    },
    on_delivery=delivered,
)
remaining = producer.flush(timeout=30)
if remaining or failures:
    print(f"not delivered: {failures or remaining}", file=sys.stderr)
    sys.exit(1)
print(payment_record["created_at"])
