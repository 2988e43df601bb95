"""Precedence of evidence, in one place. Higher wins; see docs/detection.md.

The order follows what users mean, not which file we happened to read first:
an explicit choice beats a version file, which beats a manifest pin, which beats
what a lockfile implies, which beats a container image, which beats a floor.
"""

OVERRIDE = 100  # zagi init --with TOOL@VERSION
TOOL_MANAGER = 90  # .tool-versions, mise.toml: the user's tool manager says so
MIGRATION = 85  # devbox.json, nixpacks.toml: another env tool's explicit list
VERSION_FILE = 80  # .nvmrc, .python-version, rust-toolchain.toml, .go-version, ...
MANIFEST_PIN = 70  # packageManager, go.mod toolchain, Gemfile ruby, runtime.txt, ...
LOCKFILE = 60  # what a lockfile's format version or header implies
CI = 55  # what CI installs: setup-node node-version, setup-python, ... (detectors/ci.py)
CONTAINER = 50  # Dockerfile FROM, devcontainer image/features, CI service images
MANIFEST_FLOOR = 30  # engines.node, requires-python, rust-version, ...
VAGUE_IMAGE = 28  # a major-only image tag (python:3, oven/bun:1): weaker than a floor
DERIVED_FLOOR = 25  # a floor derived from something else (Cargo edition)
DEFAULT = 0  # nothing pinned: the documented default

# Services: a compose image is the project's own statement of what it runs.
COMPOSE = 90
ORM_CONFIG = 70  # Prisma datasource, Rails database.yml, Django ENGINE, DB_CONNECTION
CI_SERVICE = 60  # CI workflow services: images
URL_SCHEME = 50  # DATABASE_URL / REDIS_URL in example env files or compose environment
