"""Sparse count matrices that turn EM's scatter-adds over annotations into products."""

from __future__ import annotations

import warnings

import torch

_INT32_LIMIT = 2**31 - 1


def count_matrix(
    rows: torch.Tensor, columns: torch.Tensor, num_rows: int, num_columns: int
) -> torch.Tensor:
    """``(num_rows, num_columns)`` CSR float64 matrix counting the pairs ``(rows[a], columns[a])``.

    Multiplying it by a dense matrix sums, for every row id, the dense rows of all
    its annotations: a gather followed by a scatter-add, done by one sparse kernel.
    """
    # int32 keys sort about twice as fast and are the index type sparse BLAS takes natively.
    fits_int32 = num_rows * num_columns <= _INT32_LIMIT
    index_dtype = torch.int32 if fits_int32 else torch.int64
    keys = (rows * num_columns + columns).to(index_dtype)
    keys, counts = torch.unique_consecutive(torch.sort(keys).values, return_counts=True)
    row_ids = torch.div(keys, num_columns, rounding_mode="floor")
    column_ids = keys - row_ids * num_columns
    row_ends = torch.bincount(row_ids, minlength=num_rows).cumsum(0).to(index_dtype)
    crow_indices = torch.cat([row_ends.new_zeros(1), row_ends])
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return torch.sparse_csr_tensor(
            crow_indices,
            column_ids,
            counts.to(torch.float64),
            (num_rows, num_columns),
            check_invariants=False,
        )
