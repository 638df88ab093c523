#!/usr/bin/env bash
# The README's GPU figures in one run, side by side on one device:
#  - inference of ViT-B/16, B/32 and L/14 (8 frames, batch 16) in fp32, bf16
#    autocast, bf16 weights and bf16 weights + torch.compile;
#  - (a) training of ViT-B/16 8 frames, bf16, batch 32 on random clips (the
#    model's rate, with model FLOP utilisation against PEAK_TFLOPS) and, with
#    ORIGINAL=path/to/Text4Vis, the original code's training step beside it;
#  - (b) the same training fed end to end from video files (generated here,
#    H.264 at 340x256 as Kinetics is stored), decoded by all CPU cores, with
#    decord (the configs' default) and with ExactPyAV*, as a share of (a);
#  - (c) a few steps of the 32-frame ViT-L/14-336 FSDP recipe at full size,
#    peak memory.
#
#   bash tools/analysis/gpu_benchmarks.sh [OUT_DIR]     (default work_dirs/gpu_benchmarks)
#
# DEVICE=cpu SMOKE=1 runs every step at toy sizes on the CPU (a check of the
# script itself; (c) needs CUDA and is skipped). Each line printed is one
# benchmark's summary; every number is in OUT_DIR/*.json.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${1:-work_dirs/gpu_benchmarks}
PYTHON=${PYTHON:-python}
DEVICE=${DEVICE:-cuda}
PEAK_TFLOPS=${PEAK_TFLOPS:-989}  # H100/H200 SXM, dense bf16
K400=configs/text4vis/kinetics400
B16=$K400/text4vis_vit-b16-ttrans_8xb32-seg8-30e_kinetics400-rgb.py
B32=$K400/text4vis_vit-b32-ttrans_8xb32-seg8-30e_kinetics400-rgb.py
L14=$K400/text4vis_vit-l14-ttrans_32xb8-seg8-30e_kinetics400-rgb.py
L14_FSDP=$K400/text4vis_vit-l14-336-ttrans_64xb1-seg32-30e_kinetics400-rgb_fsdp.py
NUM_VIDEOS=256
VIDEO_SIZE=340x256
SMALL=()
COMPILE=(--compile)
if [ -n "${SMOKE:-}" ]; then  # the toy model at toy sizes: seconds per step
    B16=configs/toy/text4vis_tiny-vit-ttrans_1xb16-seg8-36e_toy-rgb.py
    B32=$B16
    L14=$B16
    SMALL=(--batch-size 2 --num-warmup 1 --num-iters 1 --repeats 1
           --cfg-options model.cls_head.num_classes=4)
    COMPILE=()
    NUM_VIDEOS=4
    VIDEO_SIZE=64x48
fi
mkdir -p "$OUT"

bench() {  # NAME CONFIG [benchmark.py options]
    local name=$1 config=$2
    shift 2
    "$PYTHON" tools/analysis/benchmark.py "$config" --device "$DEVICE" \
        --json "$OUT/$name.json" "$@" "${SMALL[@]}" 2>"$OUT/$name.log" \
        | tail -n 1
}

bench vit-b16_fp32 "$B16" --batch-size 16
bench vit-b16_bf16-amp "$B16" --batch-size 16 --amp
bench vit-b16_bf16-weights "$B16" --batch-size 16 --bf16-weights
bench vit-b16_bf16-weights_compile "$B16" --batch-size 16 --bf16-weights "${COMPILE[@]}"
bench vit-b32_bf16-weights "$B32" --batch-size 16 --bf16-weights
bench vit-l14_bf16-weights "$L14" --batch-size 16 --bf16-weights
bench vit-l14_train-bf16 "$L14" --batch-size 8 --amp --train --repeats 3

# (a) the model's training rate
bench vit-b16_train-bf16 "$B16" --batch-size 32 --amp --train --repeats 3 \
    --peak-tflops "$PEAK_TFLOPS"
if [ -n "${ORIGINAL:-}" ]; then
    "$PYTHON" tools/analysis/compare_original.py --original "$ORIGINAL" \
        --device "$DEVICE" --batch 16 --train-batch 32 --repeats 5 \
        --settings infer-fp32 infer-bf16 infer-fast infer-compiled train-cp train-nocp \
        --json "$OUT/compare_original_vit-b16.json" --log "$OUT/compare_original.log"
fi

# (b) end to end from video files, every CPU core decoding
VIDEOS=$OUT/videos
"$PYTHON" tools/analysis/pipeline_throughput.py --write-videos "$VIDEOS" \
    --generate "$NUM_VIDEOS" --gen-size "$VIDEO_SIZE" 2>"$OUT/videos.log"
for decoder in decord exact-pyav; do
    DECODE=()
    if [ "$decoder" = exact-pyav ]; then
        DECODE=(train_dataloader.dataset.pipeline.0.type=ExactPyAVInit
                train_dataloader.dataset.pipeline.2.type=ExactPyAVDecode)
    fi
    bench "vit-b16_train-bf16_videos-$decoder" "$B16" --batch-size 32 --amp \
        --train --repeats 3 --peak-tflops "$PEAK_TFLOPS" \
        --videos "$VIDEOS/list.txt" --video-root "$VIDEOS" \
        --cfg-options "${DECODE[@]}" train_dataloader.dataset.max_skips=0
done
"$PYTHON" - "$OUT" <<'EOF'
import json, sys
out = sys.argv[1]
model = json.load(open(f'{out}/vit-b16_train-bf16.json'))['videos_per_s']
for decoder in ('decord', 'exact-pyav'):
    rate = json.load(open(
        f'{out}/vit-b16_train-bf16_videos-{decoder}.json'))['videos_per_s']
    print(f'end to end ({decoder}): {rate:.1f} videos/s, '
          f'{100 * rate / model:.0f}% of the model-only {model:.1f}')
EOF

# (c) the 32-frame ViT-L/14-336 FSDP recipe at full size, a few steps
if [ "$DEVICE" = cuda ]; then
    GPUS=${GPUS:-$("$PYTHON" -c 'import torch; print(torch.cuda.device_count())')}
    PORT=${PORT:-29512} bash tools/dist_train.sh "$L14_FSDP" "$GPUS" \
        --work-dir "$OUT/fsdp_vit-l14-336_seg32" --cfg-options \
        train_dataloader.dataset.ann_file="$VIDEOS/list.txt" \
        train_dataloader.dataset.data_prefix.video="$VIDEOS" \
        train_dataloader.dataset.class_names=None \
        train_cfg.type=IterBasedTrainLoop train_cfg.max_iters=8 \
        val_cfg=None val_dataloader=None val_evaluator=None \
        default_hooks.logger.interval=1 default_hooks.checkpoint.interval=100 \
        > "$OUT/fsdp_vit-l14-336_seg32.log" 2>&1
    grep -o 'memory: [0-9]*' "$OUT/fsdp_vit-l14-336_seg32.log" | sort -t' ' -k2 -n \
        | tail -n 1 | sed 's/^/FSDP ViT-L\/14-336 32 frames: peak /; s/$/ MiB/'
else
    echo "(c) FSDP ViT-L/14-336: needs CUDA, skipped on $DEVICE"
fi
