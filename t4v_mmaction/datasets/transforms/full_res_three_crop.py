"""Three crops of a frame whose sides both exceed the crop (Text4Vis test)."""
import numpy as np
from mmaction.registry import TRANSFORMS
from mmcv.transforms import BaseTransform


@TRANSFORMS.register_module()
class FullResThreeCrop(BaseTransform):
    """Left, right and centre crops along the long side, vertically centred.

    mmaction2's ``ThreeCrop`` needs one side equal to the crop size; the
    original Text4Vis multi-view test instead scales the short side to 256
    and takes three 224 crops at offsets ``(0, 2h)``, ``(4w, 2h)``,
    ``(2w, 2h)`` with ``w = (W - crop) // 4``, ``h = (H - crop) // 4``
    (``GroupFullResSample``). Frames are emitted crop-major, as ``ThreeCrop``
    does, so ``FormatShape('NCTHW')`` yields ``3 * num_clips`` views.

    Required keys: ``imgs``. Modified keys: ``imgs``, ``img_shape``. Added
    keys: ``crop_bbox``.

    Args:
        crop_size (int): Square crop side.
    """

    def __init__(self, crop_size: int):
        self.crop_size = crop_size

    def transform(self, results: dict) -> dict:
        imgs = results['imgs']
        img_h, img_w = imgs[0].shape[:2]
        size = self.crop_size
        if img_h < size or img_w < size:
            raise ValueError(f'FullResThreeCrop({size}) got a {img_w}x{img_h}'
                             ' frame; resize the short side first')
        w_step, h_step = (img_w - size) // 4, (img_h - size) // 4
        offsets = [(0, 2 * h_step), (4 * w_step, 2 * h_step),
                   (2 * w_step, 2 * h_step)]
        cropped, bboxes = [], []
        for x, y in offsets:
            cropped.extend(img[y:y + size, x:x + size] for img in imgs)
            bboxes.extend([[x, y, x + size, y + size]] * len(imgs))
        results['imgs'] = cropped
        results['crop_bbox'] = np.array(bboxes)
        results['img_shape'] = (size, size)
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(crop_size={self.crop_size})'
