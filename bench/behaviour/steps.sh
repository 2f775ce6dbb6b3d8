#!/usr/bin/env bash
# A fixed script of CLI steps for a renovation's "behaviour unchanged" check: run it on the old and the new
# code in fresh workspaces, then compare with bench/behaviour/compare.py.
#   bash bench/behaviour/steps.sh OUT_DIR [CHECKOUT]
# CHECKOUT (default: this one) goes first on PYTHONPATH, so one virtual environment runs either code.
# Each step's stdout, stderr and exit code land in OUT_DIR/NN-name.{out,err,rc}; the workspace's files
# (memos, scores, notices) are copied to OUT_DIR/files/. About 10 minutes on 2 cores (300 merchants).
set -uo pipefail
OUT=$(realpath -m "$1")
CHECKOUT=$(realpath "${2:-$(dirname "$0")/../..}")
HERE=$(realpath "$(dirname "$0")/../..")
PY="$HERE/.venv/bin/python"
SHARED=$(realpath "$HERE/../shared/data")
rm -rf "$OUT" && mkdir -p "$OUT/files"
WS="$OUT/workspace"
export PYTHONPATH="$CHECKOUT" HF_HUB_OFFLINE=1 UNDERWRITER_DEMO__MERCHANTS=300 PYTHONHASHSEED=0
n=0
step() {  # step NAME ARGS... : one `underwrite` command
    local name=$1; shift
    n=$((n + 1)); local tag; tag=$(printf "%02d-%s" "$n" "$name")
    (cd "$OUT" && "$PY" -m assistant.cli --workspace "$WS" -q "$@" >"$OUT/$tag.out" 2>"$OUT/$tag.err")
    echo $? >"$OUT/$tag.rc"
    echo "[behaviour] $tag rc=$(cat "$OUT/$tag.rc")"
}
step demo demo
step specs specs
APPLICANT=$(awk -F, 'NR>1 && $0 ~ /applicant/ {print $1; exit}' "$WS/demo/portfolio/merchants.csv")
RISKY=$(sort -t, -k2 -g -r "$WS/demo/scores.csv" | awk -F, '$4=="decline" {print $1; exit}')
echo "$APPLICANT $RISKY" >"$OUT/ids.txt"
step score score --model "$WS/models/merchant" --data "$WS/demo/portfolio/merchants.csv" --out "$OUT/files/scores.csv"
step evaluate evaluate-model --model "$WS/models/merchant" --data "$WS/demo/portfolio/merchants.csv"
step memo-md memo "$APPLICANT" --format md
step memo-json memo "$RISKY" --format json
step similar similar "$APPLICANT" --json
step search search "litigation or lawsuit" --merchant "$RISKY" --json
step chat chat "$RISKY" --ask "/score"
step chat-whatif chat "$RISKY" --ask "/recourse"
step notice notice "$RISKY" --out "$OUT/files/notice.md"
step lc-train train --spec lending_club --data "$SHARED/lc_small_business_2007_2010.csv" --out "$WS/models/lc" --no-refit
step lc-score score --model "$WS/models/lc" --data "$SHARED/lc_small_business_2007_2010.csv" --out "$OUT/files/lc_scores.csv" --reasons adverse
step book demo-book --months 6 --out "$WS/book"
ls -R "$WS/book" >"$OUT/book-files.txt"
MONTH=$(find "$WS/book" -maxdepth 1 -type f \( -name '*.csv' -o -name '*.parquet' \) | sort | head -1)
step monitor monitor --data "$MONTH" --top 10
step shadow shadow report
step audit-verify audit verify
MEMO=$(grep -o "memo-[A-Za-z0-9_-]*" "$OUT/06-memo-json.err" | head -1)
step audit-replay audit replay "$MEMO"
step bad-spec train --spec no_such_spec --data "$SHARED/lc_small_business_2007_2010.csv" --out "$WS/models/x"
step bad-data score --model "$WS/models/merchant" --data "$SHARED/german_credit.csv" --out "$OUT/files/bad.csv"
cp -r "$WS/memos" "$OUT/files/memos" 2>/dev/null
