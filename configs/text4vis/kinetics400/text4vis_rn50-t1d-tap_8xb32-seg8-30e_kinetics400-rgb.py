_base_ = ['./text4vis_rn50-ttrans_8xb32-seg8-30e_kinetics400-rgb.py']
# Table 7 ablation: T1D in res4-5 + TAP (paper 67.2 top-1 single view).
model = dict(
    backbone=dict(t1d_stages=(3, 4)),
    cls_head=dict(temporal=dict(_delete_=True, type='TemporalAveragePooling')))
