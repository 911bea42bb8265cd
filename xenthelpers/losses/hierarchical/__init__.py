r"""A softmax over the leaves of a tree, factorised into local softmaxes along the paths.

A :class:`Taxonomy` describes a rooted tree whose leaves are the classes. Every
internal node is a *decision*: it owns one logit per child, and a softmax over
those logits gives the probability of descending into each child. The
probability of a leaf is the product of the local probabilities on the path
from the root to it, so that its negative log is a sum of local cross-entropies
:cite:p:`goodman2001,morin2005`:

.. math::

    -\log P(\text{leaf } y \mid x)
    = \sum_{(v, c) \in \operatorname{path}(y)} -\log \operatorname{softmax}(z_v)_c ,

where :math:`z_v` holds the logits of the children of decision node :math:`v`
and :math:`c` is the child that the path takes. One idea per module:

- :mod:`.taxonomy`: :class:`Taxonomy`, the tree, with the index tensors the
  losses need;
- :mod:`.loss`: :func:`hierarchical_cross_entropy` (the loss, from a full
  vector of logits), :func:`leaf_log_probs` (the log-probability of every leaf,
  for prediction) and :class:`HierarchicalCrossEntropyLoss` (its module);
- :mod:`.output_layer`: :class:`HierarchicalSoftmax`, an output layer that
  computes, for the loss, only the logits of the decisions on each example's
  path, so that its cost grows with the depth of the tree rather than with the
  number of leaves.
"""

from .loss import HierarchicalCrossEntropyLoss, hierarchical_cross_entropy, leaf_log_probs
from .output_layer import HierarchicalSoftmax
from .taxonomy import Taxonomy

__all__ = [
    "Taxonomy",
    "hierarchical_cross_entropy",
    "leaf_log_probs",
    "HierarchicalCrossEntropyLoss",
    "HierarchicalSoftmax",
]
