#!/usr/bin/env bash
# Distributed testing with torchrun:
#   tools/dist_test.sh CONFIG CHECKPOINT GPUS [ARGS]
# ARGS go to tools/test.py. Multi-node: set NNODES, NODE_RANK, MASTER_ADDR
# and PORT. Without CUDA, t4v_mmaction runs CPU processes with gloo.
if [ $# -lt 3 ]; then
    echo "usage: $0 CONFIG CHECKPOINT GPUS [test.py args]" >&2
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
CHECKPOINT=$2
GPUS=$3
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}

"$PYTHON" -m torch.distributed.run --nnodes=$NNODES --node_rank=$NODE_RANK --master_addr=$MASTER_ADDR \
    --nproc_per_node=$GPUS --master_port=$PORT \
    "$(dirname "$0")/test.py" "$CONFIG" "$CHECKPOINT" --launcher pytorch \
    "${@:4}"
# Any arguments from the fourth one are passed on by "${@:4}"
