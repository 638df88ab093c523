# The contrastive video-text paradigm (Text4Vis Fig. 2(b), Table 8;
# ActionCLIP-style) on the toy dataset: same backbone, T-Trans and schedule
# as the Text4Vis toy config, but trained with the symmetric video<->text
# contrastive loss over the batch (soft targets: same-class samples are
# positives for each other). Text side OFFLINE: the frozen all-MiniLM-L6-v2
# embeddings of the class names, so only the video side learns. `gather`
# all-gathers the batch over processes (a no-op in one process). At test
# time it scores all classes exactly like the frozen head.
_base_ = ['./text4vis_tiny-vit-ttrans_1xb16-seg8-36e_toy-rgb.py']

model = dict(cls_head=dict(type='VideoTextContrastiveHead', gather=True))
