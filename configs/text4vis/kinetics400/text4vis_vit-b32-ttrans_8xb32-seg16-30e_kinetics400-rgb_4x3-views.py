_base_ = ['./text4vis_vit-b32-ttrans_8xb32-seg16-30e_kinetics400-rgb.py']
# Multi-view test: 4 clips x 3 crops, video embeddings averaged over views.
test_pipeline = _base_.test_pipeline_4x3
test_dataloader = dict(batch_size=4, dataset=dict(pipeline=test_pipeline))
