"""State dicts: prefixes, and whether one fits a model (and if not, why).

:func:`checkpoint_mismatch` is the one explainer of a state dict that does
not fit: pure functions on ``{key: shape}`` maps, per-layer keys collapsed
into patterns (``backbone.transformer.resblocks.{12..23}.*``) and each side's
block stacks summarised as ``width x layers``, so that a checkpoint of
another architecture is recognisable at a glance. It explains pretrained
weights that do not fit a backbone or a text tower
(:func:`load_state_dict_exactly`) as well as recognizer checkpoints
(``Text4VisRecognizer``) and converted original checkpoints.
"""
import re
from collections import Counter, OrderedDict, defaultdict
from typing import (Dict, Iterable, List, Mapping, Optional, Sequence,
                    Tuple)

import torch
import torch.nn as nn

__all__ = [
    'strip_prefix', 'strip_wrapper_prefixes', 'state_shapes',
    'checkpoint_mismatch', 'load_state_dict_exactly'
]

#: Prefixes that wrappers add in front of a model's own keys (DDP's
#: ``module.``, ``torch.compile``'s ``_orig_mod.``).
WRAPPER_PREFIXES = ('module.', '_orig_mod.')


def strip_prefix(state_dict: Mapping[str, torch.Tensor],
                 prefix: str) -> 'OrderedDict[str, torch.Tensor]':
    """The entries under ``prefix``, without it (others are dropped)."""
    return OrderedDict((k[len(prefix):], v) for k, v in state_dict.items()
                       if k.startswith(prefix))


def strip_wrapper_prefixes(
        state_dict: Mapping[str, torch.Tensor]
) -> 'OrderedDict[str, torch.Tensor]':
    """Remove DDP's ``module.`` (and ``torch.compile``'s ``_orig_mod.``)
    from keys that carry them; other keys are kept as they are."""
    out = OrderedDict()
    for key, value in state_dict.items():
        for prefix in WRAPPER_PREFIXES:
            if key.startswith(prefix):
                key = key[len(prefix):]
        out[key] = value
    return out


Shapes = Mapping[str, Tuple[int, ...]]
_NUMBER = re.compile(r'(?<=\.)\d+(?=\.|$)')
_SHOWN = 8  # lines per kind of problem


def state_shapes(state_dict: Mapping) -> Dict[str, Tuple[int, ...]]:
    """``{key: shape}`` of a state dict; ``()`` for non-tensor values."""
    return {
        k: tuple(getattr(v, 'shape', ()))
        for k, v in state_dict.items()
    }


def _prefixes(keys: Iterable[str]) -> set:
    """Every module path and key: ``a.b.c`` gives ``a``, ``a.b``, ``a.b.c``."""
    out = set()
    for key in keys:
        parts = key.split('.')
        out.update('.'.join(parts[:i]) for i in range(1, len(parts) + 1))
    return out


def _group(key: str, other: set) -> str:
    """The shortest prefix of ``key`` that the other side does not have."""
    parts = key.split('.')
    for i in range(1, len(parts) + 1):
        prefix = '.'.join(parts[:i])
        if prefix not in other:
            return prefix
    return key


def _collapse(groups: Mapping[str, int], keys: set) -> List[Tuple[str, int]]:
    """Merge groups that differ only in layer numbers; count tensors."""
    merged = defaultdict(lambda: [set(), 0, False])
    for group, count in groups.items():
        pattern = _NUMBER.sub('*', group)
        entry = merged[pattern]
        numbers = _NUMBER.findall(group)
        if len(numbers) == 1:
            entry[0].add(int(numbers[0]))
        entry[1] += count
        entry[2] = entry[2] or group not in keys  # a module, not one tensor
    out = []
    for pattern, (numbers, count, is_module) in merged.items():
        if pattern.count('*') == 1 and numbers:
            low, high = min(numbers), max(numbers)
            if low == high:
                span = str(low)
            elif len(numbers) == high - low + 1:
                span = f'{{{low}..{high}}}'
            else:
                span = '{' + ','.join(map(str, sorted(numbers))) + '}'
            pattern = pattern.replace('*', span)
        out.append((pattern + ('.*' if is_module else ''), count))
    return out


def _blocks(shapes: Shapes, top: str) -> Optional[Tuple[int, int]]:
    """``(width, layers)`` of the longest numbered block stack under ``top``.

    ``layers`` counts the blocks; ``width`` is the most common length of the
    1-D tensors (norms, biases) of its first block.
    """
    stacks = defaultdict(set)
    pattern = re.compile(rf'^({re.escape(top)}\..*?)\.(\d+)\.')
    for key in shapes:
        match = pattern.match(key)
        if match:
            stacks[match.group(1)].add(int(match.group(2)))
    if not stacks:
        return None
    stack = max(stacks, key=lambda s: len(stacks[s]))
    first = f'{stack}.{min(stacks[stack])}.'
    sizes = Counter(s[0] for k, s in shapes.items()
                    if k.startswith(first) and len(s) == 1)
    width = sizes.most_common(1)[0][0] if sizes else 0
    return width, len(stacks[stack])


def _module_name(model: Optional[nn.Module], path: str) -> Optional[str]:
    if model is None:
        return None
    try:
        return type(model.get_submodule(path)).__name__
    except AttributeError:
        return None


def checkpoint_mismatch(ckpt: Shapes,
                        own: Shapes,
                        model: Optional[nn.Module] = None) -> List[str]:
    """Describe how a checkpoint's tensors differ from a model's.

    Args:
        ckpt (Mapping[str, tuple]): ``{key: shape}`` of the checkpoint.
        own (Mapping[str, tuple]): ``{key: shape}`` of the model's
            persistent state (``state_dict()``).
        model (nn.Module, optional): The model, to name its modules in the
            messages. Defaults to None.

    Returns:
        list[str]: One line per problem (architecture summaries first);
        empty when every key and shape matches.
    """
    missing = [k for k in own if k not in ckpt]
    unexpected = [k for k in ckpt if k not in own]
    wrong = [k for k in own if k in ckpt and tuple(ckpt[k]) != tuple(own[k])]
    if not (missing or unexpected or wrong):
        return []
    lines = []
    tops = {k.split('.')[0] for k in missing + unexpected + wrong}
    for top in sorted(tops):
        theirs, ours = _blocks(ckpt, top), _blocks(own, top)
        if theirs and ours and theirs != ours:
            lines.append(f'{top}: the checkpoint has width {theirs[0]} x '
                         f'{theirs[1]} layers, the model {ours[0]} x '
                         f'{ours[1]}')
    if unexpected and len(unexpected) == len(ckpt):
        lines.append(f'none of the checkpoint\'s {len(ckpt)} keys is in the '
                     f'model (its keys start with '
                     f'{sorted({k.split(".")[0] for k in ckpt})[:5]}); is it '
                     'a checkpoint of this kind of model?')
        return lines
    lines += _describe_groups(unexpected, own, model, in_ckpt=True)
    lines += _describe_groups(missing, ckpt, model, in_ckpt=False)
    by_pattern = defaultdict(list)
    for k in wrong:
        by_pattern[(_NUMBER.sub('*', k), tuple(ckpt[k]),
                    tuple(own[k]))].append(k)
    shape_lines = [
        f'shape of {pattern}: checkpoint {list(theirs)}, model {list(ours)}'
        f'{f" ({len(keys)} tensors)" if len(keys) > 1 else ""}'
        for (pattern, theirs, ours), keys in by_pattern.items()
    ]
    lines += _limit(shape_lines)
    return lines


def _describe_groups(keys: List[str], other: Shapes,
                     model: Optional[nn.Module], in_ckpt: bool) -> List[str]:
    if not keys:
        return []
    other_prefixes = _prefixes(other)
    groups = Counter(_group(k, other_prefixes) for k in keys)
    out = []
    for pattern, count in _collapse(groups, set(keys)):
        tensors = f'{count} tensor{"s" if count > 1 else ""}'
        module = pattern[:-2] if pattern.endswith('.*') else None
        name = _module_name(model, module) if module and '{' not in \
            module else None
        if in_ckpt:
            where = (f"the model's {module} is a {name} without these "
                     'weights') if name else 'the model has no such weights'
            out.append(f'the checkpoint has {pattern} ({tensors}) but '
                       f'{where}')
        else:
            what = f' (the model\'s {name})' if name else ''
            out.append(f'the checkpoint lacks {pattern}{what} ({tensors})')
    return _limit(out)


def _limit(lines: List[str]) -> List[str]:
    if len(lines) <= _SHOWN:
        return lines
    return lines[:_SHOWN] + [f'... and {len(lines) - _SHOWN} more']


def load_state_dict_exactly(module: nn.Module,
                            state_dict: Mapping[str, torch.Tensor],
                            source: str,
                            new_modules: Sequence[str] = (),
                            target: Optional[str] = None) -> None:
    """Copy ``state_dict`` into ``module``; every tensor must fit.

    Args:
        module (nn.Module): The module (a backbone, a text tower).
        state_dict (Mapping[str, Tensor]): Its weights.
        source (str): Where they come from (a file), for the message.
        new_modules (Sequence[str]): Names of submodules that the weights
            cannot hold because they are new (e.g. ``'temporal'``): their
            keys may be missing. Defaults to ().
        target (str, optional): What the module is, for the message.
            Defaults to its class name.

    Raises:
        ValueError: Naming ``source`` and, via :func:`checkpoint_mismatch`,
            every missing, unexpected or differently shaped tensor.
    """

    def is_new(key: str) -> bool:
        parts = key.split('.')
        return any(name in parts for name in new_modules)

    own = {k: v for k, v in state_shapes(module.state_dict()).items()
           if not is_new(k)}
    problems = checkpoint_mismatch(state_shapes(state_dict), own, module)
    if problems:
        raise ValueError(
            f'{source}: the weights do not fit '
            f'{target or "this " + type(module).__name__} (is it the right '
            'architecture?):\n' +
            '\n'.join(f'  - {line}' for line in problems))
    module.load_state_dict(state_dict, strict=False)
