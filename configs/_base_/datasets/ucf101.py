# UCF101 videos read with decord, official split 1 (the only split Text4Vis
# uses). Lists and the class-name file are written by
#   python tools/data/prepare_ucf101.py --ann-dir <ucfTrainTestlist> \
#       --video-root data/ucf101/videos --out-dir data/ucf101
# Class names stay CamelCase (classInd.txt), as in the original. Splits 2 and
# 3: `--cfg-options` on the ann_file keys of the dataloaders (`_split_2`).
dataset_type = 'RobustVideoDataset'
data_root = 'data/ucf101/videos'
data_root_val = data_root
ann_file_train = 'data/ucf101/ucf101_train_split_1_videos.txt'
ann_file_val = 'data/ucf101/ucf101_val_split_1_videos.txt'
ann_file_test = ann_file_val
# every video (13,320), for the zero-shot protocol
ann_file_zero_shot = 'data/ucf101/ucf101_full_videos.txt'
class_names = 'data/ucf101/ucf101_label_map.txt'
num_classes = 101

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

# top-1/top-5 (what the original logs) and mean class accuracy (the paper's
# UCF101 metric)
val_evaluator = dict(
    type='RobustAccMetric', metric_list=('top_k_accuracy', 'mean_class_accuracy'))
test_evaluator = val_evaluator
