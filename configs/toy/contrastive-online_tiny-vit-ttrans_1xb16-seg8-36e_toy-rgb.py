# The contrastive paradigm with an ONLINE text side (Text4Vis Table 8, the
# ActionCLIP recipe): the class prompts of each batch are re-encoded every
# step by all-MiniLM-L6-v2, which is fine-tuned together with the video
# side (at 1/100 of the learning rate, as CLIP text towers are fine-tuned
# gently). The class-name classifier spec only supplies names and templates.
_base_ = ['./contrastive_tiny-vit-ttrans_1xb16-seg8-36e_toy-rgb.py']

model = dict(
    cls_head=dict(text_encoder=dict(type='lm', model=None, pooling='mean')))

optim_wrapper = dict(
    paramwise_cfg=dict(
        custom_keys={'cls_head.text_encoder': dict(lr_mult=0.01)}))
