"""Social behaviour: plain functions over a unit of work (no Flask, no pika)."""
