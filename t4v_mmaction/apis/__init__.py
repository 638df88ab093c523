"""Inference: build a recognizer (optionally on new class names), classify a
video file or frames, extract video features; the tensor-only model used for
export and benchmarks, and its flops, throughput and memory."""
from t4v_mmaction.datasets.class_names import resolve_class_names
from .benchmark import (count_flops, count_parameters, measure_throughput,
                        measure_train_step, memory_mib, peak_memory_mb,
                        reset_peak_memory)
from .classify import classify_video, video_scores
from .fused_recognizer import FusedRecognizer
from .inference import get_class_names, init_recognizer, set_label_set
from .pipeline import (array_pipeline_cfg, get_input_shape, get_test_pipeline,
                       pipeline_inputs)
from .video_features import (extract_video_features, pool_video_embeddings,
                             video_features_key)

__all__ = [
    'init_recognizer', 'set_label_set', 'classify_video', 'video_scores',
    'get_class_names', 'resolve_class_names', 'FusedRecognizer',
    'get_test_pipeline', 'array_pipeline_cfg', 'pipeline_inputs',
    'get_input_shape', 'count_flops', 'count_parameters',
    'measure_throughput', 'measure_train_step', 'memory_mib',
    'reset_peak_memory', 'peak_memory_mb', 'extract_video_features',
    'pool_video_embeddings', 'video_features_key'
]
