r"""scikit-learn's bundled handwritten digits, split by class and standardised.

The digits data set (1797 images of 8 x 8 pixels, ten classes, shipped inside
scikit-learn, so nothing is downloaded) is the book's small real data set.
:func:`load_digits_split` cuts it into training, validation and test parts with
the same share of every class in each part, and standardises the pixels with the
training part's statistics. The sizes of the parts depend on the fractions only,
never on the seed, so that one split per seed stacks into an ensemble's input
with :func:`~xenthelpers.training.sample_per_seed`.
"""

from __future__ import annotations

from functools import cache
from typing import NamedTuple

import torch

from .._validation import check_float_dtype, check_scalar

_NUM_CLASSES = 10  # the digits 0 to 9


class DigitsSplit(NamedTuple):
    """The three parts of :func:`load_digits_split`: standardised pixels and labels.

    ``x_*`` have shape ``(n_*, 64)``; ``y_*`` hold the digits ``0`` to ``9``, shape
    ``(n_*,)``, dtype ``torch.long``.

    Examples
    --------
    >>> split = load_digits_split(generator=torch.Generator().manual_seed(0))
    >>> [len(part) for part in split[1::2]]  # training, validation and test sizes
    [899, 359, 539]
    """

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_valid: torch.Tensor
    y_valid: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor


@cache
def _digits() -> tuple[torch.Tensor, torch.Tensor]:
    """The pixels (float64, 0 to 16) and labels of scikit-learn's digits, read once."""
    try:
        from sklearn.datasets import load_digits  # type: ignore[import-untyped]
    except ModuleNotFoundError as missing:  # the package alone does not install it
        raise ImportError(
            "xenthelpers.data.load_digits_split needs scikit-learn, which comes with the "
            "book's extra: pip install 'xenthelpers[book]' (or pip install scikit-learn)"
        ) from missing
    data = load_digits()
    return torch.from_numpy(data.data).double(), torch.from_numpy(data.target).long()


def load_digits_split(
    *,
    generator: torch.Generator,
    valid_fraction: float = 0.2,
    test_fraction: float = 0.3,
    dtype: torch.dtype | None = None,
    device: torch.device | str | None = None,
) -> DigitsSplit:
    r"""Split scikit-learn's digits by class into training, validation and test parts.

    Class :math:`k` has :math:`n_k` images (174 to 183). A random permutation of
    them, drawn from ``generator``, sends the first
    :math:`\lfloor f_{\text{test}}\, n_k + \tfrac12 \rfloor` to the test part,
    the next :math:`\lfloor f_{\text{valid}}\, n_k + \tfrac12 \rfloor` to the
    validation part and the rest to the training part (stratified sampling
    without replacement); each part is then shuffled. Every pixel :math:`j` is
    standardised with the mean :math:`\mu_j` and standard deviation
    :math:`\sigma_j` of the training part,

    .. math::

        \tilde x_j = \frac{x_j - \mu_j}{\sigma_j}
        \quad (\sigma_j > 0), \qquad
        \tilde x_j = x_j - \mu_j \quad (\sigma_j = 0),

    so no statistic of the validation or test part leaks into the inputs. The
    images come from the UCI optical recognition of handwritten digits data
    :cite:p:`alpaydin1998` as bundled by scikit-learn
    (``sklearn.datasets.load_digits``).

    Parameters
    ----------
    generator : torch.Generator
        A CPU generator: the only source of randomness, so the same seed gives the
        same split.
    valid_fraction : float, default 0.2
        Share of every class for the validation part, in ``[0, 1)``; 0 leaves it
        empty.
    test_fraction : float, default 0.3
        Share of every class for the test part, in ``[0, 1)``.
    dtype : torch.dtype, optional
        Floating-point type of the pixels (default: PyTorch's default dtype); the
        standardisation is computed in float64 and rounded once.
    device : torch.device or str, optional
        Where to put the tensors (default: the CPU).

    Returns
    -------
    DigitsSplit
        ``(x_train, y_train, x_valid, y_valid, x_test, y_test)``.

    Raises
    ------
    ImportError
        If scikit-learn, which holds the images, is not installed.
    ValueError
        If a fraction is outside ``[0, 1)``, if the two leave no training image
        of some class, if ``generator`` is not a ``torch.Generator`` or ``dtype``
        is not a floating-point type.

    References
    ----------
    :cite:t:`alpaydin1998`.

    Examples
    --------
    >>> split = load_digits_split(generator=torch.Generator().manual_seed(0))
    >>> split.x_train.shape, split.x_test.shape
    (torch.Size([899, 64]), torch.Size([539, 64]))
    >>> torch.bincount(split.y_test)
    tensor([53, 55, 53, 55, 54, 55, 54, 54, 52, 54])
    >>> pixel = split.x_train[:, 20].double()  # standardised on the training part
    >>> abs(pixel.mean().item()) < 1e-6, abs(pixel.std(correction=0).item() - 1) < 1e-6
    (True, True)

    One split per seed, stacked for an ensemble of networks:

    >>> from xenthelpers import sample_per_seed
    >>> parts = sample_per_seed(lambda g: load_digits_split(generator=g), range(3))
    >>> parts.x_train.shape, parts.y_train.shape
    (torch.Size([899, 3, 64]), torch.Size([899, 3]))
    """
    if not isinstance(generator, torch.Generator):
        raise ValueError(f"`generator` must be a torch.Generator, got {type(generator).__name__}")
    check_scalar(valid_fraction, "valid_fraction", min_val=0.0, max_val=1.0, include_max=False)
    check_scalar(test_fraction, "test_fraction", min_val=0.0, max_val=1.0, include_max=False)
    dtype = check_float_dtype(dtype)
    pixels, labels = _digits()
    parts: list[list[torch.Tensor]] = [[], [], []]  # training, validation, test
    for digit in range(_NUM_CLASSES):
        members = torch.nonzero(labels == digit).squeeze(1)
        count = len(members)
        num_test = int(test_fraction * count + 0.5)
        num_valid = int(valid_fraction * count + 0.5)
        if num_test + num_valid >= count:
            raise ValueError(
                f"`valid_fraction` ({valid_fraction}) and `test_fraction` ({test_fraction}) "
                f"leave no training image of digit {digit} ({count} images)"
            )
        members = members[torch.randperm(count, generator=generator)]
        parts[2].append(members[:num_test])
        parts[1].append(members[num_test : num_test + num_valid])
        parts[0].append(members[num_test + num_valid :])
    rows = [torch.cat(part) for part in parts]
    rows = [part[torch.randperm(len(part), generator=generator)] for part in rows]
    train = pixels[rows[0]]
    mean, sd = train.mean(0), train.std(0, correction=0)
    sd = torch.where(sd > 0, sd, torch.ones_like(sd))
    out: list[torch.Tensor] = []
    for part in rows:
        out.append(((pixels[part] - mean) / sd).to(dtype=dtype, device=device))
        out.append(labels[part].to(device))
    return DigitsSplit(*out)
