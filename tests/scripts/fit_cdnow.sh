#!/usr/bin/env bash
# crm import cdnow + crm fit on the CDNOW sample (../shared/data beside the clone): the JSON
# objects carry the published estimates, the models are saved in the store (and not with
# --no-save), --report writes the tracking charts, and a second import into the store fails.
set -euo pipefail
crm="$1"; project="$2"
data="$project/../shared/data/cdnow/CDNOW_sample.txt"
[ -f "$data" ] || { echo "fit_cdnow: missing $data (the shared data beside the clone)"; exit 1; }
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cd "$work"
"$crm" import cdnow --db cd.db "$data" 2> import.err
grep -q "2357 customers, 6919 orders" import.err || { cat import.err; exit 1; }
if "$crm" import cdnow --db cd.db "$data" 2> again.err; then echo "a second import should fail"; exit 1; fi
grep -q "already holds customers" again.err || { cat again.err; exit 1; }

"$crm" fit --db cd.db --holdout-from 1997-10-01 --format json --report fit.html > fit.jsonl
python3 - fit.jsonl <<'PY'
import json, sys
rows = {j["model"]: j for j in map(json.loads, open(sys.argv[1]))}
published = {
    "bgnbd": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426, "log_likelihood": -9582.4},
    "pareto_nbd": {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669, "log_likelihood": -9595.0},
    "gamma_gamma": {"p": 6.25, "q": 3.74, "gamma": 15.44},
}
bad = []
for model, params in published.items():
    j = rows[model]
    for k, v in params.items():
        decimals = len(str(v).split(".")[1])
        if abs(j[k] - v) > 0.5 * 10 ** -decimals + 1e-12:
            bad.append(f"{model}.{k} = {j[k]} (published {v})")
        if k != "log_likelihood" and not (j["se"][k] and j["se"][k] > 0):
            bad.append(f"{model}.se.{k} = {j['se'][k]}")
for model in ("bgnbd", "pareto_nbd"):
    h = rows[model]["holdout"]
    if h["actual"] != 1882 or len(h["by_x"]) != 8 or abs(h["expected"] / h["actual"] - 1) > 0.15:
        bad.append(f"{model} holdout {h['actual']} vs {h['expected']}")
if rows["bgnbd"]["unit"] != "weeks" or rows["bgnbd"]["as_of"] != "1997-09-30":
    bad.append("unit / as_of")
if bad:
    print("\n".join(bad)); sys.exit(1)
PY
grep -q "<svg" fit.html && grep -q "Cumulative repeat purchases" fit.html || { echo "report without charts"; exit 1; }
grep -qi "nan\|inf<" fit.jsonl fit.html && { echo "NaN or inf in the output"; exit 1; }

rows=$(sqlite3 cd.db "SELECT name || ' ' || as_of FROM models ORDER BY name")
[ "$rows" = "bgnbd 1997-09-30
gamma_gamma 1997-09-30
pareto_nbd 1997-09-30" ] || { echo "models table: $rows"; exit 1; }
"$crm" fit --db cd.db --no-save --models bgnbd --unit days > days.txt
grep -q "time unit: days" days.txt || { cat days.txt; exit 1; }
[ "$(sqlite3 cd.db 'SELECT count(*) FROM models')" = 3 ] || { echo "--no-save wrote to the store"; exit 1; }
"$crm" analyze next-purchase --db cd.db --top 3 > next.txt
grep -q "^CD (CD): 6696 purchases" next.txt || { head -5 next.txt; exit 1; }
echo "fit_cdnow: ok"
