# Parse Prometheus text exposition from stdin with the reference client's parser (Debian python3-prometheus-client:
# prometheus_client.parser.text_string_to_metric_families) and print the families as JSON. A malformed page
# raises, and the script exits non-zero with the parser's message.
import json
import sys

from prometheus_client.parser import text_string_to_metric_families

out = []
for fam in text_string_to_metric_families(sys.stdin.read()):
    out.append({
        "name": fam.name,
        "type": fam.type,
        "help": fam.documentation,
        "samples": [{"name": s.name, "labels": s.labels, "value": s.value} for s in fam.samples],
    })
json.dump(out, sys.stdout)
