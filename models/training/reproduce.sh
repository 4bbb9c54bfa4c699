#!/usr/bin/env bash
# The bundled brain's whole pipeline, from nothing: expert demonstrations recorded in the
# embedded simulator -> an Align-Anything dataset -> tiny-vla fine-tuned (and checked against
# PyTorch by the TypeScript runtime) -> closed-loop success of the learned brain, with no
# expert, on seeds never used in training.
#
#   models/training/reproduce.sh [out-dir] [package-dir]
#
# Defaults: work in out/reproduce, write the package to models/planar-vla. Knobs (environment):
# EPISODES (demonstrations per task), STEPS, BATCH, EVAL_EPISODES, EVAL_SEED. Needs Debian's
# python3-torch, python3-onnx, python3-pil; libopenblas0-pthread makes training ~30x faster.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${1:-out/reproduce}
PACKAGE=${2:-models/planar-vla}
EPISODES=${EPISODES:-400}
STEPS=${STEPS:-2200}
BATCH=${BATCH:-16}
EVAL_EPISODES=${EVAL_EPISODES:-50}
EVAL_SEED=${EVAL_SEED:-9000}
PONS="node dist/cli/main.js"
started=$(date +%s)
stamp() { echo "[reproduce] $(( $(date +%s) - started )) s: $*" >&2; }

rm -rf "$OUT" && mkdir -p "$OUT"
npm run build >/dev/null
stamp "collecting $EPISODES expert episodes per task (seeds 0..$((EPISODES - 1)))"
$PONS sim collect --task all --episodes "$EPISODES" --seed 0 --record "$OUT/recording" >/dev/null
stamp "exporting the Align-Anything dataset (10% of episodes held out)"
$PONS dataset export --from "$OUT"/recording/*.mcap --to "$OUT/dataset" --format align-anything \
  --val-fraction 0.1 >/dev/null
stamp "fine-tuning models/tiny-vla -> $PACKAGE ($STEPS steps of $BATCH)"
nice -n 5 $PONS finetune brain --data "$OUT/dataset" --base models/tiny-vla --out "$PACKAGE" \
  --image-size 224 --steps "$STEPS" --batch-size "$BATCH" --json >"$OUT/finetune.json"
stamp "evaluating $PACKAGE: $EVAL_EPISODES episodes per task from seed $EVAL_SEED, no expert"
$PONS sim eval --brain "$PACKAGE" --task all --episodes "$EVAL_EPISODES" --seed "$EVAL_SEED" \
  --json >"$OUT/eval.json"
node -e '
const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
for (const t of r.tasks)
  console.log(`${t.task.padEnd(6)} ${t.episodes} episodes from seed ${r.seed}: success ${(100 * t.success_rate).toFixed(0)}%, mean length ${t.mean_length_s} s`);
' "$OUT/eval.json"
stamp "done"
