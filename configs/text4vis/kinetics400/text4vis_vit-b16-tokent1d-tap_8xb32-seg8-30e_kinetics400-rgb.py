_base_ = ['./text4vis_vit-b16-ttrans_8xb32-seg8-30e_kinetics400-rgb.py']
# Table 7 ablation: TokenT1D in every block + TAP (paper 80.4 top-1).
model = dict(
    backbone=dict(temporal=dict(type='TokenT1D')),
    cls_head=dict(temporal=dict(_delete_=True, type='TemporalAveragePooling')))
