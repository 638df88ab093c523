_base_ = ['./text4vis_vit-l14-ttrans_32xb8-seg8-30e_kinetics400-rgb_'
          'zero-shot-k600-split1.py']
# Kinetics-600 zero-shot, split 3 of 3: the 160 classes of
# k160_labels_split3.csv and their test videos (see split 1 for the rest).
model = dict(
    cls_head=dict(
        classifier=dict(
            class_names=_base_.zero_shot_split_class_names.format(3))))
test_dataloader = dict(
    dataset=dict(
        ann_file=_base_.zero_shot_split_ann_file.format(3),
        class_names=_base_.zero_shot_split_class_names.format(3)))
