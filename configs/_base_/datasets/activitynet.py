# ActivityNet v1.3 videos read with decord. Lists and the class-name file are
# written by
#   python tools/data/prepare_activitynet.py \
#       --json activity_net.v1-3.min.json \
#       --video-root data/activitynet/videos --out-dir data/activitynet
# The lists are video-level: one line per untrimmed video, labelled with its
# first annotated activity. Training therefore samples the T frames over the
# whole untrimmed training video; the original trained on the trimmed
# activity instances (1 fps frames) instead, which the data tool does not
# write. Validation and test use the 4,926 untrimmed validation videos, as
# the original.
dataset_type = 'RobustVideoDataset'
data_root = 'data/activitynet/videos'
data_root_val = data_root
ann_file_train = 'data/activitynet/anet_train_video.txt'
ann_file_val = 'data/activitynet/anet_val_video.txt'
ann_file_test = ann_file_val
# training + validation videos (14,950), for the zero-shot protocol
ann_file_zero_shot = 'data/activitynet/anet_full_video.txt'
class_names = 'data/activitynet/anet_label_map.txt'
num_classes = 200

train_dataloader = dict(
    batch_size=4,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        class_names=class_names,
        ann_file=ann_file_train,
        data_prefix=dict(video=data_root)))
val_dataloader = dict(
    batch_size=4,
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
    batch_size=4,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        class_names=class_names,
        ann_file=ann_file_test,
        data_prefix=dict(video=data_root_val),
        test_mode=True))

# video-level mAP over the classes (softmax applied once), top-1/top-5
val_evaluator = dict(type='RobustMetric', metric=dict(type='ClsMAPMetric'))
test_evaluator = val_evaluator
