#!/usr/bin/env bash
# The README's GPU figures in one run: inference of ViT-B/16, B/32 and L/14
# (8 frames, batch 16) in fp32, bf16 autocast, bf16 weights and bf16 weights
# + torch.compile; training steps in bf16; and, with ORIGINAL=path/to/Text4Vis,
# the side-by-side comparison with the original code on the GPU.
#
#   bash tools/analysis/gpu_benchmarks.sh [OUT_DIR]     (default work_dirs/gpu_benchmarks)
#
# Each line printed is one benchmark's summary; every number is in OUT_DIR/*.json.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${1:-work_dirs/gpu_benchmarks}
PYTHON=${PYTHON:-python}
K400=configs/text4vis/kinetics400
B16=$K400/text4vis_vit-b16-ttrans_8xb32-seg8-30e_kinetics400-rgb.py
B32=$K400/text4vis_vit-b32-ttrans_8xb32-seg8-30e_kinetics400-rgb.py
L14=$K400/text4vis_vit-l14-ttrans_32xb8-seg8-30e_kinetics400-rgb.py
mkdir -p "$OUT"

bench() {  # NAME CONFIG [benchmark.py options]
    local name=$1 config=$2
    shift 2
    "$PYTHON" tools/analysis/benchmark.py "$config" --device cuda \
        --json "$OUT/$name.json" "$@" 2>"$OUT/$name.log" | tail -n 1
}

bench vit-b16_fp32 "$B16" --batch-size 16
bench vit-b16_bf16-amp "$B16" --batch-size 16 --amp
bench vit-b16_bf16-weights "$B16" --batch-size 16 --bf16-weights
bench vit-b16_bf16-weights_compile "$B16" --batch-size 16 --bf16-weights --compile
bench vit-b32_bf16-weights "$B32" --batch-size 16 --bf16-weights
bench vit-l14_bf16-weights "$L14" --batch-size 16 --bf16-weights
bench vit-b16_train-bf16 "$B16" --batch-size 32 --amp --train --repeats 3
bench vit-l14_train-bf16 "$L14" --batch-size 8 --amp --train --repeats 3

if [ -n "${ORIGINAL:-}" ]; then
    "$PYTHON" tools/analysis/compare_original.py --original "$ORIGINAL" \
        --device cuda --batch 16 --train-batch 16 --repeats 5 \
        --settings infer-fp32 infer-bf16 infer-fast infer-compiled train-cp train-nocp \
        --json "$OUT/compare_original_vit-b16.json" --log "$OUT/compare_original.log"
fi
