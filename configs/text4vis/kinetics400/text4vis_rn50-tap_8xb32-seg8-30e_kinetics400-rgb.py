_base_ = ['./text4vis_rn50-ttrans_8xb32-seg8-30e_kinetics400-rgb.py']
# Table 7 ablation: TAP (paper 71.2 top-1 single view).
model = dict(
    cls_head=dict(temporal=dict(_delete_=True, type='TemporalAveragePooling')))
