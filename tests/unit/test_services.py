"""Services and tasks without servers: what env.toml may say, what init proposes, the
ports and directories zagi picks, the supervisor's config and its RPC answers."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detectors import infer
from zagi.core import layout
from zagi.core.errors import BadInput
from zagi.formats import spec
from zagi.services import declared, rpc
from zagi.services.manage import ServiceError, private_dir
from zagi.services.supervise import Program, Supervisor, render


def test_service_table_form_and_its_checks() -> None:
    s = spec.parse_text('[services]\npostgres = { version = "16", port = 5544, database = "app", '
                        'user = "me" }\nredis = "7"\n', "env.toml")
    assert s.service("postgres") == spec.ServiceSpec(version="16", port=5544, database="app",
                                                     user="me")
    assert s.service("redis").version == "7" and s.service("redis").port is None
    for bad, where, what in [
        ('[services]\npostgres = { version = "16", prt = 1 }\n', 2, 'did you mean "port"'),
        ('[services]\npostgres = { port = 80 }\n', 2, "greater than or equal to 1024"),
        ('[services]\npostgres = { database = "a;drop" }\n', 2, "database identifier"),
        ('[services]\npostgress = "16"\n', 2, 'did you mean "postgres"'),
    ]:
        with pytest.raises(BadInput, match=what) as err:
            spec.parse_text(bad, "env.toml")
        assert err.value.line == where


def test_how_a_service_is_reached_is_not_part_of_the_env() -> None:
    from zagi.env.lock import spec_hash

    bare = spec.parse_text('[services]\nredis = "7"\n', "env.toml")
    table = spec.parse_text('[services]\nredis = { version = "7", port = 6400 }\n'
                            '[tasks]\ntest = "pytest"\n[project]\nname = "x"\nautostart = true\n',
                            "env.toml")
    assert spec_hash(bare) == spec_hash(table)  # no relock for a port, a task or autostart
    other = spec.parse_text('[services]\nredis = "6"\n', "env.toml")
    assert spec_hash(other) != spec_hash(bare)


def test_tasks_are_checked() -> None:
    s = spec.parse_text('[tasks]\ntest = "pytest -q"\n"lint:js" = { run = "eslint .", '
                        'needs = ["postgres"], cwd = "web", env = { CI = "1" } }\n', "env.toml")
    assert s.task("test").run == "pytest -q"
    assert s.task("lint:js").needs == ["postgres"] and s.task("lint:js").cwd == "web"
    for bad, what in [('[tasks]\nx = { run = "a", cwd = "../up" }\n', "inside the project"),
                      ('[tasks]\nx = { run = "a", cwd = "/etc" }\n', "inside the project"),
                      ('[tasks]\nx = { run = "a", env = { LD_PRELOAD = "x" } }\n', "LD_PRELOAD"),
                      ('[tasks]\nx = { run = "" }\n', "at least 1 character"),
                      ('[tasks]\nx = { command = "a" }\n', 'expected one of: run')]:
        with pytest.raises(BadInput, match=what):
            spec.parse_text(bad, "env.toml")


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["version", "port", "database", "user", "run", "needs"]),
                       st.one_of(st.text(max_size=20), st.integers(-5, 70000),
                                 st.lists(st.text(max_size=5), max_size=3)), max_size=4))
def test_random_service_and_task_tables_are_bad_input_or_valid(table: dict[str, object]) -> None:
    import tomlkit

    for section, name in (("services", "postgres"), ("tasks", "t")):
        text = tomlkit.dumps({section: {name: table}})
        try:
            spec.parse_text(text, "env.toml")
        except BadInput as err:
            assert err.file == "env.toml"


def test_init_proposes_the_tasks_a_repo_declares(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text(json.dumps(
        {"name": "shop", "packageManager": "pnpm@9.1.0",
         "scripts": {"test": "vitest", "pretest": "tsc", "build": "vite build",
                     "lint:js": "eslint ."}}, indent=2))
    (tmp_path / "Makefile").write_text(".PHONY: test deploy\ntest:\n\tgo test ./...\n"
                                       "deploy:\n\t./ship\nfile.o: file.c\n")
    (tmp_path / "justfile").write_text("set shell := [\"bash\"]\nfmt:\n  gofmt\n_hidden:\n  x\n"
                                       "release version:\n  echo {{version}}\n")
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "shop"\n'
                                             '[project.scripts]\nshopctl = "shop.cli:main"\n')
    tasks = infer(tmp_path).tasks
    assert {n: c.value for n, c in tasks.items()} == {
        "test": "pnpm run test", "build": "pnpm run build", "lint:js": "pnpm run lint:js",
        "deploy": "make deploy", "fmt": "just fmt", "release": "just release",
        "shopctl": "shopctl"}
    assert tasks["test"].evidence[0].file == "package.json" and tasks["test"].evidence[0].line == 5
    assert [e.file for e in tasks["test"].evidence] == ["package.json", "Makefile"]
    assert tasks["deploy"].evidence[0].line == 1
    from zagi.project.init import render

    text = render(infer(tmp_path))
    parsed = spec.parse_text(text, "env.toml")  # what init writes is a valid env.toml
    assert parsed.task("test").run == "pnpm run test"
    assert 'test = "pnpm run test" # package.json:5 script test: vitest' in text


def test_compose_database_and_user_become_the_services_table(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(
        "services:\n  db:\n    image: mariadb:10.11\n    environment:\n"
        "      - MARIADB_DATABASE=blog\n      - MARIADB_USER=writer\n"
        "  cache:\n    image: redis:7\n    environment:\n      REDIS_ARGS: ${ARGS}\n")
    report = infer(tmp_path)
    assert report.services["mariadb"].extra == {"database": ["blog"], "user": ["writer"]}
    assert not report.services["redis"].extra
    from zagi.project.init import render

    s = spec.parse_text(render(report), "env.toml")
    assert s.service("mariadb") == spec.ServiceSpec(version="10.11", database="blog",
                                                    user="writer")


def _project(tmp_path: Path, name: str, text: str) -> layout.Project:
    root = tmp_path / name
    (root / ".zagi").mkdir(parents=True)
    (root / ".zagi" / "env.toml").write_text(text)
    return layout.Project(root)


def test_ports_are_stable_per_project_and_never_shared(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZAGI_SERVICES_HOME", str(tmp_path / "state"))
    text = '[services]\npostgres = "15"\nredis = "7"\n'
    a, b = _project(tmp_path, "a", text), _project(tmp_path, "b", text)
    pa = declared.ports(a, spec.parse_text(text, "env.toml"))
    pb = declared.ports(b, spec.parse_text(text, "env.toml"))
    assert len({*pa.values(), *pb.values()}) == 4  # four servers, four ports
    assert declared.ports(a, spec.parse_text(text, "env.toml")) == pa  # the same next time
    fixed = '[services]\npostgres = { version = "15", port = 6543 }\nredis = "7"\n'
    assert declared.ports(a, spec.parse_text(fixed, "env.toml"))["postgres"] == 6543


def test_connection_variables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZAGI_SERVICES_HOME", str(tmp_path / "state"))
    text = ('[project]\nname = "My-Shop"\n[services]\npostgres = { version = "15", port = 6543 }\n'
            'redis = { version = "7", port = 6544 }\n[env]\nREDIS_URL = "redis://elsewhere"\n')
    p = _project(tmp_path, "p", text)
    env = declared.connection_env(p, declared.resolve(p, spec.parse_text(text, "env.toml")))
    assert env["DATABASE_URL"] == env["POSTGRES_URL"] == "postgresql://my_shop@127.0.0.1:6543/my_shop"
    assert env["PGPORT"] == "6543" and env["PGDATABASE"] == "my_shop"
    assert len(env["PGHOST"] + "/.s.PGSQL.6543") < 107  # the unix socket path limit
    assert "REDIS_URL" not in env  # [env] wins
    two = ('[services]\npostgres = { version = "15", port = 6543 }\n'
           'mariadb = { version = "10.11", port = 6545 }\n')
    p2 = _project(tmp_path, "p2", two)
    env2 = declared.connection_env(p2, declared.resolve(p2, spec.parse_text(two, "env.toml")))
    assert "DATABASE_URL" not in env2  # two SQL databases: which one is the app's is unknown
    assert env2["MYSQL_UNIX_PORT"].endswith("/mariadb/mysqld.sock")


def test_select_says_what_exists(tmp_path: Path) -> None:
    decl = declared.Declared(["postgres", "kafka"], {"postgres": declared.Service("15", 1, "a", "a")})
    with pytest.raises(BadInput, match='did you mean "postgres"'):
        declared.select(decl, ["postgre"])
    with pytest.raises(BadInput, match="zagi cannot run kafka yet"):
        declared.select(decl, ["kafka"])
    assert declared.select(decl, ["postgres"]) == ["postgres"]
    with pytest.raises(BadInput, match="zagi cannot run kafka yet"):
        declared.select(decl, None)  # all of them, and one zagi cannot run: said, not skipped
    with pytest.raises(BadInput, match="declares no services"):
        declared.select(declared.Declared([], {}), None)


def test_a_socket_directory_someone_else_prepared_is_refused(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    private_dir(mine, None)
    assert mine.stat().st_mode & 0o777 == 0o700
    loose = tmp_path / "loose"
    loose.mkdir(mode=0o777)
    loose.chmod(0o777)
    with pytest.raises(ServiceError, match="not a private directory"):
        private_dir(loose, None)
    link = tmp_path / "link"
    link.symlink_to(mine)
    with pytest.raises(ServiceError, match="not a private directory"):
        private_dir(link, None)
    if os.geteuid() == 0:  # someone else's directory (here: another user's) is refused too
        theirs = tmp_path / "theirs"
        theirs.mkdir(mode=0o700)
        os.chown(theirs, 65534, 65534)
        with pytest.raises(ServiceError, match="owner 65534"):
            private_dir(theirs, None)


def test_runtime_dir_is_short(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / ("x" * 200)))
    assert len(str(layout.runtime_dir())) < 40  # a long XDG_RUNTIME_DIR is not used


def test_supervisor_config_quotes_and_bounds(tmp_path: Path) -> None:
    sup = Supervisor(tmp_path, tmp_path / "s.sock")
    conf = render(sup, [Program("postgres", ["/nix/store/x/bin/postgres", "-D", "/a b/data"],
                                "INT", tmp_path / "pg.log", {"LANG": "C"}, "zagi-services")])
    assert "command=/nix/store/x/bin/postgres -D '/a b/data'" in conf
    for line in ("stopsignal=INT", "stopwaitsecs=20", "startretries=5", "autorestart=true",
                 "stdout_logfile_maxbytes=2MB", "user=zagi-services", "chmod=0700",
                 'environment=LANG="C"'):
        assert line in conf


def test_rpc_answers_are_decoded() -> None:
    xml = (b"<?xml version='1.0'?><methodResponse><params><param><value><array><data>"
           b"<value><struct><member><name>name</name><value><string>pg</string></value></member>"
           b"<member><name>pid</name><value><int>42</int></value></member>"
           b"<member><name>description</name><value>bare &amp; text</value></member>"
           b"</struct></value><value><boolean>1</boolean></value></data></array></value></param>"
           b"</params></methodResponse>")
    assert rpc._response(xml) == [{"name": "pg", "pid": 42, "description": "bare & text"}, True]
    fault = (b"<methodResponse><fault><value><struct><member><name>faultCode</name><value>"
             b"<int>60</int></value></member><member><name>faultString</name><value><string>"
             b"ALREADY_STARTED: pg</string></value></member></struct></value></fault>"
             b"</methodResponse>")
    with pytest.raises(rpc.Fault, match="ALREADY_STARTED") as err:
        rpc._response(fault)
    assert err.value.code == 60
    assert "<string>a &lt;b&gt; &amp;</string>" in rpc._param("a <b> &")


def test_a_reused_pid_is_never_stopped(tmp_path: Path) -> None:
    import subprocess

    from zagi.services import manage
    from zagi.services.declared import Place
    from zagi.services.kinds import Instance

    (tmp_path / "run").mkdir()
    other = subprocess.Popen(["sleep", "30"])
    try:
        inst = Instance("redis", "7", Path(), tmp_path / "d", tmp_path / "s", tmp_path / "run",
                        1, "a", "a")
        manage._record(inst, other.pid)
        rec = tmp_path / "run" / "redis.supervised"
        pid, started = rec.read_text().split()
        rec.write_text(f"{pid} {int(started) + 1}\n")  # the same pid, another process
        assert manage._recover(Place(tmp_path, tmp_path / "s")) == []
        assert other.poll() is None  # untouched
        manage._record(inst, other.pid)
        assert manage._recover(Place(tmp_path, tmp_path / "s")) == ["redis"]
        assert other.wait(timeout=5) is not None
    finally:
        other.kill()


def test_every_variable_a_service_sets_passes_the_activation_recheck(tmp_path: Path) -> None:
    from zagi.core.envnames import SERVICE_VARS
    from zagi.services.kinds import KINDS, Instance

    inst = Instance("x", "1", Path(), tmp_path, tmp_path, tmp_path, 1, "a", "a")
    for name, kind in KINDS.items():
        assert set(kind.env(inst)) <= SERVICE_VARS, name  # else the hooks would drop them
