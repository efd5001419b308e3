#!/usr/bin/env python3
"""A toy external evaluator for `tessera search` (protocol: docs/search.md).

Tessera starts this program once per worker thread and keeps it running. It reads one
design per line on stdin, {"id": 7, "design": {"x": 0.3, "units": 8}}, and answers one line
on stdout: a JSON object of metrics, or {"infeasible": "why"}, or {"error": "why"}.
Anything printed on stderr goes to the run folder's evaluator-stderr-W.log.

The model is a stand-in for a real simulator: a latency/area trade-off of a design with
`units` parallel units and a continuous knob `x`.
"""
import json
import sys

for line in sys.stdin:
    request = json.loads(line)
    d = request["design"]
    units, x = d["units"], d["x"]
    if units * x > 60:
        print(json.dumps({"infeasible": f"units * x = {units * x:.1f} exceeds the power budget 60"}), flush=True)
        continue
    latency = 100.0 / units + 10.0 * (1.0 - x) ** 2
    area = 0.5 * units + 2.0 * x
    print(f"design {request['id']}: latency {latency:.3f}", file=sys.stderr)
    print(json.dumps({"latency_ms": latency, "area_mm2": area}), flush=True)
