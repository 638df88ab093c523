"""Prompt templates and the template ensemble of the text classifiers."""
import os
from typing import List, Optional, Sequence, Union

import torch
import torch.nn.functional as F

__all__ = ['TEMPLATE_SETS', 'resolve_templates', 'ensemble_templates']

# The original code's active template and its commented-out 28-template
# "Kinetics" list, in its order and spelling ("a example"); see
# official_text4vis_code_notes.md, section 3.1.
_KINETICS28 = [
    'a photo of a person {}.', 'a photo of {}.',
    'a photo of a person using {}.', 'a photo of a person doing {}.',
    'a photo of a person during {}.', 'a photo of a person performing {}.',
    'a photo of a person practicing {}.', 'a video of {}.',
    'a video of a person {}.', 'a video of a person using {}.',
    'a video of a person doing {}.', 'a video of a person during {}.',
    'a video of a person performing {}.',
    'a video of a person practicing {}.', 'a example of {}.',
    'a example of a person {}.', 'a example of a person using {}.',
    'a example of a person doing {}.', 'a example of a person during {}.',
    'a example of a person performing {}.',
    'a example of a person practicing {}.', 'a demonstration of {}.',
    'a demonstration of a person {}.',
    'a demonstration of a person using {}.',
    'a demonstration of a person doing {}.',
    'a demonstration of a person during {}.',
    'a demonstration of a person performing {}.',
    'a demonstration of a person practicing {}.'
]

TEMPLATE_SETS = {
    'text4vis': ['a video of a person {}.'],
    'kinetics28': _KINETICS28,
    'classname': ['{}'],
}

TemplatesType = Optional[Union[str, Sequence[str]]]


def resolve_templates(templates: TemplatesType = None) -> List[str]:
    """Turn a template option into a list of ``str.format`` templates.

    Args:
        templates (str | list[str], optional): ``None`` for the original
            code's single ``'a video of a person {}.'``; a name in
            :data:`TEMPLATE_SETS` (``'text4vis'``, ``'kinetics28'``,
            ``'classname'``); a text file with one template per line; or a
            list of templates. Every template must contain ``{}`` exactly
            once. Defaults to None.

    Returns:
        list[str]: The templates, in order.
    """
    if templates is None:
        return list(TEMPLATE_SETS['text4vis'])
    if isinstance(templates, (str, os.PathLike)):
        templates = os.fspath(templates)
        if templates in TEMPLATE_SETS:
            return list(TEMPLATE_SETS[templates])
        if os.path.isfile(templates):
            return _read_template_file(templates)
        raise ValueError(
            f'templates={templates!r} is neither a template set '
            f'{sorted(TEMPLATE_SETS)} nor an existing file')
    templates = list(templates)
    if not templates:
        raise ValueError('templates is an empty list')
    for i, template in enumerate(templates):
        _check_template(template, f'templates[{i}]')
    return templates


def _check_template(template, where: str) -> None:
    if not isinstance(template, str) or template.count('{}') != 1:
        raise ValueError(f'{where}: a template must be a str holding "{{}}" '
                         f'exactly once, got {template!r}')


def _read_template_file(path: str) -> List[str]:
    with open(path, encoding='utf-8') as f:
        lines = f.read().splitlines()
    templates = []
    for number, line in enumerate(lines, 1):
        if line.strip():
            _check_template(line.strip(), f'{path}:{number}')
            templates.append(line.strip())
    if not templates:
        raise ValueError(f'{path}: no templates in the file')
    return templates


def check_distinct_prompts(names, templates: Sequence[str],
                           ids: torch.Tensor, tokenizer_does: str) -> None:
    """Refuse two classes whose prompts tokenise alike: the classifier
    could not tell them apart.

    Args:
        names (ClassNames): The K class names (their files and lines).
        templates (Sequence[str]): The P templates.
        ids (torch.Tensor): ``(P, K, L)`` token ids of each prompt.
        tokenizer_does (str): What the tokenizer does to text, for the
            message (e.g. ``'cuts at 77 tokens'``).

    Raises:
        ValueError: Naming both classes and the template.
    """
    for p, template in enumerate(templates):
        seen = {}
        for k, row in enumerate(ids[p].tolist()):
            j = seen.setdefault(tuple(row), k)
            if j != k:
                raise ValueError(
                    f'{names.where(k)}: class {names[k]!r} and '
                    f'{names[j]!r} ({names.where(j)}) give the same tokens '
                    f'in the prompt {template!r} (the tokenizer '
                    f'{tokenizer_does}), so the classifier cannot tell them '
                    'apart; rename one')


def ensemble_templates(embeddings: torch.Tensor,
                       ensemble: str = 'normalized_mean') -> torch.Tensor:
    """Fuse per-template class embeddings into one row per class.

    Args:
        embeddings (torch.Tensor): ``(P, C, D)``: P templates, C classes.
        ensemble (str): ``'normalized_mean'`` averages the L2-normalised
            embeddings (CLIP's prompt ensemble); ``'mean'`` averages the raw
            ones. With a single template (``P == 1``) the raw embedding is
            returned either way, as the original code does. Defaults to
            ``'normalized_mean'``.

    Returns:
        torch.Tensor: ``(C, D)``.
    """
    if ensemble not in ('normalized_mean', 'mean'):
        raise ValueError("ensemble must be 'normalized_mean' or 'mean', got "
                         f'{ensemble!r}')
    if embeddings.shape[0] == 1:
        return embeddings[0]
    if ensemble == 'normalized_mean':
        embeddings = F.normalize(embeddings, dim=-1)
    return embeddings.mean(dim=0)  # (C, D)


def add_template_arguments(parser) -> None:
    """``--templates`` and ``--ensemble`` of the prompt-based classifiers."""
    parser.add_argument(
        '--templates',
        help=f"a template set {sorted(TEMPLATE_SETS)} (default 'text4vis') "
        'or a file with one template per line')
    parser.add_argument('--ensemble', choices=['normalized_mean', 'mean'])
