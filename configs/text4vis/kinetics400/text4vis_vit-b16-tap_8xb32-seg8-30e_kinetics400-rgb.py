_base_ = ['./text4vis_vit-b16-ttrans_8xb32-seg8-30e_kinetics400-rgb.py']
# Table 7 ablation: TAP (paper 80.1 top-1 single view).
model = dict(
    cls_head=dict(temporal=dict(_delete_=True, type='TemporalAveragePooling')))
