#!/usr/bin/env bash
# Distributed training with torchrun: tools/dist_train.sh CONFIG GPUS [ARGS]
# ARGS go to tools/train.py. Multi-node: set NNODES, NODE_RANK, MASTER_ADDR
# and PORT. Without CUDA, t4v_mmaction trains on CPU processes with gloo.
if [ $# -lt 2 ]; then
    echo "usage: $0 CONFIG GPUS [train.py args]" >&2
    exit 2
fi

# the Python of this checkout's .venv (`make venv`) unless PYTHON is set, so
# that the script works without an activated environment
if [ -z "$PYTHON" ]; then
    PYTHON="$(dirname "$0")/../.venv/bin/python"
    [ -x "$PYTHON" ] || PYTHON=$(command -v python3 || command -v python)
fi
set -x

CONFIG=$1
GPUS=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}

"$PYTHON" -m torch.distributed.run --nnodes=$NNODES --node_rank=$NODE_RANK --master_addr=$MASTER_ADDR \
    --nproc_per_node=$GPUS --master_port=$PORT \
    "$(dirname "$0")/train.py" "$CONFIG" --launcher pytorch "${@:3}"
# Any arguments from the third one are passed on by "${@:3}"
