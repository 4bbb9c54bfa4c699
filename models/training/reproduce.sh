#!/usr/bin/env bash
# The bundled brain's whole pipeline, from nothing: expert demonstrations recorded in the
# embedded simulator -> an Align-Anything dataset -> tiny-vla fine-tuned (and checked against
# PyTorch by the TypeScript runtime) -> DAgger rounds (the learned brain acts, the expert
# labels what it sees, fine-tuned again on all of it) -> closed-loop success of the learned brain,
# with no expert, on seeds never used in training.
#
# Demonstrations and DAgger episodes execute each chunk as decoded (`--execution direct`): the
# arm then goes exactly where the expert planned, so each next plan continues the last one. The
# evaluation executes through the cerebellum's controller, as deployed. Collecting through the
# controller as well, or adding the joint state to the prompt (--prompt with {state},
# --action-embeddings smooth) or DART episodes (--noise), scored lower on held-out seeds
# (BENCHMARKS.md, "The bundled brain").
#
#   models/training/reproduce.sh [work-dir] [package-dir]
#
# Defaults: work in out/reproduce, write the package to models/planar-vla. Knobs (environment):
# EPISODES, DAGGER_ROUNDS, DAGGER_EPISODES (per task), STEPS, DAGGER_STEPS, BATCH, EVAL_EPISODES, EVAL_SEED.
# Needs Debian's python3-torch, python3-onnx, python3-pil; with libopenblas0-pthread installed
# the trainer runs on OpenBLAS (about 30x faster than the reference BLAS).
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${1:-out/reproduce}
PACKAGE=${2:-models/planar-vla}
EPISODES=${EPISODES:-300}
DAGGER_ROUNDS=${DAGGER_ROUNDS:-2}
DAGGER_EPISODES=${DAGGER_EPISODES:-100}
STEPS=${STEPS:-2000}
DAGGER_STEPS=${DAGGER_STEPS:-1000}
BATCH=${BATCH:-16}
EVAL_EPISODES=${EVAL_EPISODES:-50}
EVAL_SEED=${EVAL_SEED:-9000}
PONS="node dist/cli/main.js"
TRAIN="--image-size 224 --batch-size $BATCH --label-sigma 1.5 --first-step-weight 6"
started=$(date +%s)
stamp() { echo "[reproduce] $(($(date +%s) - started)) s: $*" >&2; }

rm -rf "$OUT" && mkdir -p "$OUT"
npm run build >/dev/null
stamp "collecting $EPISODES expert episodes per task (seeds 0..$((EPISODES - 1)))"
$PONS sim collect --task all --episodes "$EPISODES" --seed 0 --execution direct --record "$OUT/expert" \
  >/dev/null
stamp "exporting them to Align-Anything (10% of the episodes held out)"
$PONS dataset export --from "$OUT"/expert/*.mcap --to "$OUT/dataset-bc" --format align-anything \
  --val-fraction 0.1 >/dev/null
stamp "fine-tuning models/tiny-vla on them ($STEPS steps of $BATCH)"
nice -n 5 $PONS finetune brain --data "$OUT/dataset-bc" --base models/tiny-vla \
  --out "$OUT/planar-vla-bc" --steps "$STEPS" --lr 2e-3 $TRAIN --json >"$OUT/finetune-bc.json"
# DAgger rounds: the newest package drives the episodes, the expert labels every decision it
# makes; the next package is fine-tuned from it on the expert's and all DAgger episodes.
BRAIN="$OUT/planar-vla-bc"
for ((round = 1; round <= DAGGER_ROUNDS; round++)); do
  seed=$((100000 * round))
  stamp "DAgger round $round: $DAGGER_EPISODES episodes per task driven by $BRAIN, labelled by the expert (seeds $seed..)"
  $PONS sim collect --task all --episodes "$DAGGER_EPISODES" --seed "$seed" --brain "$BRAIN" \
    --execution direct --record "$OUT/dagger-$round" >/dev/null
  $PONS dataset export --from "$OUT"/expert/*.mcap "$OUT"/dagger-*/*.mcap --to "$OUT/dataset-$round" \
    --format align-anything --val-fraction 0.1 --all >/dev/null
  next=$([ "$round" = "$DAGGER_ROUNDS" ] && echo "$PACKAGE" || echo "$OUT/planar-vla-dagger-$round")
  stamp "fine-tuning $BRAIN further on the expert's and the DAgger episodes ($DAGGER_STEPS steps) -> $next"
  nice -n 5 $PONS finetune brain --data "$OUT/dataset-$round" --base "$BRAIN" --out "$next" \
    --steps "$DAGGER_STEPS" --lr 1.5e-3 $TRAIN --json >"$OUT/finetune-dagger-$round.json"
  BRAIN=$next
done
stamp "evaluating $PACKAGE: $EVAL_EPISODES episodes per task from seed $EVAL_SEED, no expert"
$PONS sim eval --brain "$PACKAGE" --task all --episodes "$EVAL_EPISODES" --seed "$EVAL_SEED" \
  --json >"$OUT/eval.json"
node -e '
const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
for (const t of r.tasks)
  console.log(`${t.task.padEnd(6)} ${t.episodes} episodes from seed ${r.seed}: success ${(100 * t.success_rate).toFixed(0)}%, mean length ${t.mean_length_s} s`);
' "$OUT/eval.json"
stamp "done"
