"""Java with Gradle or Maven: .java-version, .sdkmanrc, wrappers, toolchains, pom.xml."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from detectors import rank
from detectors.base import Ctx
from detectors.common import clean_version
from detectors.text import first_value_line, line_of

FILES = frozenset({
    "pom.xml", "build.gradle", "build.gradle.kts", "settings.gradle", "settings.gradle.kts",
    "gradlew", ".java-version", ".sdkmanrc", "mvnw",
})  # fmt: skip
GRADLE_WRAPPER = "gradle/wrapper/gradle-wrapper.properties"
MAVEN_WRAPPER = ".mvn/wrapper/maven-wrapper.properties"


def _java_major(raw: str) -> str | None:
    """'21.0.2-tem' / '1.8' / 'temurin-17.0.9+9' -> a java request."""
    m = re.search(r"(\d+(?:\.\d+)*)", raw)
    if not m:
        return None
    v = m.group(1)
    return v[2:] if v.startswith("1.") and len(v) > 2 else v  # 1.8 -> 8


def detect(ctx: Ctx) -> None:
    if not ctx.names & FILES:
        return
    for f in sorted(ctx.names & FILES):
        ctx.mark("java", f)
    pinned = _version_files(ctx)
    pinned |= _gradle(ctx)
    pinned |= _maven(ctx)
    if not pinned:
        ctx.default("java", sorted(ctx.names & FILES)[0], "JVM project; no java version stated")


def _version_files(ctx: Ctx) -> bool:
    if ".java-version" in ctx.names and (text := ctx.text(".java-version")):
        first = first_value_line(text)
        if first and (v := _java_major(first[0])):
            ctx.tool("java", v, "pin", ".java-version", first[1], ".java-version",
                     rank.VERSION_FILE)
            return True
    if ".sdkmanrc" in ctx.names and (text := ctx.text(".sdkmanrc")):
        found = False
        for n, line in enumerate(text.splitlines(), start=1):
            m = re.match(r"^\s*(java|gradle|maven)\s*=\s*(\S+)", line)
            if m:
                v = _java_major(m.group(2)) if m.group(1) == "java" else clean_version(m.group(2))
                if v:
                    ctx.tool(m.group(1), v, "pin", ".sdkmanrc", n, f".sdkmanrc {m.group(1)}",
                             rank.VERSION_FILE)
                    found |= m.group(1) == "java"
        return found
    return False


def _gradle(ctx: Ctx) -> bool:
    gradle = ctx.names & {"build.gradle", "build.gradle.kts", "settings.gradle",
                          "settings.gradle.kts", "gradlew"}
    if not gradle:
        return False
    if props := ctx.text(GRADLE_WRAPPER):
        m = re.search(r"^distributionUrl=.*gradle-(\d+(?:\.\d+)*)-(?:bin|all)\.zip", props, re.M)
        if m:
            # ./gradlew downloads exactly that release; the env's gradle is the same major
            # (for `gradle` typed by hand and for IDEs), not a second copy of the pin
            ctx.tool("gradle", m.group(1).split(".")[0], "pin", GRADLE_WRAPPER,
                     props.count("\n", 0, m.start()) + 1,
                     f"gradle wrapper distributionUrl {m.group(1)} (./gradlew fetches it)",
                     rank.MANIFEST_PIN)
    else:
        ctx.default("gradle", sorted(gradle)[0], "Gradle build; no wrapper version")
    for name in ("build.gradle.kts", "build.gradle"):
        text = ctx.text(name) if name in ctx.names else None
        if not text:
            continue
        pat = r"languageVersion(?:\.set\(|\s*=\s*)\s*JavaLanguageVersion\.of\((\d+)\)"
        if m := re.search(pat, text):
            ctx.tool("java", m.group(1), "pin", name, line_of(text, re.escape(m.group(0))),
                     "Gradle java toolchain languageVersion", rank.MANIFEST_PIN)
            return True
    return False


def _maven(ctx: Ctx) -> bool:
    if "pom.xml" not in ctx.names:
        return False
    if props := ctx.text(MAVEN_WRAPPER):
        m = re.search(r"apache-maven-(\d+(?:\.\d+)*)-bin", props)
        if m:
            ctx.tool("maven", m.group(1), "pin", MAVEN_WRAPPER, props.count("\n", 0, m.start()) + 1,
                     "maven wrapper distributionUrl", rank.MANIFEST_PIN)
    else:
        ctx.default("maven", "pom.xml", "pom.xml present")
    text = ctx.text("pom.xml")
    if not text:
        return False
    try:
        root = ET.fromstring(text)  # noqa: S314 - bounded read; expat refuses entity bombs
    except ET.ParseError as exc:
        ctx.warn(f"{ctx.rel('pom.xml')}:{exc.position[0]}: invalid XML; ignored")
        return False
    ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    props_el = root.find(f"{ns}properties")
    if props_el is None:
        return False
    for key in ("maven.compiler.release", "java.version", "maven.compiler.source"):
        el = props_el.find(f"{ns}{key}")
        if el is not None and el.text and (v := _java_major(el.text)):
            ctx.tool("java", v, "pin", "pom.xml", line_of(text, re.escape(f"<{key}>")),
                     f"pom.xml <{key}>", rank.MANIFEST_PIN - 1)
            return True
    return False
