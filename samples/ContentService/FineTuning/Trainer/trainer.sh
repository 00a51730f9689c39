#!/usr/bin/env bash
# The sample's stand-in for a model trainer: reads the prepared training file, trains for the given epochs and
# prints "progress N" lines (0-100) and finally "model NAME". Like a real trainer it runs a worker process of its
# own (a data loader) for the whole run, so stopping it means stopping a process tree.
# Usage: trainer.sh TRAINING_FILE EPOCHS SECONDS_PER_EPOCH
set -euo pipefail
file=$1
epochs=$2
step=$3

if [[ ! -r $file ]]; then
    echo "cannot read training file $file" >&2
    exit 2
fi

examples=$(wc -l < "$file")
if (( examples == 0 )); then
    echo "training file is empty" >&2
    exit 3
fi

# The data loader: a child that lives as long as training does; the trap ends it on a normal exit.
sleep 3600 &
loader=$!
trap 'kill "$loader" 2>/dev/null || true' EXIT
echo "loader $loader"

echo "progress 0"
for (( epoch = 1; epoch <= epochs; epoch++ )); do
    # Each epoch reads the whole file, as training does.
    while IFS= read -r _; do :; done < "$file"
    sleep "$step"
    echo "progress $(( epoch * 100 / epochs ))"
done

echo "model ft-$(basename "$file" .jsonl)-e${epochs}"
