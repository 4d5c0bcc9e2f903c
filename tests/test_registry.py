"""The version registry (versions.toml) and everything made from it agree.

A version added to the registry without a test row, a remote layout, or the README's table
regenerated fails here, on every row.
"""

from __future__ import annotations

import importlib.metadata
import sys
from pathlib import Path

import pytest

from framescope import _caps
from framescope import _remote

TREE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(TREE / "tools"))
import registry  # noqa: E402

REG = registry.load()


def test_running_interpreter_is_supported():
    assert REG.first <= sys.version_info[1] <= REG.last
    assert _caps.FIRST == (3, REG.first) and _caps.LAST == (3, REG.last)
    assert _caps.FAMILY == REG.version(sys.version_info[1]).family


def test_caps_module_is_the_registry_for_this_interpreter():
    minor = sys.version_info[1]
    assert set(_caps.RANGES) == {c.key for c in REG.capabilities}
    for cap in REG.capabilities:
        assert getattr(_caps, cap.key) is cap.holds(minor), cap.key
    # At least one capability differs between any two supported versions that the core builds
    # for differently; otherwise the registry would say nothing about them.
    assert any(getattr(_caps, c.key) for c in REG.capabilities)


def test_every_version_has_a_test_row_and_a_remote_layout():
    for v in REG.versions:
        assert any(r.version == v.minor and not r.sanitize for r in REG.rows), v.name
        layout = _remote.layout(v.minor)
        assert layout, f"the remote reader has no layout for {v.name}"
        assert layout["frame_previous"] >= 0, v.name
    assert not _remote.layout(REG.first - 1)
    assert not _remote.layout(REG.last + 1)


def test_readme_table_is_current():
    text = (TREE / "README.md").read_text()
    assert registry.readme_with_table(REG, text) == text, (
        "README.md's generated tables (versions, wheels) are stale: run tools/registry.py readme --write")


def test_package_metadata_comes_from_the_registry():
    meta = importlib.metadata.metadata("framescope")
    # The order of the specifiers is the build backend's choice.
    specifiers = {s.strip() for s in meta["Requires-Python"].split(",")}
    assert specifiers == {f">=3.{REG.first}", f"<3.{REG.last + 1}"}
    classifiers = meta.get_all("Classifier") or []
    for v in REG.versions:
        assert f"Programming Language :: Python :: {v.name}" in classifiers
    assert "Programming Language :: Python :: Implementation :: CPython" in classifiers


def test_package_version_is_written_once():
    # framescope/__init__.py's __version__ is the version; pyproject.toml takes it from there.
    import framescope
    assert importlib.metadata.version("framescope") == framescope.__version__
    pyproject = (TREE / "pyproject.toml").read_text()
    assert "\nversion =" not in pyproject.split("[tool.")[0], "pyproject.toml states a version"
    assert '"version"' in pyproject.split("[tool.")[0]


def test_wheel_rows_cover_every_version_once():
    tags = [r.abi_tag for r in REG.wheel_rows]
    assert len(tags) == len(set(tags))
    for v in REG.versions:
        assert f"cp3{v.minor}" in tags, v.name
    assert all(not r.sanitize for r in REG.wheel_rows)
    assert any(r.debug and r.abi_tag.endswith("d") for r in REG.wheel_rows)


@pytest.mark.parametrize("text, error", [
    ('[versions."3.10"]\nfamily="a"\nframe="b"\nlayouts="compiled"\n'
     '[versions."3.12"]\nfamily="a"\nframe="b"\nlayouts="compiled"\n', "consecutive"),
    ('[versions."3.10"]\nfamily="a"\nframe="b"\nlayouts="compiled"\n', "no test row"),
    ('[versions."3.10"]\nfamily="a"\nframe="b"\nlayouts="somewhere"\n', "layouts"),
    ('[versions."3.10"]\nfamily="a"\nframe="b"\nlayouts="compiled"\n'
     '[versions."3.11"]\nfamily="a"\nframe="b"\nlayouts="compiled"\n'
     '[capabilities.HAS_X]\nsince="3.11"\n', "say why"),
    ('[versions."3.10"]\nfamily="a"\nframe="b"\nlayouts="compiled"\n'
     '[versions."3.11"]\nfamily="a"\nframe="b"\nlayouts="compiled"\n'
     '[capabilities.HAS_X]\nsince="3.12"\nwhy="w"\n', "not a range"),
    ('[versions."3.10"]\nfamily="a"\nframe="b"\nlayouts="compiled"\n'
     '[versions."3.11"]\nfamily="a"\nframe="b"\nlayouts="debug-offsets"\n'
     '[capabilities.HAS_DEBUG_OFFSETS]\nsince="3.11"\nwhy="w"\n', "follows from"),
    ('[versions."3.10"]\nfamily="a"\nframe="b"\nlayouts="debug-offsets"\n'
     '[versions."3.11"]\nfamily="a"\nframe="b"\nlayouts="compiled"\n', "every later one"),
    ('[versions."3.10"]\nfamily="a"\nframe="b"\nlayouts="compiled"\n'
     '[[rows]]\nname="a"\nversion="3.10"\nsource="pyenv"\npython="3.10."\n'
     '[[rows]]\nname="b"\nversion="3.10"\nsource="pyenv"\npython="3.10.1"\n', "wheel = false"),
    ('[versions."3.10"]\nfamily="a"\nframe="b"\nlayouts="compiled"\n'
     '[[rows]]\nname="a"\nversion="3.10"\nsource="pyenv"\npython="3.10."\nwheel=false\n',
     "no wheel for 3.10"),
    ('[versions."3.10"]\nfamily="a"\nframe="b"\nlayouts="compiled"\n'
     '[[rows]]\nname="a"\nversion="3.10"\nsource="debian"\npython="python3.10"\n',
     "runtime_packages"),
])
def test_registry_refuses_inconsistent_entries(tmp_path, text, error):
    path = tmp_path / "versions.toml"
    path.write_text(text)
    with pytest.raises(registry.RegistryError, match=error):
        registry.load(path)


def test_generated_header_states_each_capability_once():
    text = registry.header(REG)
    for cap in REG.capabilities:
        assert text.count(f"#define FS_{cap.key} ") == 1, cap.key
    assert f"#define FS_FIRST_MINOR {REG.first}" in text
