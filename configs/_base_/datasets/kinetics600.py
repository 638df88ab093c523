# Kinetics-600 videos read with decord. Lists and the class-name file of the
# full dataset are written by
#   python tools/data/prepare_kinetics.py train.csv validate.csv test.csv \
#       --name kinetics600 --video-root data/kinetics600/videos_<split> \
#       --out-dir data/kinetics600
# (one call per video folder). Text4Vis only uses Kinetics-600 for zero-shot
# evaluation on three 160-class splits of its 220 classes that are not in
# Kinetics-400; their class-name CSVs and test lists come from the original
# repository's `lists/k600/` (see docs/reproducing.md) and are read from
# data/kinetics600/ as named there, with the test videos (named
# `{youtube_id}_{start:06d}_{end:06d}.mp4`) in data/kinetics600/videos_test.
dataset_type = 'RobustVideoDataset'
data_root = 'data/kinetics600/videos_train'
data_root_val = 'data/kinetics600/videos_val'
data_root_test = 'data/kinetics600/videos_test'
ann_file_train = 'data/kinetics600/kinetics600_train_list_videos.txt'
ann_file_val = 'data/kinetics600/kinetics600_val_list_videos.txt'
ann_file_test = ann_file_val
class_names = 'data/kinetics600/kinetics600_label_map.txt'
num_classes = 600
# the zero-shot splits (original file names), k = 1, 2, 3
zero_shot_split_class_names = 'data/kinetics600/k160_labels_split{}.csv'
zero_shot_split_ann_file = 'data/kinetics600/test_split{}_exist.txt'

train_dataloader = dict(
    batch_size=32,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        class_names=class_names,
        ann_file=ann_file_train,
        data_prefix=dict(video=data_root)))
val_dataloader = dict(
    batch_size=32,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        class_names=class_names,
        ann_file=ann_file_val,
        data_prefix=dict(video=data_root_val),
        test_mode=True))
test_dataloader = dict(
    batch_size=16,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        class_names=class_names,
        ann_file=ann_file_test,
        data_prefix=dict(video=data_root_val),
        test_mode=True))

val_evaluator = dict(type='RobustAccMetric')
test_evaluator = val_evaluator
