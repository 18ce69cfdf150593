#!/usr/bin/env python3
"""deploy/docker/Dockerfile, checked offline (no image is built here: that
needs a Docker daemon and the network; with a daemon, run
`docker build -f deploy/docker/Dockerfile .` yourself):
  - it parses (instructions, continuations, stages) and has the promised
    shape: a Debian 12 build stage that runs scripts/install-deps.sh and
    scripts/build.sh, a Debian 12 runtime stage that copies the three binaries
    from it and runs as a non-root user;
  - the runtime stage installs the Debian package of every shared library the
    binaries of this build link (ldd + dpkg -S), minus the base image's own;
  - the build stage's `scripts/build.sh` flags configure (cmake, into a scratch
    directory) and make the three binaries at the paths the stage copies;
  - a broken copy (root user, a missing library package) is refused.
Usage: docker_test.py SOURCE_DIR BUILD_DIR. Exit 77 (skip) without ldd/dpkg."""
import re
import shutil
import subprocess
import sys

BASE_PACKAGES = {"libc6", "libgcc-s1", "libstdc++6", "zlib1g"}  # in debian:12-slim already
BINARIES = ["switchyard", "switchyard-registrar", "switchyard-tunnel"]


def instructions(text):
    """[(KEYWORD, args)] with continuation lines joined, comments dropped."""
    out, current = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if current and stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        current += stripped
        keyword, _, args = current.partition(" ")
        out.append((keyword.upper(), args.strip()))
        current = ""
    if current:
        raise ValueError("dangling continuation at the end")
    return out


def stages(instrs):
    result = []
    for keyword, args in instrs:
        if keyword == "FROM":
            m = re.fullmatch(r"(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?", args, re.I)
            if not m:
                raise ValueError(f"bad FROM: {args}")
            result.append({"image": m.group(1), "name": m.group(2), "instrs": []})
        elif not result:
            if keyword != "ARG":
                raise ValueError(f"{keyword} before the first FROM")
        else:
            result[-1]["instrs"].append((keyword, args))
    return result


KNOWN = {"FROM", "RUN", "COPY", "ADD", "WORKDIR", "USER", "EXPOSE", "ENV", "ARG", "ENTRYPOINT", "CMD",
         "STOPSIGNAL", "LABEL", "HEALTHCHECK", "VOLUME", "SHELL", "ONBUILD"}


def check(text, needed_packages):
    """Problems found in a Dockerfile's text (empty = fine)."""
    problems = []
    try:
        instrs = instructions(text)
        st = stages(instrs)
    except ValueError as e:
        return [f"does not parse: {e}"]
    for keyword, _ in instrs:
        if keyword not in KNOWN:
            problems.append(f"unknown instruction {keyword}")
    if len(st) < 2:
        return problems + ["not multi-stage"]
    build, runtime = st[0], st[-1]
    if not re.fullmatch(r"debian:12(-slim)?", build["image"]) or not re.fullmatch(r"debian:12(-slim)?", runtime["image"]):
        problems.append(f"stages not on Debian 12: {build['image']}, {runtime['image']}")
    build_runs = " ".join(a for k, a in build["instrs"] if k == "RUN")
    for script in ("scripts/install-deps.sh", "scripts/build.sh"):
        if script not in build_runs:
            problems.append(f"build stage does not run {script}")
    copies = [a for k, a in runtime["instrs"] if k == "COPY" and f"--from={build['name']}" in a]
    if not copies:
        problems.append("runtime stage copies nothing from the build stage")
    build_install = " ".join(a for k, a in build["instrs"] if k == "RUN")
    for b in BINARIES:
        if b not in build_install:
            problems.append(f"binary {b} not taken out of the build")
    users = [a for k, a in runtime["instrs"] if k == "USER"]
    if not users:
        problems.append("runtime stage runs as root (no USER)")
    elif users[-1].split(":")[0] in ("root", "0"):
        problems.append(f"runtime stage runs as root (USER {users[-1]})")
    runtime_runs = " ".join(a for k, a in runtime["instrs"] if k == "RUN")
    installed = set(re.findall(r"[a-z0-9][a-z0-9.+-]+", runtime_runs.split("install", 1)[-1])) if "apt-get install" in runtime_runs else set()
    for pkg in sorted(needed_packages):
        if pkg not in installed:
            problems.append(f"runtime stage lacks package {pkg}")
    return problems


def needed_packages(build_dir):
    libs = set()
    for b in BINARIES:
        out = subprocess.run(["ldd", f"{build_dir}/{b}"], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            m = re.search(r"=>\s+(/\S+)", line)
            if m:
                libs.add(m.group(1))
    pkgs = set()
    for lib in libs:
        r = subprocess.run(["dpkg", "-S", lib], capture_output=True, text=True)
        if r.returncode != 0:  # /lib vs /usr/lib (merged /usr)
            r = subprocess.run(["dpkg", "-S", lib.replace("/lib/", "/usr/lib/", 1)], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"no Debian package owns {lib}")
        pkgs.add(r.stdout.split(":")[0])
    return pkgs - BASE_PACKAGES


def main():
    src, build_dir = sys.argv[1], sys.argv[2]
    if not shutil.which("ldd") or not shutil.which("dpkg"):
        print("SKIP: ldd/dpkg missing")
        return 77
    text = open(f"{src}/deploy/docker/Dockerfile").read()
    pkgs = needed_packages(build_dir)
    print(f"docker_test: the binaries need {', '.join(sorted(pkgs))} (+ the base image's libc, libstdc++)")
    fail = 0
    problems = check(text, pkgs)
    for p in problems:
        print(f"docker_test: FAIL: {p}")
    fail |= bool(problems)
    if not problems:
        print("docker_test: Dockerfile parses, multi-stage, Debian 12, project scripts, non-root, libraries covered")
    broken = {
        "root user": text.replace("USER 10001:10001", "USER root"),
        "missing library": text.replace("libyaml-cpp0.7 ", ""),
        "not the project's build": text.replace("bash scripts/build.sh", "cmake --build build"),
    }
    for name, copy in broken.items():
        if copy == text:
            print(f"docker_test: FAIL: broken copy ({name}) is unchanged")
            fail = 1
        elif not check(copy, pkgs):
            print(f"docker_test: FAIL: broken copy ({name}) passed")
            fail = 1
        else:
            print(f"docker_test: broken copy refused ({name}): {check(copy, pkgs)[0]}")
    # The build stage's configure step, for real (no compiling): its flags
    # must configure and the binaries it copies must be targets.
    m = re.search(r"bash scripts/build\.sh((?:\s+-D\S+)*)", text)
    if not m or not shutil.which("cmake") or not shutil.which("ninja"):
        print("docker_test: FAIL: no scripts/build.sh flags found, or no cmake/ninja to check them")
        fail = 1
    else:
        import tempfile
        with tempfile.TemporaryDirectory() as scratch:
            flags = m.group(1).split()
            r = subprocess.run(["cmake", "-S", src, "-B", scratch, "-G", "Ninja", *flags], capture_output=True, text=True)
            targets = subprocess.run(["ninja", "-C", scratch, "-t", "targets", "all"], capture_output=True,
                                     text=True).stdout if r.returncode == 0 else ""
            missing = [b for b in BINARIES if f"\n{b}: " not in "\n" + targets]
            if r.returncode != 0 or missing:
                print(f"docker_test: FAIL: cmake {' '.join(flags)}: rc {r.returncode}, missing {missing}\n{r.stderr[-2000:]}")
                fail = 1
            else:
                print(f"docker_test: the build stage's configure ({' '.join(flags)}) makes {', '.join(BINARIES)}")
    r = subprocess.run(["docker", "info"], capture_output=True, text=True) if shutil.which("docker") else None
    if r is None or r.returncode != 0:
        print("docker_test: no Docker daemon here: the image itself was not built")
    return fail


if __name__ == "__main__":
    sys.exit(main())
