"""The Dockerfile grammar zagi reads, pinned (detectors/docker.py parse): no library
parses Dockerfiles in Python as BuildKit does, so these cases are the specification."""

from __future__ import annotations

from detectors.docker import parse


def cmds(text: str) -> list[tuple[int, str, str]]:
    return [(i.line, i.cmd, i.args) for i in parse(text)]


def test_continuations_join_and_comments_inside_them_are_dropped() -> None:
    text = "FROM node:20\nRUN apt-get install \\\n# a comment\n    libpq-dev \\\n    curl\nENV A=1\n"
    assert cmds(text) == [(1, "FROM", "node:20"),
                          (2, "RUN", "apt-get install  libpq-dev  curl"),
                          (6, "ENV", "A=1")]


def test_the_escape_directive_changes_the_continuation_character() -> None:
    text = "# escape=`\nFROM mcr.microsoft.com/windows\nRUN dir `\n  c:\\\nCMD x\n"
    assert [c[1] for c in cmds(text)] == ["FROM", "RUN", "CMD"]


def test_a_heredoc_body_is_skipped_to_its_delimiter() -> None:
    text = "FROM python:3.12\nRUN <<EOF\napt-get install -y vim\nEOF\nFROM node:20\n"
    assert [(c[1], c[2]) for c in cmds(text)] == [("FROM", "python:3.12"), ("RUN", "<<EOF"),
                                                  ("FROM", "node:20")]
    quoted = "FROM x\nCOPY <<-\"END\" /etc/conf\nkey=value\nEND\nFROM node:22\n"
    assert cmds(quoted)[-1][2] == "node:22"


def test_shell_arithmetic_is_not_a_heredoc() -> None:
    text = "FROM debian:12\nRUN echo $((1<<2)) > /f\nFROM node:20\n"
    assert cmds(text)[-1] == (3, "FROM", "node:20")


def test_instructions_are_case_insensitive_and_blank_lines_ignored() -> None:
    assert cmds("\n\nfrom node:20 AS build\n\nrun make\n") == [(3, "FROM", "node:20 AS build"),
                                                              (5, "RUN", "make")]
