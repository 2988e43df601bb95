"""The mirror bot (not built yet): it will clone, infer, lock and publish other people's
repositories, above the use-cases and below the CLI."""

__all__: list[str] = []
