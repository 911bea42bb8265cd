"""crowds."""

__all__: list[str] = []
