# The 32-frame ViT-L/14-336 recipe on mmengine's FlexibleRunner with FSDP:
# parameters, gradients and AdamW state sharded over the GPUs, one FSDP unit
# per transformer block, bf16 compute with fp32 master weights, gradients
# reduced in fp32. Launch as usual: tools/dist_train.sh THIS_CONFIG 8
_base_ = ['./text4vis_vit-l14-336-ttrans_64xb1-seg32-30e_kinetics400-rgb.py']

runner_type = 'FlexibleRunner'
strategy = dict(
    type='FSDPStrategy',
    model_wrapper=dict(
        auto_wrap_policy='residual_block_wrap_policy',
        mixed_precision=dict(
            param_dtype='bfloat16',
            reduce_dtype='float32',
            buffer_dtype='float32'),
        use_orig_params=True),  # keeps the recipe's per-parameter lr/wd
    state_dict_cfg='full')  # checkpoints load without FSDP (tools/test.py)
# FSDP's mixed precision replaces autocast: a plain optimizer wrapper
optim_wrapper = dict(type='OptimWrapper')
